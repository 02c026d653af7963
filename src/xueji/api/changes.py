"""Change requests (C1-C7, C9, N6, P4): requests and their evidence through the five
steps, the change report, the bureau's approval sessions and the units' plans.

Reads go through the caller's scope (an id outside it is answered 404, like one that does
not exist); each write calls one service of xueji.changes with the caller as actor, and
answers with the request as it now stands.
"""

import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from xueji.api.change_schemas import (
    ApprovedOut,
    ChangeListItem,
    ChangeOut,
    EvidenceOut,
    PlanOut,
    PlanStatusOut,
    ReceivingOut,
    SessionDetailOut,
    SessionOut,
    owed_by,
)
from xueji.api.common import caller, scope_of, uploaded_file
from xueji.api.schemas import (
    DETAIL_ERRORS,
    MULTIPART_FILE,
    READ_ERRORS,
    WRITE_ERRORS,
    pdf_openapi,
)
from xueji.changes import rules, services
from xueji.changes.models import (
    PENDING_STATES,
    ApprovalSession,
    ChangePlan,
    ChangeRequest,
    Evidence,
    Kind,
    State,
)
from xueji.changes.report import issue_change_report, pdf_response
from xueji.core import uploads
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope
from xueji.orgs.models import Unit

router = Router(tags=["changes"])

# Uploads are read up to just past the largest file a service accepts, so an oversized
# file is refused with the service's message without being read whole.
PLAN_FACTOR = 10

PDF_RESPONSE = pdf_openapi("The change report as an A4 PDF.")
FILE_RESPONSE = {
    "responses": {
        "200": {
            "description": "The scan as it was uploaded: JPEG, PNG or PDF.",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/jpeg", "image/png", "application/pdf")
            },
        }
    }
}


def _detail(request: ChangeRequest) -> ChangeRequest:
    """The request as it now stands, read fresh after a service changed it."""
    return ChangeRequest.objects.select_related(
        "student", "record", "from_school", "to_school"
    ).get(pk=request.pk)


# --- Finding things in the scope --------------------------------------------------------


def _request(scope: Scope, request_id: int) -> ChangeRequest:
    scope.require("changes.view")
    return scope.get_request(request_id)


def _evidence(scope: Scope, evidence_id: int) -> Evidence:
    scope.require("changes.view")
    evidence = (
        Evidence.objects.select_related("request__from_school")
        .filter(pk=evidence_id, request__in=scope.requests())
        .first()
    )
    if evidence is None:
        raise Http404(_("No such evidence in your scope."))
    return evidence


def _sessions(scope: Scope):
    scope.require("changes.view")
    county = scope.county()
    return (
        ApprovalSession.objects.filter(county=county) if county else ApprovalSession.objects.none()
    )


# --- Requests ---------------------------------------------------------------------------


class ChangeFilters(Schema):
    state: State | None = None
    kind: Kind | None = None
    school: int | None = Field(None, description="Sent from or to this school (id).")
    waiting: Literal["mine"] | None = Field(
        None, description="`mine`: only pending requests whose waiting step your unit owes."
    )


@router.get(
    "/changes",
    response={200: list[ChangeListItem], **READ_ERRORS},
    summary="List change requests",
)
@paginate(LimitOffsetPagination, max_limit=200)
def list_changes(request, filters: Query[ChangeFilters]):
    """The requests sent from or to a school of your scope, newest first, each with the
    unit that owes its waiting step, the working days it has waited and whether that is
    past the limit."""
    scope = scope_of(request)
    scope.require("changes.view")
    requests = scope.requests()
    if filters.state:
        requests = requests.filter(state=filters.state)
    if filters.kind:
        requests = requests.filter(kind=filters.kind)
    if filters.school is not None:
        school = scope.get_unit(filters.school)
        requests = requests.filter(from_school=school) | requests.filter(to_school=school)
    if filters.waiting == "mine":
        # Who owes a step is decided in one place (services.owed_by), row by row.
        mine = scope.unit.pk if scope.unit else None
        pending = requests.filter(state__in=PENDING_STATES)
        return [item for item in pending if (owed := owed_by(item)) and owed.pk == mine]
    return requests


# Before /changes/{request_id}: ninja matches path parameters as strings first.
class ManyIn(Schema):
    request_ids: list[int] = Field(min_length=1)


@router.post(
    "/changes/decisions",
    response={200: ApprovedOut, **WRITE_ERRORS},
    summary="Approve a selection of requests at once",
)
def approve_changes(request, payload: ManyIn):
    """All of them or none: one refusal (a request not submitted, a session not open)
    approves nothing."""
    scope = scope_of(request)
    scope.require("changes.view")
    wanted = set(payload.request_ids)
    found = list(scope.requests().filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise Http404(_("No such request in your scope."))
    return {"approved": services.do_approve_many(found, actor=caller(request))}


@router.get(
    "/changes/{request_id}",
    response={200: ChangeOut, **DETAIL_ERRORS},
    summary="One change request",
)
def get_change(request, request_id: int):
    """The request with the facts its report states, the documents it needs, its
    evidence, every step taken, its signatures, proxy and decision."""
    return _detail(_request(scope_of(request), request_id))


class ChangeIn(Schema):
    record_id: int
    kind: Kind
    reason: str = Field(description="A reason of the kind (see the rules configuration).")
    reason_note: str = ""
    effective_date: datetime.date
    to_school_id: int | None = Field(None, description="Transfers within the county.")
    outside_school: str = Field("", description="Transfers into or out of the county.")
    to_grade: int | None = None
    to_class: str = ""
    corrections: dict[str, Any] = Field(
        default_factory=dict, description="Corrections: {item key: corrected value}."
    )


@router.post(
    "/changes",
    response={201: ChangeOut, **WRITE_ERRORS},
    summary="Start a change request",
)
def create_change(request, payload: ChangeIn):
    """The school of the record starts a request; step 1 (the documents) follows."""
    scope = scope_of(request)
    scope.require("changes.request")
    record = scope.records().select_related("school").filter(pk=payload.record_id).first()
    if record is None:
        raise Http404(_("No such record in your scope."))
    to_school = None
    if payload.to_school_id is not None:
        # The receiving school lies outside a school's own scope; any school of the
        # county may be named, and the service judges it (C5).
        to_school = Unit.objects.filter(
            pk=payload.to_school_id, county_id=record.school.county_id
        ).first()
        if to_school is None:
            raise RuleViolation(
                _("Receiving school: choose an open school of the county."), field="to_school"
            )
    created = services.do_create_request(
        record,
        payload.kind,
        actor=caller(request),
        reason=payload.reason,
        reason_note=payload.reason_note,
        effective_date=payload.effective_date,
        to_school=to_school,
        outside_school=payload.outside_school,
        to_grade=payload.to_grade,
        to_class=payload.to_class,
        corrections=payload.corrections,
    )
    return Status(201, _detail(created))


# --- Step 1: evidence -------------------------------------------------------------------


@router.post(
    "/changes/{request_id}/evidence",
    response={201: EvidenceOut, **WRITE_ERRORS},
    summary="Upload a scan of a required document",
)
def add_evidence(
    request,
    request_id: int,
    document: Form[str],
    file: File[UploadedFile],
):
    """A JPG, PNG or PDF (judged by content) of one of the documents the request needs;
    `document` is the document's key (household_register ...), as GET /changes/{id}
    lists them."""
    scope = scope_of(request)
    change = _request(scope, request_id)
    data = file.read(rules.evidence_max_bytes() + 1)
    return Status(201, services.do_add_evidence(change, document, data, actor=caller(request)))


@router.post(
    "/evidence/{evidence_id}/check",
    response={200: EvidenceOut, **WRITE_ERRORS},
    summary="Mark a scan as checked against the original",
)
def check_evidence(request, evidence_id: int):
    evidence = _evidence(scope_of(request), evidence_id)
    return services.do_check_evidence(evidence, actor=caller(request))


@router.get(
    "/evidence/{evidence_id}/file",
    response={**DETAIL_ERRORS},
    summary="The scan of a document",
    openapi_extra=FILE_RESPONSE,
)
def get_evidence_file(request, evidence_id: int):
    evidence = _evidence(scope_of(request), evidence_id)
    # The type the content was verified to be (anything else is opaque bytes to save), no
    # sniffing, a policy that lets nothing run, never kept by a shared cache
    # (core/uploads.py), as the web page serves it.
    shown = evidence.content_type in uploads.SCAN_TYPES
    served = evidence.content_type if shown else uploads.OPAQUE
    with evidence.file.open("rb") as scan:
        response = HttpResponse(scan.read(), content_type=served)
    extension = uploads.SCAN_TYPES.get(evidence.content_type, "bin")
    disposition = "inline" if shown else "attachment"
    response["Content-Disposition"] = (
        f'{disposition}; filename="{evidence.document}-{evidence.pk}.{extension}"'
    )
    return uploads.protect(response, served)


@router.post(
    "/changes/{request_id}/documents-checked",
    response={200: ChangeOut, **WRITE_ERRORS},
    summary="Pass step 1: every required document checked",
)
def pass_documents(request, request_id: int):
    change = _request(scope_of(request), request_id)
    return _detail(services.do_pass_documents(change, actor=caller(request)))


# --- Steps 2 and 3: the report, signatures, central review ------------------------------


@router.get(
    "/changes/{request_id}/report.pdf",
    response={**WRITE_ERRORS},
    summary="Print the change report",
    openapi_extra=PDF_RESPONSE,
)
def get_change_report(request, request_id: int):
    """Step 2: issues a verifiable paper and marks the report printed (a reprint later is
    a new paper). A rural primary school without a printer has its central school print."""
    change = _request(scope_of(request), request_id)
    if not services.may_print(caller(request), change):
        raise PermissionDenied(_("You may not print this request's report."))
    _paper, pdf = issue_change_report(change, actor=caller(request))
    return pdf_response(change, pdf)


@router.post(
    "/changes/{request_id}/sign",
    response={200: ChangeOut, **WRITE_ERRORS},
    summary="Sign the printed report (registrar or leader)",
)
def sign_change(request, request_id: int):
    change = _request(scope_of(request), request_id)
    return _detail(services.do_sign(change, actor=caller(request)))


@router.put(
    "/changes/{request_id}/signed-scan",
    response={200: ChangeOut, **WRITE_ERRORS},
    summary="Upload the scan of the signed and stamped report",
    openapi_extra=MULTIPART_FILE,
)
def set_signed_scan(request, request_id: int):
    """A JPG, PNG or PDF as the multipart field `file`."""
    change = _request(scope_of(request), request_id)
    data = uploaded_file(request, what=_("Scan")).read(rules.evidence_max_bytes() + 1)
    return _detail(services.do_upload_signed_scan(change, data, actor=caller(request)))


class CentralReviewIn(Schema):
    approve: bool
    comment: str = ""


@router.post(
    "/changes/{request_id}/central-review",
    response={200: ChangeOut, **WRITE_ERRORS},
    summary="Re-review a rural school's request (central school)",
)
def central_review(request, request_id: int, payload: CentralReviewIn):
    """Approve and stamp, or return it to the school (a comment says why)."""
    change = _request(scope_of(request), request_id)
    return _detail(
        services.do_central_review(
            change, actor=caller(request), approve=payload.approve, comment=payload.comment
        )
    )


class ReceivingIn(Schema):
    to_grade: int
    to_class: str


@router.post(
    "/changes/{request_id}/receiving",
    response={200: ReceivingOut, **WRITE_ERRORS},
    summary="Confirm the receiving school can take the student",
)
def confirm_receiving(request, request_id: int, payload: ReceivingIn):
    """A transfer's receiving school names grade and class; a class over its cap warns."""
    change = _request(scope_of(request), request_id)
    warnings = services.do_confirm_receiving(
        change, actor=caller(request), to_grade=payload.to_grade, to_class=payload.to_class
    )
    return {"warnings": warnings, "request": _detail(change)}


# --- Step 4: submission and decisions ---------------------------------------------------


class ProxyIn(Schema):
    name: str
    id_number: str
    relation: str
    call_note: str = Field(description="The phone call with the bureau that allowed the proxy.")


class SubmitIn(Schema):
    proxy: ProxyIn | None = None


@router.post(
    "/changes/{request_id}/submit",
    response={200: ChangeOut, **WRITE_ERRORS},
    summary="Submit a request to the bureau",
)
def submit_change(request, request_id: int, payload: SubmitIn):
    """It queues for the next approval session; a proxy carrying it is recorded (C7)."""
    change = _request(scope_of(request), request_id)
    proxy = payload.proxy.model_dump() if payload.proxy else None
    return _detail(services.do_submit(change, actor=caller(request), proxy=proxy))


class DecisionIn(Schema):
    approve: bool
    reason: str = Field("", description="Needed for a refusal.")


@router.post(
    "/changes/{request_id}/decision",
    response={200: ChangeOut, **WRITE_ERRORS},
    summary="Approve or refuse a request (bureau, in an open session)",
)
def decide_change(request, request_id: int, payload: DecisionIn):
    change = _request(scope_of(request), request_id)
    return _detail(
        services.do_decide(
            change, actor=caller(request), approve=payload.approve, reason=payload.reason
        )
    )


# --- Step 5 and withdrawal --------------------------------------------------------------


@router.post(
    "/changes/{request_id}/record",
    response={200: ChangeOut, **WRITE_ERRORS},
    summary="Record an approved change",
)
def record_change(request, request_id: int):
    """Step 5; for a transfer, the receiving school confirms the student arrived."""
    change = _request(scope_of(request), request_id)
    return _detail(services.do_record(change, actor=caller(request)))


class WithdrawIn(Schema):
    reason: str


@router.post(
    "/changes/{request_id}/withdraw",
    response={200: ChangeOut, **WRITE_ERRORS},
    summary="Withdraw a request not yet approved",
)
def withdraw_change(request, request_id: int, payload: WithdrawIn):
    change = _request(scope_of(request), request_id)
    return _detail(services.do_withdraw(change, actor=caller(request), reason=payload.reason))


# --- Approval sessions ------------------------------------------------------------------


def _session_detail(scope: Scope, session: ApprovalSession) -> dict[str, Any]:
    requests = scope.requests().filter(session=session).order_by("from_school__name", "pk")
    return {
        **{name: getattr(session, name) for name in SessionOut.model_fields},
        "requests": list(requests),
    }


@router.get(
    "/sessions",
    response={200: list[SessionOut], **READ_ERRORS},
    summary="List the bureau's approval sessions",
)
@paginate(LimitOffsetPagination, max_limit=200)
def list_sessions(request):
    """The county's weekly sessions, newest first."""
    return _sessions(scope_of(request))


# Before /sessions/{session_id}, for the same reason as /changes/decisions.
@router.post(
    "/sessions/open",
    response={200: SessionDetailOut, **WRITE_ERRORS},
    summary="Open today's (or the next) session",
)
def open_session(request):
    scope = scope_of(request)
    scope.require("changes.view")
    session = services.do_open_session(scope.county(), actor=caller(request))
    return _session_detail(scope, session)


@router.get(
    "/sessions/{session_id}",
    response={200: SessionDetailOut, **DETAIL_ERRORS},
    summary="One approval session and its requests",
)
def get_session(request, session_id: int):
    scope = scope_of(request)
    session = _sessions(scope).filter(pk=session_id).first()
    if session is None:
        raise Http404(_("No such session in your scope."))
    return _session_detail(scope, session)


def _session(scope: Scope, session_id: int) -> ApprovalSession:
    session = _sessions(scope).filter(pk=session_id).first()
    if session is None:
        raise Http404(_("No such session in your scope."))
    return session


@router.post(
    "/sessions/{session_id}/close",
    response={200: SessionDetailOut, **WRITE_ERRORS},
    summary="Close a session",
)
def close_session(request, session_id: int):
    """What it did not decide waits for the next session."""
    scope = scope_of(request)
    session = services.do_close_session(_session(scope, session_id), actor=caller(request))
    return _session_detail(scope, session)


@router.post(
    "/sessions/{session_id}/sign-off",
    response={200: SessionDetailOut, **WRITE_ERRORS},
    summary="Sign off a session (bureau leader)",
)
def sign_off_session(request, session_id: int):
    scope = scope_of(request)
    session = services.do_leader_signoff(_session(scope, session_id), actor=caller(request))
    return _session_detail(scope, session)


# --- C9: plans --------------------------------------------------------------------------


@router.get(
    "/plans",
    response={200: list[PlanStatusOut], **READ_ERRORS},
    summary="Who has filed a change-management plan",
)
def list_plans(request):
    """The bureau sees every school of the county with its latest plan, or none; a school
    sees its own."""
    scope = scope_of(request)
    scope.require("changes.view")
    if scope.level == scope.COUNTY:
        units = list(scope.schools().filter(is_active=True).order_by("name"))
    else:
        units = [scope.unit] if scope.unit is not None else []
    latest: dict[int, ChangePlan] = {}
    for plan in ChangePlan.objects.filter(unit__in=[unit.pk for unit in units]).order_by(
        "filed_at", "pk"
    ):
        latest[plan.unit_id] = plan
    return [
        {
            "unit_id": unit.pk,
            "unit_name": unit.name,
            "filed": unit.pk in latest,
            "latest": latest.get(unit.pk),
        }
        for unit in units
    ]


@router.post(
    "/plans",
    response={201: PlanOut, **WRITE_ERRORS},
    summary="File your unit's change-management plan",
)
def file_plan(request, file: File[UploadedFile], note: Form[str] = ""):
    """A PDF, JPG or PNG, filed for your own unit."""
    scope = scope_of(request)
    if scope.unit is None:
        raise PermissionDenied(_("Your role may not do this."))
    data = file.read(PLAN_FACTOR * rules.evidence_max_bytes() + 1)
    plan = services.do_file_plan(scope.unit, data, actor=caller(request), note=note)
    return Status(201, plan)
