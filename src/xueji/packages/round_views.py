"""The reporting round pages (C8): the list of rounds, one round with every school's status
for the bureau (its township's for a central school), a school's own status and its
"Report now" button, and the bureau's announcing, moving and cancelling of extra rounds.

Thin views: reads start from the scope, each POST calls one service and turns its refusal
into a message. A GET never writes: the regular rounds are made when the calendar is
saved, not when a page is opened.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.packages import round_services, rounds
from xueji.packages.models import ChangeRound, Package


class DateInput(forms.DateInput):
    input_type = "date"


class RoundForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=rounds.TITLE_MAX)
    changes_from = forms.DateField(label=gettext_lazy("Changes from"), widget=DateInput)
    changes_to = forms.DateField(label=gettext_lazy("Changes to"), widget=DateInput)
    due_date = forms.DateField(label=gettext_lazy("Due date"), widget=DateInput)


class DueDateForm(forms.Form):
    due_date = forms.DateField(label=gettext_lazy("New due date"), widget=DateInput)


def _scope(request) -> Scope:
    scope = scope_for(request.user)
    scope.require("changes.view")
    return scope


def _get_round(scope: Scope, pk: int) -> ChangeRound:
    return get_object_or_404(
        scope.rounds().select_related("semester__school_year", "announced_by"), pk=pk
    )


def package_url(package: Package) -> str:
    return reverse("package_detail", args=[package.pk])


def _watched_schools(scope: Scope):
    """The schools whose statuses a page lists: the county's for the bureau, the ones a
    central school supervises for it (itself included); none for a school."""
    if scope.level not in (scope.COUNTY, scope.TOWNSHIP):
        return None
    return rounds.visible_schools(scope)


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


@login_required
def round_list(request):
    scope = _scope(request)
    today = calendar.today()
    schools = _watched_schools(scope)
    watched = list(schools) if schools is not None else None
    rows = []
    for change_round in scope.rounds().select_related("semester__school_year", "announced_by"):
        row: dict = {
            "round": change_round,
            "title": rounds.round_title(change_round),
            "regular": rounds.is_regular(change_round),
            "open": change_round.due_date >= today,
        }
        if watched is not None:
            statuses = rounds.school_statuses(change_round, watched, today, with_findings=False)
            row["counts"] = rounds.state_counts(statuses.values())
        if scope.unit is not None and scope.unit.is_school:
            row["own"] = rounds.school_statuses(
                change_round, [scope.unit], today, with_findings=False
            )[scope.unit.pk]
        rows.append(row)
    return render(
        request,
        "packages/round_list.html",
        {
            "rows": rows,
            "watched": watched,
            "show_own": scope.unit is not None and scope.unit.is_school,
            "may_manage": scope.may("rounds.manage"),
            "form": RoundForm(),
            "today": today,
        },
    )


@login_required
@require_POST
def round_announce(request):
    scope = _scope(request)
    scope.require("rounds.manage")
    form = RoundForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("round_list")
    try:
        change_round = round_services.do_announce_round(actor=request.user, **form.cleaned_data)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("round_list")
    messages.success(
        request,
        _("The round has been announced: every school reports by %(date)s.")
        % {"date": change_round.due_date.isoformat()},
    )
    return redirect("round_detail", pk=change_round.pk)


@login_required
def round_detail(request, pk: int):
    scope = _scope(request)
    change_round = _get_round(scope, pk)
    today = calendar.today()
    context: dict = {
        "round": change_round,
        "title": rounds.round_title(change_round),
        "regular": rounds.is_regular(change_round),
        "opens_on": rounds.report_opens_on(change_round.changes_to),
        "days_left": (change_round.due_date - today).days,
        "days_ago": (today - change_round.due_date).days,
        "today": today,
    }
    unit = scope.unit
    if unit is not None and unit.is_school:
        own = rounds.school_statuses(change_round, [unit], today)[unit.pk]
        own_packages = rounds.round_packages(change_round).filter(unit=unit).order_by("-handled_at")
        context["own"] = own
        context["own_packages"] = [(package, package_url(package)) for package in own_packages]
        if rounds.may_report(scope, unit):
            context["report_problem"] = rounds.report_problem(change_round, unit, today)
            context["may_report"] = context["report_problem"] is None
    schools = _watched_schools(scope)
    if schools is not None:
        statuses = list(rounds.school_statuses(change_round, schools, today).values())
        context["counts"] = rounds.state_counts(statuses)
        context["total"] = len(statuses)
        wanted = request.GET.get("status", "")
        context["status_filter"] = wanted if wanted in rounds.STATES else ""
        if context["status_filter"]:
            statuses = [s for s in statuses if s.state == wanted]
        context["townships"] = _by_township(statuses)
        context["states"] = [(state, rounds.STATE_LABELS[state]) for state in rounds.STATES]
    if scope.may("rounds.manage") and not context["regular"]:
        context["due_form"] = DueDateForm(initial={"due_date": change_round.due_date})
        context["may_cancel"] = not rounds.round_packages(change_round).exists()
    return render(request, "packages/round_detail.html", context)


def _by_township(statuses: list[rounds.RoundStatus]) -> list[dict]:
    """Rows grouped by township, in the order the schools came."""
    groups: list[dict] = []
    for status in statuses:
        township = status.school.parent
        if not groups or groups[-1]["township"] != township:
            groups.append({"township": township, "rows": []})
        url = package_url(status.package) if status.package is not None else None
        groups[-1]["rows"].append({"status": status, "package_url": url})
    return groups


@login_required
@require_POST
def round_report(request, pk: int):
    scope = _scope(request)
    change_round = _get_round(scope, pk)
    if scope.unit is None or not rounds.may_report(scope, scope.unit):
        raise PermissionDenied(_("Only a school's registrar reports for the school."))
    try:
        package = round_services.do_report_round(change_round, scope.unit, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        count = rounds.package_change_count(package)
        messages.success(
            request,
            ngettext(
                "Your school has reported in this round: a package of %(count)d change.",
                "Your school has reported in this round: a package of %(count)d changes.",
                count,
            )
            % {"count": count},
        )
    return redirect("round_detail", pk=change_round.pk)


@login_required
@require_POST
def round_change_due_date(request, pk: int):
    scope = _scope(request)
    scope.require("rounds.manage")
    change_round = _get_round(scope, pk)
    form = DueDateForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("round_detail", pk=change_round.pk)
    try:
        change_round = round_services.do_change_round_due_date(
            change_round, form.cleaned_data["due_date"], actor=request.user
        )
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The round is now due on %(date)s.") % {"date": change_round.due_date.isoformat()},
        )
    return redirect("round_detail", pk=change_round.pk)


@login_required
@require_POST
def round_cancel(request, pk: int):
    scope = _scope(request)
    scope.require("rounds.manage")
    change_round = _get_round(scope, pk)
    try:
        round_services.do_cancel_round(change_round, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("round_detail", pk=change_round.pk)
    messages.success(request, _("The round has been cancelled."))
    return redirect("round_list")
