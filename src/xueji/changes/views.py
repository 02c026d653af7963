"""The school-side change-request pages (C1-C5, C7, N6, P4): the list, a new request, and
the request page where each unit takes the step it owes.

Thin views: every request comes from the actor's scope (404 outside it, so ids cannot be
probed), every change from one service. A refusal (RuleViolation) lands on the field it
names or, for a button without a form, in a message. The page shows only the actions the
user may take at the request's state; the services check the same again.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xueji.changes import rules, services
from xueji.changes.forms import (
    GROUP_FINISHED,
    GROUP_MINE,
    GROUP_PENDING,
    CentralReviewForm,
    EvidenceForm,
    ReceivingForm,
    RequestFilterForm,
    RequestForm,
    SignedScanForm,
    SubmitForm,
    WithdrawForm,
)
from xueji.changes.models import PENDING_STATES, ChangeRequest, Evidence, Kind, State
from xueji.core import calendar, reads, uploads
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.core.views import form_error
from xueji.orgs.models import County, Role, Unit
from xueji.students import form_items
from xueji.students.models import OPEN_STATUSES, Student, StudentRecord
from xueji.students.queries import StudentFilter, filtered_records
from xueji.students.rules import mask_id_number

PAGE_SIZE = 50
SCHOOL_ORDER = ("parent__ordinal", "parent__name", "ordinal", "name")

# The request's steps (RequestStep.action), named for people.
STEP_LABELS = {
    "created": gettext_lazy("Request started"),
    "evidence_added": gettext_lazy("Scan uploaded"),
    "evidence_checked": gettext_lazy("Scan checked against the original"),
    "documents_checked": gettext_lazy("Documents complete"),
    "report_printed": gettext_lazy("Change report printed"),
    "report_reprinted": gettext_lazy("Change report printed again"),
    "signed": gettext_lazy("Signed"),
    "signed_scan_uploaded": gettext_lazy("Signed and stamped report uploaded"),
    "central_reviewed": gettext_lazy("Re-reviewed and stamped by the central school"),
    "central_returned": gettext_lazy("Returned by the central school"),
    "receiving_confirmed": gettext_lazy("Receiving school confirmed a seat"),
    "submitted": gettext_lazy("Submitted to the bureau"),
    "approved": gettext_lazy("Approved"),
    "refused": gettext_lazy("Refused"),
    "recorded": gettext_lazy("Change recorded"),
    "withdrawn": gettext_lazy("Withdrawn"),
}
# States before the report exists (no print link) and states no one prints for.
NOT_PRINTABLE = (State.DRAFT, State.WITHDRAWN)


# --- Who may take which step (the services check the same again) ------------------------------


def _is_sender(scope: Scope, change: ChangeRequest) -> bool:
    """The school that started the request acts for it (or the bureau for the school)."""
    return scope.may("changes.request") and scope.can_edit_school(change.from_school)


def _is_receiver(scope: Scope, change: ChangeRequest) -> bool:
    return (
        change.kind == Kind.TRANSFER
        and change.to_school is not None
        and scope.may("changes.request")
        and scope.can_edit_school(change.to_school)
    )


def supervises(user, school: Unit) -> bool:
    # The services' own test of "the central school of this rural school", so the page
    # and the service cannot disagree.
    return services.supervises(user, school)


def _actions(scope: Scope, user, change: ChangeRequest) -> dict[str, bool]:
    state = change.state
    sender = _is_sender(scope, change)
    receiver = _is_receiver(scope, change)
    central = services.needs_central_review(change)
    reviews = central and supervises(user, change.from_school)
    signs_as_leader = user.role == Role.SCHOOL_LEADER
    signs_as_registrar = user.role in (Role.SCHOOL_REGISTRAR, Role.CENTRAL_REGISTRAR)
    own_school = user.unit_id == change.from_school_id
    before_bureau = state in PENDING_STATES and state not in (State.SUBMITTED, State.APPROVED)
    return {
        "documents": sender and state == State.DRAFT,
        "print": state not in NOT_PRINTABLE and services.may_print(user, change),
        "sign": own_school
        and state == State.REPORT_PRINTED
        and (
            (signs_as_leader and change.leader_signed_at is None)
            or (signs_as_registrar and change.registrar_signed_at is None)
        ),
        "signed_scan": sender and state == State.REPORT_PRINTED,
        "central_review": reviews and state == State.SIGNED,
        "confirm": receiver and before_bureau,
        "submit": (sender or reviews)
        and state == (State.CENTRAL_REVIEWED if central else State.SIGNED),
        "record": state == State.APPROVED
        and (receiver if change.kind == Kind.TRANSFER else sender),
        "withdraw": sender and before_bureau,
    }


def _route(change: ChangeRequest) -> tuple[str, str]:
    """Where the student comes from and goes to, as the list and the page show it."""
    if change.kind == Kind.TRANSFER_IN:
        return change.outside_school, change.from_school.name
    if change.kind == Kind.TRANSFER_OUT:
        return change.from_school.name, change.outside_school
    if change.kind == Kind.TRANSFER and change.to_school is not None:
        return change.from_school.name, change.to_school.name
    return change.from_school.name, ""


def _waiting(change: ChangeRequest) -> dict[str, object]:
    """P4: who owes the next step, how many working days it has waited, overdue or not."""
    if not change.is_pending:
        return {"unit": None, "days": None, "overdue": False}
    return {
        "unit": services.owed_by(change),
        "days": services.waiting_working_days(change),
        "overdue": services.is_overdue(change),
    }


def _reason_label(change: ChangeRequest) -> str:
    return rules.reasons(change.kind).get(change.reason, {}).get("label", change.reason)


# --- The list (P4) ----------------------------------------------------------------------------


def _waiting_on(scope: Scope, pending) -> list[int]:
    """The pending requests whose next step the user's unit owes (services.owed_by decides)."""
    if scope.unit is None:
        return []
    own = scope.unit.pk
    return [
        change.pk for change in pending if (owner := services.owed_by(change)) and owner.pk == own
    ]


@login_required
def request_list(request):
    scope = scope_for(request.user)
    scope.require("changes.view")
    schools = scope.schools().select_related("parent").order_by(*SCHOOL_ORDER)
    form = RequestFilterForm(request.GET or None, schools=schools)
    group = form.value("group", GROUP_PENDING)
    kind = form.value("kind")
    school = form.cleaned_data.get("school") if form.is_bound and form.is_valid() else None
    in_scope = scope.requests().select_related(
        "from_school__county", "from_school__parent", "to_school", "student"
    )
    mine = _waiting_on(scope, in_scope.filter(state__in=PENDING_STATES))
    changes = in_scope
    if kind:
        changes = changes.filter(kind=kind)
    if school is not None:
        changes = changes.filter(Q(from_school=school) | Q(to_school=school))
    if group == GROUP_MINE:
        changes = changes.filter(pk__in=mine).order_by("waiting_since", "pk")
    elif group == GROUP_PENDING:
        changes = changes.filter(state__in=PENDING_STATES).order_by("waiting_since", "pk")
    elif group == GROUP_FINISHED:
        changes = changes.exclude(state__in=PENDING_STATES)
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"change": change, "route": _route(change), "waiting": _waiting(change)} for change in page
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "mine_count": len(mine),
        "mine_url": reverse("request_list") + f"?group={GROUP_MINE}",
        "may_request": scope.may("changes.request") and scope.level != scope.NONE,
    }
    return render(request, "changes/request_list.html", context)


# --- A new request (C1, N6) -------------------------------------------------------------------


def _editable_records(scope: Scope):
    """The open records whose school the user starts requests for."""
    records = scope.records().filter(status__in=OPEN_STATUSES)
    if scope.level == scope.COUNTY:
        return records
    return records.filter(school=scope.unit)


def _chosen_record(scope: Scope, pk: str) -> StudentRecord | None:
    if not pk:
        return None
    # Which record the user may start a request for is _editable_records' (the scope's
    # records, compiled by the ORM: a few columns); the record with its student (72
    # items), school, county and township is read by a statement written once
    # (core/reads.py): compiling them was most of a new request's first query (issue 9).
    record_id = reads.row_id(StudentRecord, pk)
    held = (
        reads.ids_of(_editable_records(scope).filter(pk=record_id))
        if record_id is not None
        else None
    )
    if held is None:  # not an id in range, or the scope holds no records for this user
        raise Http404(_("No such record in your scope."))
    sql, params = held
    rows = reads.read(f"{_chosen_statement()} ({sql})", params, _CHOSEN)
    if not rows or not scope.can_edit_school(rows[0][2]):
        raise Http404(_("No such record in your scope."))
    record, student, school, county, township = rows[0]
    reads.link(record, "student", student)
    reads.link(record, "school", school)
    reads.link(school, "county", county)
    reads.link(school, "parent", township)
    return record


_CHOSEN = (StudentRecord, Student, Unit, County, Unit)


@functools.cache
def _chosen_statement() -> str:
    table = connection.ops.quote_name
    return (
        f"SELECT {reads.columns(StudentRecord, 'r')}, {reads.columns(Student, 's')}, "
        f"{reads.columns(Unit, 'u')}, {reads.columns(County, 'c')}, "
        f"{reads.columns(Unit, 't')} FROM {table(StudentRecord._meta.db_table)} r "
        f"JOIN {table(Student._meta.db_table)} s ON s.id = r.student_id "
        f"JOIN {table(Unit._meta.db_table)} u ON u.id = r.school_id "
        f"JOIN {table(County._meta.db_table)} c ON c.id = u.county_id "
        f"LEFT JOIN {table(Unit._meta.db_table)} t ON t.id = u.parent_id "
        "WHERE r.id IN"
    )


def _receiving_schools(record: StudentRecord):
    """Every open school of the county but the student's own: a choice list, not a
    disclosure (the service refuses one of the same school district, C5)."""
    return (
        Unit.objects.filter(
            county_id=record.school.county_id, kind=Unit.Kind.SCHOOL, is_active=True
        )
        .exclude(pk=record.school_id)
        .select_related("parent")
        .order_by(*SCHOOL_ORDER)
    )


def _pick_student(request, scope: Scope):
    """No record chosen yet: find the student among the open records of the school."""
    query = request.GET.get("q", "").strip()
    found = []
    if query:
        wanted = StudentFilter.from_params({"q": query, "status": "open"})
        records = list(filtered_records(scope, wanted).filter(pk__in=_editable_records(scope))[:20])
        pending = set(
            ChangeRequest.objects.filter(
                record__in=[r.pk for r in records], state__in=PENDING_STATES
            ).values_list("record_id", flat=True)
        )
        found = [
            {
                "record": record,
                "masked_id": mask_id_number(record.student.id_number),
                "has_pending": record.pk in pending,
            }
            for record in records
        ]
    return render(request, "changes/request_new.html", {"query": query, "found": found})


@login_required
def request_new(request):
    scope = scope_for(request.user)
    scope.require("changes.request")
    record = _chosen_record(scope, request.GET.get("record", ""))
    if record is None:
        return _pick_student(request, scope)
    kind = request.POST.get("kind") or request.GET.get("kind") or Kind.TRANSFER
    if kind not in Kind.values:
        kind = Kind.TRANSFER
    schools = _receiving_schools(record)
    status = 200
    # "Show the reasons for this kind" without JavaScript posts the form back unchanged.
    if request.method == "POST" and "refresh" not in request.POST:
        form = RequestForm(request.POST, kind=kind, schools=schools)
        if form.is_valid():
            data = form.cleaned_data
            try:
                change = services.do_create_request(
                    record,
                    kind,
                    actor=request.user,
                    reason=data["reason"],
                    reason_note=data.get("reason_note", ""),
                    effective_date=data["effective_date"],
                    to_school=data.get("to_school"),
                    outside_school=data.get("outside_school", ""),
                    corrections=form.corrections() if kind == Kind.CORRECTION else None,
                )
            except RuleViolation as error:
                form_error(form, RuleViolation(error.message, field=form.field_for(error.field)))
            else:
                messages.success(
                    request,
                    _("The request for %(name)s has been started; check its documents next.")
                    % {"name": record.student.name},
                )
                return redirect("request_detail", pk=change.pk)
        status = 400
    else:
        initial: dict[str, object] = {"effective_date": calendar.today()}
        if request.method == "POST":
            initial.update(request.POST.dict())
        initial["kind"] = kind
        form = RequestForm(initial=initial, kind=kind, schools=schools)
    context = {"record": record, "form": form, "kind": kind}
    return render(request, "changes/request_new.html", context, status=status)


# --- The request page (C2-C5, C7, N6, P4) -----------------------------------------------------


def _documents(change: ChangeRequest, bound: dict) -> list[dict]:
    """Each required document with its scans and the form that uploads another."""
    scans: dict[str, list[Evidence]] = {}
    for evidence in change.evidence.select_related("uploaded_by", "checked_by"):
        scans.setdefault(evidence.document, []).append(evidence)
    return [
        {
            "code": code,
            "name": rules.document_name(code),
            "scans": scans.get(code, []),
            "checked": any(e.checked_at for e in scans.get(code, [])),
            # One form per document: ids carry the document so each label finds its box.
            "form": bound.get(f"evidence:{code}")
            or EvidenceForm(initial={"document": code}, auto_id=f"id_{code}_%s"),
        }
        for code in rules.required_documents(change.kind, change.reason)
    ]


def _corrections(change: ChangeRequest) -> list[dict]:
    rows = []
    for key, values in (change.corrections or {}).items():
        item = form_items.BY_KEY.get(key)
        old, new = (list(values) + ["", ""])[:2]
        rows.append({"label": item.label if item else key, "old": old, "new": new})
    return rows


def _render_detail(request, scope: Scope, change: ChangeRequest, *, bound=None, status=200):
    bound = bound or {}
    change = (
        ChangeRequest.objects.select_related(
            "student",
            "record__school",
            "from_school__county",
            "from_school__parent",
            "to_school",
            "session",
            "registrar_signed_by",
            "leader_signed_by",
            "receiving_confirmed_by",
            "decided_by",
            "created_by",
            "new_record",
        )
        .filter(pk=change.pk)
        .get()
    )
    actions = _actions(scope, request.user, change)
    context = {
        "change": change,
        "route": _route(change),
        "reason_label": _reason_label(change),
        "waiting": _waiting(change),
        "actions": actions,
        "documents": _documents(change, bound),
        "missing": [rules.document_name(code) for code in services.missing_documents(change)],
        "corrections": _corrections(change),
        "steps": [
            {"step": step, "label": STEP_LABELS.get(step.action, step.action)}
            for step in change.steps.select_related("actor", "unit")
        ],
        "student_visible": scope.students().filter(pk=change.student_id).exists(),
        "proxy_id": mask_id_number(change.proxy_id_number),
        "needs_central_review": services.needs_central_review(change),
        "report_url": f"/changes/{change.pk}/report.pdf",
        "signed_scan_form": bound.get("signed_scan") or SignedScanForm(),
        "central_form": bound.get("central_review") or CentralReviewForm(),
        "receiving_form": bound.get("confirm")
        or ReceivingForm(initial={"to_grade": change.to_grade, "to_class": change.to_class}),
        "submit_form": bound.get("submit") or SubmitForm(),
        "withdraw_form": bound.get("withdraw") or WithdrawForm(),
    }
    return render(request, "changes/request_detail.html", context, status=status)


@login_required
def request_detail(request, pk: int):
    scope = scope_for(request.user)
    return _render_detail(request, scope, scope.get_request(pk))


def _back(change: ChangeRequest, anchor: str = "") -> HttpResponseRedirect:
    url = reverse("request_detail", args=[change.pk])
    return HttpResponseRedirect(url + (f"#{anchor}" if anchor else ""))


def _with_form(
    request,
    pk: int,
    form_class,
    name: str,
    call: Callable[[ChangeRequest, Any], object],
    done: str,
):
    """A step with a form: one service call; its refusal on the form's field, the page
    shown again with the form as it was posted."""
    scope = scope_for(request.user)
    change = scope.get_request(pk)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            call(change, form)
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, done)
            return _back(change)
    return _render_detail(request, scope, change, bound={name: form}, status=400)


def _button(request, pk: int, call: Callable[[ChangeRequest], object], done: str, anchor=""):
    """A step without a form: one service call, its refusal as a message."""
    change = scope_for(request.user).get_request(pk)
    try:
        call(change)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return _back(change, anchor)


def _scan_bytes(form) -> bytes:
    return form.cleaned_data["file"].read()


@login_required
@require_POST
def evidence_add(request, pk: int):
    scope = scope_for(request.user)
    change = scope.get_request(pk)
    document = request.POST.get("document", "")
    form = EvidenceForm(request.POST, request.FILES, auto_id=f"id_{document}_%s")
    if form.is_valid():
        try:
            services.do_add_evidence(
                change, form.cleaned_data["document"], _scan_bytes(form), actor=request.user
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("The scan of %(document)s has been uploaded; check it against the original.")
                % {"document": rules.document_name(document)},
            )
            return _back(change, "documents")
    return _render_detail(request, scope, change, bound={f"evidence:{document}": form}, status=400)


@login_required
@require_POST
def evidence_check(request, pk: int):
    scope = scope_for(request.user)
    evidence = (
        Evidence.objects.filter(request__in=scope.requests().values("pk"), pk=pk)
        .select_related("request__from_school")
        .first()
    )
    if evidence is None:
        raise Http404(_("No such scan in your scope."))
    try:
        services.do_check_evidence(evidence, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The scan of %(document)s is marked as checked against the original.")
            % {"document": rules.document_name(evidence.document)},
        )
    return _back(evidence.request, "documents")


@login_required
@require_POST
def documents_pass(request, pk: int):
    return _button(
        request,
        pk,
        lambda change: services.do_pass_documents(change, actor=request.user),
        _("The documents are complete; print the change report next."),
    )


@login_required
@require_POST
def request_sign(request, pk: int):
    return _button(
        request,
        pk,
        lambda change: services.do_sign(change, actor=request.user),
        _("Your signature has been recorded."),
    )


@login_required
@require_POST
def signed_scan_upload(request, pk: int):
    return _with_form(
        request,
        pk,
        SignedScanForm,
        "signed_scan",
        lambda change, form: services.do_upload_signed_scan(
            change, _scan_bytes(form), actor=request.user
        ),
        _("The scan of the signed and stamped report has been stored."),
    )


@login_required
@require_POST
def central_review(request, pk: int):
    def call(change, form):
        return services.do_central_review(
            change,
            actor=request.user,
            approve=form.cleaned_data["decision"] == "approve",
            comment=form.cleaned_data["comment"],
        )

    return _with_form(
        request,
        pk,
        CentralReviewForm,
        "central_review",
        call,
        _("The central school's review has been recorded."),
    )


@login_required
@require_POST
def receiving_confirm(request, pk: int):
    scope = scope_for(request.user)
    change = scope.get_request(pk)
    form = ReceivingForm(request.POST)
    if form.is_valid():
        try:
            warnings = services.do_confirm_receiving(
                change,
                actor=request.user,
                to_grade=form.cleaned_data["to_grade"],
                to_class=form.cleaned_data["to_class"],
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            for warning in warnings:
                messages.warning(request, warning)
            messages.success(request, _("Your school has confirmed it can take the student."))
            return _back(change)
    return _render_detail(request, scope, change, bound={"confirm": form}, status=400)


@login_required
@require_POST
def request_submit(request, pk: int):
    return _with_form(
        request,
        pk,
        SubmitForm,
        "submit",
        lambda change, form: services.do_submit(change, actor=request.user, proxy=form.proxy()),
        _("The request has been submitted to the bureau's next approval session."),
    )


@login_required
@require_POST
def request_record(request, pk: int):
    return _button(
        request,
        pk,
        lambda change: services.do_record(change, actor=request.user),
        _("The change has been recorded."),
    )


@login_required
@require_POST
def request_withdraw(request, pk: int):
    return _with_form(
        request,
        pk,
        WithdrawForm,
        "withdraw",
        lambda change, form: services.do_withdraw(
            change, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        _("The request has been withdrawn."),
    )


# --- Scans, through the scope -----------------------------------------------------------------


def _inline_file(field, content_type: str, filename: str) -> FileResponse:
    """A stored scan shown in the browser, never as a page: the type it was verified to
    be, no sniffing, a policy that allows nothing, and no shared cache (core/uploads.py)."""
    try:
        stored = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file is missing.")) from None
    return uploads.file_response(stored, content_type=content_type, filename=filename)


@login_required
def evidence_file(request, pk: int):
    scope = scope_for(request.user)
    evidence = Evidence.objects.filter(request__in=scope.requests().values("pk"), pk=pk).first()
    if evidence is None:
        raise Http404(_("No such scan in your scope."))
    extension = evidence.file.name.rsplit(".", 1)[-1]
    return _inline_file(
        evidence.file, evidence.content_type, f"{evidence.document}-{evidence.pk}.{extension}"
    )


SIGNED_TYPES = {extension: kind for kind, extension in uploads.SCAN_TYPES.items()}


@login_required
def signed_scan_file(request, pk: int):
    change = scope_for(request.user).get_request(pk)
    if not change.signed_scan:
        raise Http404(_("The file is missing."))
    extension = change.signed_scan.name.rsplit(".", 1)[-1].lower()
    # The service named the file after the type it sniffed from the content.
    content_type = SIGNED_TYPES.get(extension, uploads.OPAQUE)
    return _inline_file(change.signed_scan, content_type, f"signed-{change.pk}.{extension}")
