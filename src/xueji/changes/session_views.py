"""The bureau's weekly approval sessions (C6, C7) and the units' change-management plans (C9).

Thin views: each read asks the scope for its rows, each POST calls one service and turns
its refusal into a message. Only the bureau sees the sessions; the bureau leader sees them
read-only and signs them off.
"""

import hashlib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xueji.audit.models import AuditEvent
from xueji.changes import rules, services
from xueji.changes.models import ApprovalSession, ChangePlan, ChangeRequest, Evidence, State
from xueji.core import uploads
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.orgs.models import Role, Unit
from xueji.students.rules import mask_id_number

DECIDED_STATES = (State.APPROVED, State.REFUSED, State.RECORDED)
SESSIONS_PER_PAGE = 30


# --- Which session, which requests --------------------------------------------------------


def current_session(county) -> ApprovalSession:
    """The session the bureau works in now: one opened and not yet closed, else the one the
    next submission would join (C6)."""
    opened = (
        ApprovalSession.objects.filter(
            county=county, opened_at__isnull=False, closed_at__isnull=True
        )
        .order_by("date")
        .first()
    )
    return opened or services.next_open_session(county)


def _bureau_scope(request) -> Scope:
    """The session pages are the bureau's: its registrar decides, its leader reads and signs."""
    scope = scope_for(request.user)
    if scope.level != scope.COUNTY or not scope.may("changes.view"):
        raise PermissionDenied(_("Only the bureau works in approval sessions."))
    return scope


def _get_session(scope: Scope, pk: int) -> ApprovalSession:
    return get_object_or_404(ApprovalSession, pk=pk, county=scope.county())


def _session_requests(scope: Scope, session: ApprovalSession, township: Unit | None = None):
    """The session's requests with everything the page shows of them, in a fixed number
    of queries however many there are (the student, both schools, the decider, the
    evidence)."""
    evidence = Evidence.objects.order_by("document", "pk")
    rows = scope.requests().filter(session=session)
    if township is not None:
        rows = rows.filter(from_school__parent=township)
    return (
        rows.select_related("student", "from_school__parent", "to_school", "decided_by")
        .prefetch_related(Prefetch("evidence", queryset=evidence))
        .order_by(
            "from_school__parent__division_code",
            "from_school__ordinal",
            "from_school__name",
            "from_school_id",
            "submitted_at",
        )
    )


def _describe(change, facts: services.WaitingFacts) -> dict:
    """What the session page shows of one request beyond its own fields."""
    spec = rules.reasons(change.kind).get(change.reason, {})
    return {
        "request": change,
        "reason_label": spec.get("label", change.reason),
        "age": services.waiting_working_days(change, facts=facts),
        "overdue": services.is_overdue(change, facts=facts),
        "proxy_id": mask_id_number(change.proxy_id_number),
        "evidence": [
            {
                "evidence": item,
                "name": rules.document_name(item.document),
                "is_image": item.content_type.startswith("image/"),
            }
            for item in change.evidence.all()
        ],
    }


def _township(scope: Scope, wanted: str | None) -> Unit | None:
    """The township the page is narrowed to (?township=<id>), if it is one of the county's."""
    if not wanted or not wanted.isdigit():
        return None
    return scope.units().filter(kind=Unit.Kind.TOWNSHIP, pk=int(wanted)).first()


def listing_digest(pks) -> str:
    """A fingerprint of the queued requests a page listed: "approve all listed" sends it
    back, so the server approves exactly what the bureau saw, or nothing if the queue
    changed in between (a request submitted, withdrawn or decided by someone else)."""
    text = ",".join(str(pk) for pk in sorted(pks))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _queued_pks(scope: Scope, session: ApprovalSession, township: Unit | None) -> list[int]:
    rows = scope.requests().filter(session=session, state=State.SUBMITTED)
    if township is not None:
        rows = rows.filter(from_school__parent=township)
    return list(rows.order_by("pk").values_list("pk", flat=True))


def _back_to_session(township: Unit | None):
    url = reverse("session_current")
    return redirect(f"{url}?township={township.pk}" if township else url)


def _moved_counts(sessions) -> dict[int, int]:
    """How many undecided requests each session's closing moved to the next (the audit
    event of the closing is the only place that remembers them)."""
    events = AuditEvent.objects.filter(
        action="session.closed",
        target_type="changes.approvalsession",
        target_id__in=[str(session.pk) for session in sessions],
    )
    return {int(event.target_id): len(event.data.get("moved", [])) for event in events}


def _with_counts(sessions):
    return sessions.annotate(
        approved=Count("requests", filter=Q(requests__state__in=[State.APPROVED, State.RECORDED])),
        refused=Count("requests", filter=Q(requests__state=State.REFUSED)),
        waiting=Count("requests", filter=Q(requests__state=State.SUBMITTED)),
    )


def _may_sign(scope: Scope, session: ApprovalSession, decided: int) -> bool:
    return (
        scope.role == Role.BUREAU_LEADER
        and session.leader_signed_at is None
        and (session.closed_at is not None or decided > 0)
    )


# --- Pages --------------------------------------------------------------------------------


@login_required
def session_current(request):
    scope = _bureau_scope(request)
    county = scope.county()
    session = current_session(county)
    township = _township(scope, request.GET.get("township"))
    rows = list(_session_requests(scope, session, township))
    facts = services.waiting_facts(county)
    queued = [_describe(change, facts) for change in rows if change.state == State.SUBMITTED]
    decided = [change for change in rows if change.state in DECIDED_STATES]
    # A session day that passed without being closed keeps its requests; closing it moves
    # them to the next session, so the page names it rather than hiding them.
    stale = (
        _with_counts(
            ApprovalSession.objects.filter(
                county=county, closed_at__isnull=True, date__lt=session.date
            )
        )
        .filter(waiting__gt=0)
        .order_by("date")
    )
    unsigned = (
        _with_counts(
            ApprovalSession.objects.filter(
                county=county, closed_at__isnull=False, leader_signed_at__isnull=True
            )
        ).order_by("-date")
        if scope.role == Role.BUREAU_LEADER
        else ApprovalSession.objects.none()
    )
    return render(
        request,
        "changes/session_current.html",
        {
            "session": session,
            "queued": queued,
            "decided": decided,
            "stale": stale,
            "unsigned": unsigned,
            "townships": scope.units()
            .filter(kind=Unit.Kind.TOWNSHIP)
            .order_by("division_code", "name"),
            "township": township,
            "listed": listing_digest(row["request"].pk for row in queued),
            "may_decide": scope.may("changes.decide"),
            "may_sign": _may_sign(scope, session, len(decided)),
        },
    )


@login_required
def session_list(request):
    scope = _bureau_scope(request)
    # Upcoming session days exist as rows once a request queued for them or someone looked;
    # the list shows the sessions that happened or hold requests.
    sessions = (
        _with_counts(ApprovalSession.objects.filter(county=scope.county()))
        .filter(
            Q(opened_at__isnull=False)
            | Exists(ChangeRequest.objects.filter(session=OuterRef("pk")))
        )
        .select_related("leader_signed_by")
        .order_by("-date")
    )
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    moved = _moved_counts(list(page))
    rows = [{"session": session, "moved": moved.get(session.pk, 0)} for session in page]
    return render(request, "changes/session_list.html", {"page": page, "rows": rows})


@login_required
def session_detail(request, pk: int):
    scope = _bureau_scope(request)
    session = _get_session(scope, pk)
    rows = list(_session_requests(scope, session))
    decided = [change for change in rows if change.state in DECIDED_STATES]
    return render(
        request,
        "changes/session_detail.html",
        {
            "session": session,
            "decided": decided,
            "waiting": [change for change in rows if change.state == State.SUBMITTED],
            "approved": sum(1 for change in decided if change.state != State.REFUSED),
            "refused": sum(1 for change in decided if change.state == State.REFUSED),
            "moved": _moved_counts([session]).get(session.pk, 0),
            "is_current": session.pk == current_session(scope.county()).pk,
            "may_sign": _may_sign(scope, session, len(decided)),
        },
    )


# --- Acts: one service call each ----------------------------------------------------------


@login_required
@require_POST
def session_open(request):
    scope = _bureau_scope(request)
    try:
        session = services.do_open_session(scope.county(), actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The session of %(date)s is open.") % {"date": session.date.isoformat()},
        )
    return redirect("session_current")


@login_required
@require_POST
def session_close(request, pk: int):
    scope = _bureau_scope(request)
    session = _get_session(scope, pk)
    try:
        services.do_close_session(session, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The session of %(date)s is closed; undecided requests wait for the next one.")
            % {"date": session.date.isoformat()},
        )
    return redirect("session_current")


@login_required
@require_POST
def session_decide(request, pk: int):
    """Approve or refuse one request of the session; a refusal needs a reason."""
    scope = _bureau_scope(request)
    change = scope.get_request(pk)
    approve = request.POST.get("decision") == "approve"
    try:
        services.do_decide(
            change, actor=request.user, approve=approve, reason=request.POST.get("reason", "")
        )
    except RuleViolation as error:
        messages.error(
            request,
            _("%(student)s: %(reason)s")
            % {"student": change.student.name, "reason": error.message},
        )
    else:
        message = (
            _("%(student)s: the request is approved.")
            if approve
            else _("%(student)s: the request is refused.")
        )
        messages.success(request, message % {"student": change.student.name})
    return redirect("session_current")


def _approve(request, selection: list[ChangeRequest]) -> None:
    try:
        count = services.do_approve_many(selection, actor=request.user)
    except RuleViolation as error:
        messages.error(
            request,
            _("Nothing was approved: %(reason)s") % {"reason": error.message},
        )
    else:
        messages.success(request, _("%(count)d requests approved.") % {"count": count})


@login_required
@require_POST
def session_approve_selected(request, pk: int):
    """Approve a selection in one transaction: one that cannot be approved stops them all."""
    scope = _bureau_scope(request)
    session = _get_session(scope, pk)
    township = _township(scope, request.POST.get("township"))
    chosen = [value for value in request.POST.getlist("request") if value.isdigit()]
    selection = list(scope.requests().filter(session=session, pk__in=chosen).order_by("pk"))
    if not selection:
        messages.error(request, _("Select at least one request to approve."))
    else:
        _approve(request, selection)
    return _back_to_session(township)


@login_required
@require_POST
def session_approve_all(request, pk: int):
    """Approve every queued request the page listed (the session, narrowed to a township
    or not), except the ticked ones, in one transaction. The form sends a few fields
    whatever the queue's length (a thousand ticked boxes would pass Django's limit of
    form fields): the server lists the requests again and approves them only if they are
    the ones the page showed, so nothing the bureau did not see is approved."""
    scope = _bureau_scope(request)
    session = _get_session(scope, pk)
    township = _township(scope, request.POST.get("township"))
    listed = _queued_pks(scope, session, township)
    if listing_digest(listed) != request.POST.get("listed", ""):
        messages.error(
            request,
            _(
                "Nothing was approved: the queued requests changed since the page was shown "
                "(a request was submitted, withdrawn or decided meanwhile). Check the list "
                "again and approve it then."
            ),
        )
        return _back_to_session(township)
    left_out = {int(value) for value in request.POST.getlist("request") if value.isdigit()}
    chosen = [pk for pk in listed if pk not in left_out]
    if not chosen:
        messages.error(request, _("No request is left to approve."))
    else:
        # do_approve_many locks and reads each request itself: the ids are all it needs.
        _approve(request, [ChangeRequest(pk=pk) for pk in chosen])
    return _back_to_session(township)


@login_required
@require_POST
def session_sign_off(request, pk: int):
    scope = _bureau_scope(request)
    session = _get_session(scope, pk)
    try:
        services.do_leader_signoff(session, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("You signed off the session of %(date)s.") % {"date": session.date.isoformat()},
        )
    return redirect("session_detail", pk=session.pk)


# --- Change-management plans (C9) ---------------------------------------------------------


class PlanForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Plan (PDF, JPG or PNG)"))
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


def filing_units(scope: Scope):
    """The units that file a plan (C9): the bureau and every open school of the scope."""
    return scope.units().filter(is_active=True).exclude(kind=Unit.Kind.TOWNSHIP)


def units_without_plan(scope: Scope):
    filed = ChangePlan.objects.filter(unit=OuterRef("pk"))
    return filing_units(scope).filter(~Exists(filed)).select_related("parent")


def _visible_plans(scope: Scope):
    """The bureau sees every unit's plans; any other unit sees its own."""
    if not scope.may("changes.view") or scope.unit is None:
        return ChangePlan.objects.none()
    if scope.level == scope.COUNTY:
        return ChangePlan.objects.filter(unit__in=scope.units())
    return ChangePlan.objects.filter(unit=scope.unit)


@login_required
def plan_list(request):
    scope = scope_for(request.user)
    scope.require("changes.view")
    may_file = scope.may("changes.request")
    form = PlanForm()
    plans = _visible_plans(scope).select_related("unit", "filed_by").order_by("-filed_at", "-pk")
    context = {"form": form, "may_file": may_file, "own_plans": plans.filter(unit=scope.unit)}
    if scope.level == scope.COUNTY:
        latest = {}
        for plan in plans:
            latest.setdefault(plan.unit_id, plan)
        units = filing_units(scope).select_related("parent")
        context["units"] = [{"unit": unit, "plan": latest.get(unit.pk)} for unit in units]
        context["missing"] = sum(1 for row in context["units"] if row["plan"] is None)
    return render(request, "changes/plan_list.html", context)


@login_required
@require_POST
def plan_file(request):
    scope = scope_for(request.user)
    scope.require("changes.request")
    form = PlanForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.do_file_plan(
                scope.unit,
                form.cleaned_data["file"].read(),
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except RuleViolation as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your change-management plan has been filed."))
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect("plan_list")


@login_required
def plan_download(request, pk: int):
    """A filed plan, through the scope: another school's plan is a 404, not a 403."""
    plan = _visible_plans(scope_for(request.user)).filter(pk=pk).first()
    if plan is None:
        raise Http404(_("No such plan in your scope."))
    try:
        stored = plan.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The plan's file is missing.")) from None
    extension = plan.file.name.rsplit(".", 1)[-1]
    return uploads.file_response(
        stored,
        content_type=plan.content_type,
        attachment=True,
        filename=f"plan-{plan.unit_id}-{plan.filed_at:%Y%m%d}.{extension}",
        cache_seconds=300,
    )
