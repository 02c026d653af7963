"""The audit trail (B6): reading the events in scope, and verifying the chain."""

import datetime
from typing import Any

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from xueji.api.common import caller, scope_of
from xueji.api.schemas import READ_ERRORS, WRITE_ERRORS, JobOut
from xueji.core.jobs import do_enqueue_job

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    seq: int
    occurred_at: datetime.datetime
    actor_id: int | None
    actor_label: str
    unit_id: int | None
    action: str
    target_type: str
    target_id: str
    target_label: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class AuditFilters(Schema):
    action: str | None = Field(None, description="Action prefix, e.g. `user.` or `school.created`.")
    actor: int | None = Field(None, description="The acting user's id.")
    target_type: str | None = Field(None, description="e.g. `orgs.unit`, `orgs.user`.")
    target_id: str | None = None


@router.get(
    "/audit/events",
    response={200: list[AuditEventOut], **READ_ERRORS},
    summary="List audit events, newest first",
)
@paginate(LimitOffsetPagination, max_limit=500)
def list_audit_events(request, filters: Query[AuditFilters]):
    scope = scope_of(request)
    scope.require("audit.view")
    events = scope.audit_events()
    if filters.action:
        events = events.filter(action__startswith=filters.action)
    if filters.actor is not None:
        events = events.filter(actor_id=filters.actor)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id:
        events = events.filter(target_id=filters.target_id)
    return events.order_by("-seq")


@router.post(
    "/audit/verify",
    response={202: JobOut, **WRITE_ERRORS},
    summary="Verify the audit chain in the background",
)
def verify_audit_chain(request):
    """Starts the `audit.verify` job; follow it with GET /jobs/{job_id}."""
    job = do_enqueue_job("audit.verify", actor=caller(request))
    return Status(202, job)
