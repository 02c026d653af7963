"""Login, the dashboard, health, password, calendar and background jobs: thin views that
ask the scope for rows and a service for every change."""

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xueji.core import calendar, services, uploads
from xueji.core.errors import RuleViolation
from xueji.core.forms import CalendarDayForm, LoginForm, PasswordChangeForm, SchoolYearForm
from xueji.core.lockout import LockoutLoginMixin
from xueji.core.models import CalendarDay, Job, SchoolYear
from xueji.core.scope import scope_for
from xueji.orgs.services import do_change_own_password


def form_error(form, error: RuleViolation) -> None:
    """Put a service's refusal next to the field it names, or above the form."""
    if error.field and error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        form.add_error(None, error.message)


class LoginView(LockoutLoginMixin, auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_GET
def healthz(request):
    """Liveness and the database's state, for the operator's monitoring."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
        database = {"ok": True, "vendor": connection.vendor, "pending_migrations": pending}
        status = "ok" if pending == 0 else "migrations_pending"
    except Exception as error:  # the answer must say what is wrong, not raise
        database = {"ok": False, "vendor": connection.vendor, "error": error.__class__.__name__}
        status = "error"
    return JsonResponse(
        {"status": status, "database": database}, status=200 if database["ok"] else 503
    )


def _unit_attention(scope) -> dict:
    """S1, E1: units without a designated registrar or without a printer, as the units
    overview counts them."""
    from xueji.stats import queries

    return {
        "without_registrar": queries.units_without_registrar(scope),
        "without_printer": queries.schools_without_printer(scope),
    }


def _waiting_on_unit(scope) -> dict:
    """P4: the change requests whose waiting step the user's unit owes, and how many of
    them are overdue; for the bureau also the queue of the session it works in (C6)."""
    from xueji.changes import services as change_services
    from xueji.changes.models import PENDING_STATES, State
    from xueji.changes.session_views import current_session

    pending = scope.requests().filter(state__in=PENDING_STATES)
    waiting = [r for r in pending if change_services.owed_by(r) == scope.unit]
    # Whether a step is overdue depends only on the day it began waiting: ask once a day.
    overdue_on: dict = {}
    for change in waiting:
        day = timezone.localdate(change.waiting_since)
        if day not in overdue_on:
            overdue_on[day] = change_services.is_overdue(change)
    result: dict[str, Any] = {
        "waiting": len(waiting),
        "overdue": sum(1 for r in waiting if overdue_on[timezone.localdate(r.waiting_since)]),
    }
    if scope.level == scope.COUNTY:
        session = current_session(scope.unit.county)
        result["session"] = session
        result["queue"] = session.requests.filter(state=State.SUBMITTED).count()
    return result


@login_required
def dashboard(request):
    scope = scope_for(request.user)
    context = {"scope": scope}
    if scope.unit is not None:
        context["deadlines"] = calendar.deadlines_of(scope.unit)
        context["school_year"] = calendar.current_school_year(scope.unit.county)
        context["next_session"] = calendar.next_session(scope.unit.county)
        context["counts"] = (
            scope.schools()
            .filter(is_active=True)
            .aggregate(
                schools=Count("pk"),
                rural=Count("pk", filter=Q(stage="primary", county_direct=False, is_central=False)),
            )
        )
        if scope.may("overview.view"):
            context.update(_unit_attention(scope))
        if scope.may("changes.view"):
            context["changes"] = _waiting_on_unit(scope)
            # C8: the coming reporting rounds, extra ones included, and any still owed.
            from xueji.packages.rounds import dashboard_rounds

            context["rounds"] = dashboard_rounds(scope)
    return render(request, "core/dashboard.html", context)


@login_required
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = do_change_own_password(
                request.user, form.cleaned_data["old_password"], form.cleaned_data["new_password"]
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password has been changed."))
            return redirect("dashboard")
    return render(request, "core/password_change.html", {"form": form})


# --- Units overview (S1, E1, C8, C9) ------------------------------------------------------


@login_required
def overview(request):
    """The units overview lives with the statistics (its tables export like theirs)."""
    from xueji.stats.views import units_overview

    return units_overview(request)


# --- Calendar (P3) -----------------------------------------------------------------------


@login_required
def calendar_page(request):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    county = scope.county()
    years = SchoolYear.objects.filter(county=county).prefetch_related("semesters")
    days = CalendarDay.objects.filter(county=county).order_by("-date")[:100]
    return render(
        request,
        "core/calendar.html",
        {"years": years, "days": days, "day_form": CalendarDayForm(), "county": county},
    )


@login_required
def school_year_edit(request, start_year: int | None = None):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    county = scope.county()
    year = None
    initial = {}
    if start_year is not None:
        year = get_object_or_404(SchoolYear, county=county, start_year=start_year)
        initial = {field: getattr(year, field) for field in services.YEAR_FIELDS}
        initial["start_year"] = year.start_year
        for semester in year.semesters.all():
            initial[f"{semester.term}_start"] = semester.start_date
    form = SchoolYearForm(request.POST or None, initial=initial)
    if year is not None:
        form.fields["start_year"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.do_save_school_year(
                actor=request.user,
                county=county,
                start_year=year.start_year if year else data.pop("start_year"),
                autumn_start=data.pop("autumn_start"),
                spring_start=data.pop("spring_start"),
                **{k: v for k, v in data.items() if k in services.YEAR_FIELDS},
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("The school year has been saved."))
            return redirect("calendar")
    return render(request, "core/school_year_form.html", {"form": form, "year": year})


@login_required
@require_POST
def calendar_day_add(request):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    form = CalendarDayForm(request.POST)
    if form.is_valid():
        try:
            services.do_set_calendar_day(
                actor=request.user, county=scope.county(), **form.cleaned_data
            )
        except RuleViolation as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The day has been saved."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{' '.join(errors)}" if label else " ".join(errors))
    return redirect("calendar")


@login_required
@require_POST
def calendar_day_remove(request, pk: int):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    day = get_object_or_404(CalendarDay, pk=pk, county=scope.county())
    services.do_remove_calendar_day(day, actor=request.user)
    messages.success(request, _("The day has been removed."))
    return redirect("calendar")


# --- Background jobs ---------------------------------------------------------------------


@login_required
def job_list(request):
    scope = scope_for(request.user)
    if not scope.may("jobs.run") and not scope.may("audit.view"):
        raise PermissionDenied(_("Your role may not do this."))
    return render(request, "core/job_list.html", {"jobs": scope.jobs()[:50]})


@login_required
def job_download(request, pk: int):
    """A job's result file, for the user who started it only (never served from /media/)."""
    job = get_object_or_404(scope_for(request.user).jobs(), pk=pk, status=Job.Status.DONE)
    if not job.result_file:
        raise Http404(_("This job has no result file."))
    response = FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=job.result_file.name.rsplit("/", 1)[-1],
    )
    # A report may quote uploaded file names: a download only, never a page.
    return uploads.protect(response, uploads.OPAQUE)


@login_required
def job_detail(request, pk: int):
    scope = scope_for(request.user)
    job = get_object_or_404(scope.jobs(), pk=pk)
    template = "core/_job_progress.html" if request.htmx else "core/job_detail.html"
    return render(request, template, {"job": job})
