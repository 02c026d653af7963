"""The printing pages (B4): each form as an inline PDF, and the page that starts bulk
prints. Thin: the scope finds the row (404 outside it), one print service does the work,
its refusal becomes a message on the page the user came from.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.core.views import form_error
from xueji.reports import print_services
from xueji.reports.papers.common import pdf_response
from xueji.reports.print_forms import (
    ClassRosterForm,
    PhotoSheetsForm,
    PrintForm,
    RecordCardsForm,
    RostersForm,
)

# The bulk prints, by the name in their address.
JOBS = {
    "record-cards": print_services.RECORD_CARDS_JOB,
    "rosters": print_services.ROSTERS_JOB,
    "photo-sheets": print_services.PHOTO_SHEETS_JOB,
}


@login_required
@require_GET
def transfer_certificate(request, pk: int):
    change = scope_for(request.user).get_request(pk)
    try:
        printed = print_services.do_print_transfer_certificate(change, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("request_detail", pk=change.pk)
    return pdf_response(printed)


@login_required
@require_GET
def name_change_application(request, pk: int):
    change = scope_for(request.user).get_request(pk)
    try:
        printed = print_services.do_print_name_change_application(change, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("request_detail", pk=change.pk)
    return pdf_response(printed)


@login_required
@require_GET
def record_card(request, pk: int):
    student = scope_for(request.user).get_student(pk)
    try:
        printed = print_services.do_print_record_card(student, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("student_detail", pk=student.pk)
    return pdf_response(printed)


@login_required
@require_GET
def certificate(request, pk: int):
    student = scope_for(request.user).get_student(pk)
    try:
        printed = print_services.do_print_certificate(student, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("student_detail", pk=student.pk)
    return pdf_response(printed)


@login_required
@require_GET
def class_roster(request):
    """?school=&grade=&class_name= (a school registrar may leave out the school)."""
    scope = print_services.student_papers_scope(request.user)
    try:
        school = print_services.school_in_scope(scope, request.GET.get("school"))
        grade = print_services.parse_grade(request.GET.get("grade"), required=True)
        class_name = print_services.parse_class(request.GET.get("class_name"), required=True)
        assert grade is not None
        printed = print_services.do_print_class_roster(
            school, grade, class_name, actor=request.user
        )
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("print_page")
    return pdf_response(printed)


# --- The printing page and bulk prints ----------------------------------------------------


def _forms(scope: Scope, data=None, bound: str = "") -> dict[str, PrintForm]:
    schools = scope.schools().filter(is_active=True).order_by(*print_services.SCHOOL_ORDER)
    forms: dict[str, PrintForm] = {
        "record_cards": RecordCardsForm(
            data if bound == "record-cards" else None, schools=schools, prefix="cards"
        ),
        "rosters": RostersForm(
            data if bound == "rosters" else None, schools=schools, prefix="rosters"
        ),
        "class_roster": ClassRosterForm(schools=schools),
    }
    # N4: photo sheets are the bureau's.
    if scope.level == Scope.COUNTY:
        forms["photo_sheets"] = PhotoSheetsForm(
            data if bound == "photo-sheets" else None,
            townships=scope.townships().order_by("ordinal", "name"),
            prefix="sheets",
        )
    return forms


def _render_page(request, scope: Scope, forms: dict[str, PrintForm], status: int = 200):
    jobs = scope.jobs().filter(kind__in=JOBS.values())[:20]
    return render(
        request,
        "reports/print_page.html",
        {"forms": forms, "jobs": jobs, "photo_sheets": "photo_sheets" in forms},
        status=status,
    )


@login_required
@require_GET
def print_page(request):
    scope = print_services.student_papers_scope(request.user)
    return _render_page(request, scope, _forms(scope))


@login_required
@require_POST
def start_print_job(request, kind: str):
    if kind not in JOBS:
        raise Http404(_("No such print."))
    scope = print_services.student_papers_scope(request.user)
    forms = _forms(scope, request.POST, bound=kind)
    form = forms.get(kind.replace("-", "_"))
    if form is None:
        raise Http404(_("No such print."))
    if form.is_valid():
        try:
            job = print_services.do_start_print_job(JOBS[kind], form.params(), actor=request.user)
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("The print has started; this page shows its progress."))
            return redirect("job_detail", pk=job.pk)
    return _render_page(request, scope, forms, status=400)
