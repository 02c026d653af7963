"""The change API's answers (api/changes.py): requests, evidence, steps, sessions, plans.

Each schema names its fields one by one; computed fields (labels, who owes the waiting
step, the report's facts) are resolvers reading the model instance.
"""

import datetime
from typing import Any

from ninja import Field, Schema

from xueji.changes import rules, services
from xueji.changes.models import ChangeRequest, Evidence, RequestStep
from xueji.changes.report import change_report_facts
from xueji.orgs.models import Unit
from xueji.students.rules import mask_id_number


def owed_by(request: ChangeRequest) -> Unit | None:
    """services.owed_by, asked once per request and answer."""
    if not hasattr(request, "_owed_by"):
        request._owed_by = services.owed_by(request)  # type: ignore[attr-defined]
    return request._owed_by  # type: ignore[attr-defined]


class ChangeListItem(Schema):
    id: int
    kind: str
    kind_label: str
    state: str
    state_label: str
    student_id: int
    student_name: str
    record_id: int
    from_school_id: int
    from_school_name: str
    to_school_id: int | None
    to_school_name: str | None
    outside_school: str
    reason: str
    effective_date: datetime.date
    session_id: int | None
    has_proxy: bool
    created_at: datetime.datetime
    waiting_since: datetime.datetime
    owed_by_id: int | None = Field(description="The unit that owes the step now waiting (P4).")
    owed_by_name: str | None
    waiting_working_days: int
    overdue: bool = Field(description="Waiting longer than the step limit (ten working days).")

    @staticmethod
    def resolve_kind_label(request: ChangeRequest) -> str:
        return str(request.get_kind_display())

    @staticmethod
    def resolve_state_label(request: ChangeRequest) -> str:
        return str(request.get_state_display())

    @staticmethod
    def resolve_student_name(request: ChangeRequest) -> str:
        return request.student.name

    @staticmethod
    def resolve_from_school_name(request: ChangeRequest) -> str:
        return request.from_school.name

    @staticmethod
    def resolve_to_school_name(request: ChangeRequest) -> str | None:
        return request.to_school.name if request.to_school else None

    @staticmethod
    def resolve_owed_by_id(request: ChangeRequest) -> int | None:
        unit = owed_by(request)
        return unit.pk if unit else None

    @staticmethod
    def resolve_owed_by_name(request: ChangeRequest) -> str | None:
        unit = owed_by(request)
        return unit.name if unit else None

    @staticmethod
    def resolve_waiting_working_days(request: ChangeRequest) -> int:
        return services.waiting_working_days(request) if request.is_pending else 0

    @staticmethod
    def resolve_overdue(request: ChangeRequest) -> bool:
        return services.is_overdue(request)


class EvidenceOut(Schema):
    id: int
    document: str
    document_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime.datetime
    uploaded_by_id: int | None
    checked: bool
    checked_at: datetime.datetime | None
    checked_by_id: int | None

    @staticmethod
    def resolve_document_name(evidence: Evidence) -> str:
        return rules.document_name(evidence.document)

    @staticmethod
    def resolve_checked(evidence: Evidence) -> bool:
        return evidence.checked_at is not None


class StepOut(Schema):
    action: str
    actor_id: int | None
    actor_name: str
    unit_name: str
    at: datetime.datetime
    comment: str

    @staticmethod
    def resolve_actor_name(step: RequestStep) -> str:
        return (step.actor.full_name or step.actor.username) if step.actor else ""

    @staticmethod
    def resolve_unit_name(step: RequestStep) -> str:
        return step.unit.name if step.unit else ""


class DocumentOut(Schema):
    document: str
    name: str
    checked: bool


class ProxyOut(Schema):
    name: str
    id_number: str = Field(description="Masked.")
    relation: str
    call_note: str
    call_at: datetime.datetime | None


def _facts(request: ChangeRequest) -> dict[str, Any]:
    """What the request's change report states, read once per answer; the ID number
    masked as everywhere in the API (the student API reveals it, audited)."""
    cached = getattr(request, "_report_facts", None)
    if cached is None:
        cached = change_report_facts(str(request.pk)) or {}
        cached["id_number"] = mask_id_number(cached.get("id_number", ""))
        request._report_facts = cached  # type: ignore[attr-defined]
    return cached


class ChangeOut(ChangeListItem):
    reason_label: str
    reason_note: str
    suspension_until: datetime.date | None
    to_grade: int | None
    to_class: str
    corrections: dict[str, list[Any]] = Field(description="{item key: [recorded, corrected]}")
    facts: dict[str, Any] = Field(
        description="What the change report states (the ID number masked)."
    )
    documents: list[DocumentOut] = Field(description="The documents the kind and reason need.")
    evidence: list[EvidenceOut]
    steps: list[StepOut]
    registrar_signed_at: datetime.datetime | None
    leader_signed_at: datetime.datetime | None
    has_signed_scan: bool
    needs_central_review: bool
    receiving_confirmed_at: datetime.datetime | None
    proxy: ProxyOut | None
    submitted_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    decision_reason: str
    new_record_id: int | None

    @staticmethod
    def resolve_reason_label(request: ChangeRequest) -> str:
        return rules.reasons(request.kind).get(request.reason, {}).get("label", "")

    @staticmethod
    def resolve_facts(request: ChangeRequest) -> dict[str, Any]:
        return _facts(request)

    @staticmethod
    def resolve_documents(request: ChangeRequest) -> list[dict[str, Any]]:
        return list(_facts(request).get("documents", []))

    @staticmethod
    def resolve_evidence(request: ChangeRequest) -> list[Evidence]:
        return list(request.evidence.all())

    @staticmethod
    def resolve_steps(request: ChangeRequest) -> list[RequestStep]:
        return list(request.steps.select_related("actor", "unit"))

    @staticmethod
    def resolve_has_signed_scan(request: ChangeRequest) -> bool:
        return bool(request.signed_scan)

    @staticmethod
    def resolve_needs_central_review(request: ChangeRequest) -> bool:
        return services.needs_central_review(request)

    @staticmethod
    def resolve_proxy(request: ChangeRequest) -> dict[str, Any] | None:
        if not request.has_proxy:
            return None
        return {
            "name": request.proxy_name,
            "id_number": mask_id_number(request.proxy_id_number),
            "relation": request.proxy_relation,
            "call_note": request.proxy_call_note,
            "call_at": request.proxy_call_at,
        }


class ReceivingOut(Schema):
    warnings: list[str]
    request: ChangeOut


class ApprovedOut(Schema):
    approved: int


class SessionOut(Schema):
    id: int
    date: datetime.date
    is_open: bool
    opened_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    leader_signed_at: datetime.datetime | None
    leader_signed_by_id: int | None


class SessionDetailOut(SessionOut):
    requests: list[ChangeListItem] = Field(description="In your scope, ordered by school.")


class PlanOut(Schema):
    id: int
    unit_id: int
    content_type: str
    note: str
    filed_at: datetime.datetime
    filed_by_id: int | None


class PlanStatusOut(Schema):
    unit_id: int
    unit_name: str
    filed: bool
    latest: PlanOut | None
