"""The import and export pages (issue 3, B2; the national format, P1). Thin: the scope
decides what may be seen, one service call does the work, its refusal becomes a message
next to the form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from xueji.core.errors import RuleViolation
from xueji.core.models import Job
from xueji.core.scope import scope_for
from xueji.core.views import form_error
from xueji.exchange import national, services
from xueji.exchange.forms import ImportForm, NationalExportForm, RosterForm

FULL_VALUES = {"1", "true", "on", "yes"}


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def student_template(request):
    scope_for(request.user).require("students.view")
    return _attachment(
        services.template_bytes(), services.TEMPLATE_FILENAME, services.TEMPLATE_CONTENT_TYPE
    )


@login_required
def import_students(request):
    scope = scope_for(request.user)
    scope.require("students.edit")
    schools = services.editable_schools(scope)
    form = ImportForm(request.POST or None, request.FILES or None, schools=schools)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.do_start_import(
                upload.read(),
                upload.name,
                actor=request.user,
                school=form.cleaned_data["school"],
                dry_run=form.cleaned_data["dry_run"],
                valid_only=form.cleaned_data["valid_only"],
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("The import has started; this page shows its progress."))
            return redirect("job_detail", pk=job.pk)
    return render(request, "exchange/import.html", {"form": form})


@login_required
def roster_export(request):
    scope = scope_for(request.user)
    scope.require("students.view")
    form = RosterForm(request.GET or None, scope=scope)
    return render(
        request,
        "exchange/roster.html",
        {"form": form, "threshold": services.EXPORT_JOB_THRESHOLD},
    )


@login_required
def roster_file(request, fmt: str):
    full = request.GET.get("full", "").lower() in FULL_VALUES
    try:
        result = services.do_export_roster(request.GET, fmt, actor=request.user, full=full)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("roster_export")
    if isinstance(result, Job):
        messages.info(request, _("A large export runs in the background; download it here."))
        return redirect("job_detail", pk=result.pk)
    return _attachment(result.content, result.filename, result.content_type)


@login_required
def national_export(request):
    scope = scope_for(request.user)
    scope.require("students.view")
    if not scope.may(national.CAPABILITY):
        raise PermissionDenied(_("Your role may not reveal ID numbers or addresses."))
    form = NationalExportForm(request.GET or None, scope=scope)
    return render(
        request,
        "exchange/national.html",
        {"form": form, "threshold": services.EXPORT_JOB_THRESHOLD},
    )


@login_required
def national_file(request):
    try:
        selection = national.NationalSelection.from_params(request.GET)
        result = national.do_export_national(selection, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('national_export')}?{request.GET.urlencode()}")
    if isinstance(result, Job):
        messages.info(request, _("A large export runs in the background; download it here."))
        return redirect("job_detail", pk=result.pk)
    return _attachment(result.content, result.filename, result.content_type)
