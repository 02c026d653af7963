"""The statistics pages (B5), the dropout watch and the units overview: thin views that
build a page's tables for the user's scope (tables.py) and hand them to one template;
every table exports to xlsx through the audited service."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xueji.core.scope import Scope, scope_for
from xueji.stats import queries, services, tables

TITLES = {
    tables.STUDENTS: gettext_lazy("Students at school"),
    tables.CHANGES: gettext_lazy("Changes per semester"),
    tables.INTAKE: gettext_lazy("Intake progress"),
    tables.DROPOUT: gettext_lazy("Dropout watch"),
    tables.OVERVIEW: gettext_lazy("Units overview"),
}
URL_NAMES = {
    tables.STUDENTS: "stats_students",
    tables.CHANGES: "stats_changes",
    tables.INTAKE: "stats_intake",
    tables.DROPOUT: "stats_dropout",
    tables.OVERVIEW: "overview",
}
INTROS = {
    tables.STUDENTS: gettext_lazy(
        "Students at school in your scope today; suspended students, dropouts and "
        "pupils still in intake are not counted."
    ),
    tables.CHANGES: gettext_lazy(
        "Changes the bureau approved, counted in the semester their effective date falls in."
    ),
    tables.INTAKE: gettext_lazy("New pupils of the current school year, school by school."),
    tables.DROPOUT: gettext_lazy(
        "Students who may have left school without an approved change. Each list links to "
        "the student and to the request concerned."
    ),
    tables.OVERVIEW: gettext_lazy(
        "Units that lack a designated registrar (S1), a printer (E1) or a filed "
        "change-management plan (C9), and schools late in the reporting round (C8)."
    ),
}


def scope_label(scope: Scope) -> str:
    """What the numbers cover: the county, the township, or the school."""
    unit = scope.unit
    if unit is None:
        return ""
    if scope.level == scope.COUNTY:
        return unit.county.name
    if scope.level == scope.TOWNSHIP and unit.parent is not None:
        return _("%(township)s (the schools %(school)s supervises)") % {
            "township": unit.parent.name,
            "school": unit.name,
        }
    return unit.name


def _tabs(scope: Scope, page: str) -> list[dict]:
    pages = [tables.STUDENTS, tables.CHANGES, tables.INTAKE, tables.DROPOUT, tables.OVERVIEW]
    found = []
    for name in pages:
        if all(scope.may(capability) for capability in tables.PAGE_CAPABILITIES[name]):
            found.append(
                {"label": TITLES[name], "url": reverse(URL_NAMES[name]), "active": name == page}
            )
    return found


def _choices(context: tables.Context, page: str) -> dict | None:
    """The one choice a page offers: the semester of the per-school changes, or the
    reporting round the overview judges."""
    if page == tables.CHANGES and context.spans:
        chosen = context.period.pk if context.period else None
        return {
            "name": "semester",
            "label": _("Semester"),
            "options": [(span.pk, span.label, span.pk == chosen) for span in context.spans],
        }
    if page == tables.OVERVIEW and context.rounds:
        from xueji.packages.rounds import round_title

        chosen = context.change_round.pk if context.change_round else None
        return {
            "name": "round",
            "label": _("Reporting round"),
            "options": [
                (found.pk, round_title(found), found.pk == chosen) for found in context.rounds
            ],
        }
    return None


def render_page(request, page: str, extra: dict | None = None):
    scope = scope_for(request.user)
    options = tables.Options.from_params(request.GET)
    context = tables.Context(scope, options)
    built = tables.build_page(context, page)
    return render(
        request,
        "stats/page.html",
        {
            "page": page,
            "title": TITLES[page],
            "intro": INTROS[page],
            "scope_label": scope_label(scope),
            "tabs": _tabs(scope, page),
            "choice": _choices(context, page),
            "query": options.query(),
            "tables": built,
            "listing": [table for table in built if table.listing],
            **(extra or {}),
        },
    )


@login_required
def students_page(request):
    return render_page(request, tables.STUDENTS)


@login_required
def changes_page(request):
    return render_page(request, tables.CHANGES)


@login_required
def intake_page(request):
    return render_page(request, tables.INTAKE)


@login_required
def dropout_page(request):
    return render_page(request, tables.DROPOUT)


@login_required
def units_overview(request):
    """S1, E1, C8, C9 for the bureau; the lists stay in the context by their old names
    (without_registrar, without_printer, without_plan) for the pages that link here."""
    scope = scope_for(request.user)
    tables.require_page(scope, tables.OVERVIEW)
    return render_page(
        request,
        tables.OVERVIEW,
        {
            "without_registrar": queries.units_without_registrar(scope),
            "without_printer": queries.schools_without_printer(scope),
            "without_plan": queries.units_without_plan(scope),
        },
    )


@login_required
def export_table(request, key: str):
    """A table of a page as xlsx, for the user's scope; the export is audited."""
    exported = services.do_export_table(
        key, tables.Options.from_params(request.GET), actor=request.user
    )
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response
