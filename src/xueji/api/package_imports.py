"""Importing change packages at the bureau (C8, B6): the preview, the import, the
bureau's check of each change and the reconciliation report.

A refused package answers 400 with `code` naming the check that failed (altered_member,
bad_signature, unknown_key, revoked_key, outside_scope, replay ...) and `detail` the
sentence; nothing is written but the refusal's audit event.
"""

import datetime
import uuid

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from xueji.api.common import caller, scope_of, uploaded_file
from xueji.api.packages import (
    BINARY,
    PackageChangeOut,
    PackageOut,
    RefusalOut,
    get_package_in,
)
from xueji.api.schemas import DETAIL_ERRORS, WRITE_ERRORS
from xueji.core.scope import Scope
from xueji.packages import format, import_services, reconcile, services
from xueji.packages.models import ChangeRound, PackageChange
from xueji.packages.views import XLSX, reconciliation_xlsx

router = Router(tags=["packages"])

IMPORT_ERRORS = {**WRITE_ERRORS, 400: RefusalOut}
PACKAGE_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": BINARY, "round_id": {"type": "integer"}},
                    "required": ["file"],
                }
            }
        },
    }
}


def _refused(refusal: format.PackageRefused):
    return Status(400, {"detail": refusal.message, "field": "file", "code": refusal.code})


def _upload(request) -> bytes:
    upload = uploaded_file(request, what=_("Change package"))
    return upload.read(settings.XUEJI_PACKAGE_MAX_BYTES + 1)


def _round(request, scope: Scope) -> ChangeRound | None:
    value = (request.POST.get("round_id") or "").strip()
    if not value:
        return None
    found = scope.rounds().filter(pk=int(value)).first() if value.isdigit() else None
    if found is None:
        raise Http404(_("No such reporting round in your scope."))
    return found


class PreviewChangeOut(Schema):
    change_uid: uuid.UUID
    kind: str
    state: str
    student_name: str
    id_number_masked: str
    effective_date: datetime.date
    school_id: int | None
    verdict: str
    reason: str
    request_id: int | None
    action: str


class PreviewEntryOut(Schema):
    entry_uid: uuid.UUID
    state: str
    student_name: str
    id_number_masked: str
    grade: int | None
    school_id: int | None
    verdict: str = Field(description="new, known or conflicting")
    reason: str
    action: str = Field(description="enter, advance, or empty for nothing")


class PreviewOut(Schema):
    unit_id: int
    unit_name: str
    sequence: int
    made_at: datetime.datetime
    made_by: str
    installation: str
    selection: dict
    round_id: int | None
    already_imported_package_id: int | None
    message: str
    counts: dict[str, int]
    changes: list[PreviewChangeOut]
    intake_counts: dict[str, int] = Field(description="An offline unit's new pupils, by verdict.")
    intake_entries: list[PreviewEntryOut]


def _preview_out(preview: import_services.Preview) -> dict:
    verified = preview.verified
    made_by = verified.manifest.get("made_by") or {}
    return {
        "unit_id": verified.unit.pk,
        "unit_name": verified.unit.name,
        "sequence": verified.sequence,
        "made_at": verified.made_at,
        "made_by": str(made_by.get("name") or made_by.get("login") or ""),
        "installation": str((verified.manifest.get("installation") or {}).get("name") or ""),
        "selection": verified.manifest.get("selection") or {},
        "round_id": preview.round.pk if preview.round else None,
        "already_imported_package_id": preview.already.pk if preview.already else None,
        "message": preview.message,
        "counts": preview.counts,
        "changes": [
            {
                "change_uid": item.carried.uid,
                "kind": item.carried.kind,
                "state": item.carried.state,
                "student_name": item.carried.name,
                "id_number_masked": item.masked_id,
                "effective_date": item.carried.effective_date,
                "school_id": item.judgement.school.pk if item.judgement.school else None,
                "verdict": item.judgement.verdict,
                "reason": item.judgement.reason,
                "request_id": item.judgement.request.pk if item.judgement.request else None,
                "action": item.judgement.action,
            }
            for item in preview.changes
        ],
        "intake_counts": preview.entry_counts,
        "intake_entries": [
            {
                "entry_uid": item.carried.uid,
                "state": item.carried.state,
                "student_name": item.carried.name,
                "id_number_masked": item.masked_id,
                "grade": item.carried.grade,
                "school_id": item.judgement.school.pk if item.judgement.school else None,
                "verdict": item.judgement.verdict,
                "reason": item.judgement.reason,
                "action": item.judgement.action,
            }
            for item in preview.entries
        ],
    }


@router.post(
    "/package-imports/preview",
    response={200: PreviewOut, **IMPORT_ERRORS},
    summary="Verify a package and reconcile it, writing nothing",
    openapi_extra=PACKAGE_UPLOAD,
)
def preview_package_import(request):
    """The package as the multipart field `file`: every change with its verdict against
    the registry (reconciled, pending, unknown, conflicting) and why."""
    scope = scope_of(request)
    data = _upload(request)
    try:
        preview = import_services.preview_package(
            data, actor=caller(request), round=_round(request, scope)
        )
    except format.PackageRefused as refusal:
        return _refused(refusal)
    return _preview_out(preview)


class ImportOut(Schema):
    already_imported: bool
    message: str
    counts: dict[str, int]
    entered: int
    intake_counts: dict[str, int] = Field(description="An offline unit's new pupils, by verdict.")
    intake_entered: int = Field(description="New pupils entered into the intake for review.")
    package: PackageOut


@router.post(
    "/package-imports",
    response={200: ImportOut, 201: ImportOut, **IMPORT_ERRORS},
    summary="Import a package (bureau)",
    openapi_extra=PACKAGE_UPLOAD,
)
def import_package(request):
    """201 when imported; 200 when these very bytes were imported before (nothing
    changes). An offline unit's unknown changes enter the queue, never beyond
    "submitted"."""
    scope = scope_of(request)
    data = _upload(request)
    try:
        result = import_services.do_import_package(
            data, actor=caller(request), round=_round(request, scope)
        )
    except format.PackageRefused as refusal:
        return _refused(refusal)
    answer = {
        "already_imported": result.already,
        "message": result.message,
        "counts": result.counts,
        "entered": result.entered,
        "intake_counts": result.entry_counts,
        "intake_entered": result.entries_entered,
        "package": result.package,
    }
    return Status(200 if result.already else 201, answer)


class CheckIn(Schema):
    note: str = ""


@router.post(
    "/package-changes/{change_id}/check",
    response={200: PackageChangeOut, **WRITE_ERRORS},
    summary="Mark a packaged change as checked (bureau)",
)
def check_package_change(request, change_id: int, payload: CheckIn):
    scope = scope_of(request)
    scope.require("packages.import")
    change = PackageChange.objects.filter(pk=change_id, package__in=scope.packages()).first()
    if change is None:
        raise Http404(_("No such change in your scope."))
    return import_services.do_check_package_change(change, actor=caller(request), note=payload.note)


class FindingOut(Schema):
    kind: str
    kind_label: str
    school_id: int | None
    student_name: str
    message: str
    request_id: int | None
    record_id: int | None


class SchoolReportOut(Schema):
    school_id: int | None
    school_name: str
    counts: dict[str, int]
    changes: list[PackageChangeOut]
    findings: list[FindingOut]


class ReconciliationOut(Schema):
    package_id: int
    findings: int
    schools: list[SchoolReportOut]


def _finding_out(finding: reconcile.Finding) -> dict:
    return {
        "kind": finding.kind,
        "kind_label": finding.kind_label,
        "school_id": finding.school.pk if finding.school else None,
        "student_name": finding.student_name,
        "message": finding.message,
        "request_id": finding.request.pk if finding.request else None,
        "record_id": finding.record.pk if finding.record else None,
    }


@router.get(
    "/packages/{package_id}/reconciliation",
    response={200: ReconciliationOut, **DETAIL_ERRORS},
    summary="The reconciliation report of a package, per school",
)
def get_reconciliation(request, package_id: int):
    """Per school: the package's changes with their verdicts, and the findings (requests
    the package did not carry, approvals never recorded, transfers never confirmed,
    students who left without an approved change, conflicts)."""
    package = get_package_in(scope_of(request), package_id)
    rows = reconcile.by_school(package)
    return {
        "package_id": package.pk,
        "findings": sum(len(row["findings"]) for row in rows),
        "schools": [
            {
                "school_id": row["school"].pk if row["school"] else None,
                "school_name": row["school"].name if row["school"] else "",
                "counts": row["counts"],
                "changes": row["changes"],
                "findings": [_finding_out(finding) for finding in row["findings"]],
            }
            for row in rows
        ],
    }


@router.get(
    "/packages/{package_id}/reconciliation.xlsx",
    response={**DETAIL_ERRORS},
    summary="The reconciliation report as a spreadsheet",
    openapi_extra={
        "responses": {"200": {"description": "The report.", "content": {XLSX: {"schema": BINARY}}}}
    },
)
def get_reconciliation_xlsx(request, package_id: int):
    package = get_package_in(scope_of(request), package_id)
    services.do_record_package_read(package, actor=caller(request), what="reconciliation")
    response = HttpResponse(
        reconciliation_xlsx(package, reconcile.by_school(package)), content_type=XLSX
    )
    response["Content-Disposition"] = f'attachment; filename="reconciliation-{package.pk}.xlsx"'
    return response
