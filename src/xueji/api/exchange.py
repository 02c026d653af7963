"""Student import and export (issue 3, B2): the template, imports as background jobs, and
roster exports, with the same checks and messages as the pages (exchange/services.py)."""

from typing import Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from xueji.api.common import caller, scope_of
from xueji.api.schemas import READ_ERRORS, WRITE_ERRORS, JobOut
from xueji.core.errors import RuleViolation
from xueji.core.models import Job
from xueji.exchange import excel, services

router = Router(tags=["exchange"])

XLSX = services.EXPORT_FORMATS["xlsx"]
BINARY = {"type": "string", "format": "binary"}


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get(
    "/students/template",
    response={**READ_ERRORS},
    summary="Download the Excel template for importing students",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The template: the national form's columns, text-formatted.",
                "content": {XLSX: {"schema": BINARY}},
            }
        }
    },
)
def get_student_template(request):
    scope_of(request).require("students.view")
    return _attachment(
        services.template_bytes(), services.TEMPLATE_FILENAME, services.TEMPLATE_CONTENT_TYPE
    )


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "on", "yes"}


@router.post(
    "/students/import",
    response={202: JobOut, **WRITE_ERRORS},
    summary="Import students from a spreadsheet (a background job)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": BINARY,
                            "school_id": {"type": "integer"},
                            "dry_run": {"type": "boolean", "default": False},
                            "valid_only": {"type": "boolean", "default": False},
                        },
                        "required": ["file", "school_id"],
                    }
                }
            },
        }
    },
)
def import_students(request):
    """The filled-in template (.xlsx, .xls or CSV) as the multipart field `file`. Every
    row is checked first; by default one wrong row imports nothing. Follow the job
    (GET /jobs/{id}); its result file is the upload's wrong rows with an error column."""
    scope = scope_of(request)
    scope.require("students.edit")
    upload = request.FILES.get("file")
    if upload is None:
        raise RuleViolation(_("File: choose a file to upload."), field="file")
    limit = excel.max_upload_bytes()
    if upload.size > limit:
        raise RuleViolation(
            _("File: the file is larger than %(limit)d MB; split it into smaller files.")
            % {"limit": limit // (1024 * 1024)},
            field="file",
        )
    school_id = (request.POST.get("school_id") or "").strip()
    if not school_id.isdigit():
        raise RuleViolation(_("School: choose the school to import into."), field="school_id")
    school = scope.get_unit(int(school_id))
    job = services.do_start_import(
        upload.read(),
        upload.name or "",
        actor=caller(request),
        school=school,
        dry_run=_flag(request.POST.get("dry_run")),
        valid_only=_flag(request.POST.get("valid_only")),
    )
    return Status(202, job)


@router.get(
    "/students/export",
    response={202: JobOut, **WRITE_ERRORS},
    summary="Export the filtered student list (xlsx or CSV)",
    openapi_extra={
        "parameters": [
            {"in": "query", "name": name, "required": False, "schema": {"type": kind}}
            for name, kind in (
                ("q", "string"),
                ("school", "integer"),
                ("grade", "integer"),
                ("class_name", "string"),
                ("status", "string"),
                ("special", "string"),
            )
        ],
        "responses": {
            "200": {
                "description": "The roster file (up to 5,000 rows; larger ones answer 202).",
                "content": {XLSX: {"schema": BINARY}, "text/csv": {"schema": BINARY}},
            }
        },
    },
)
def export_roster(request, format: Literal["xlsx", "csv"] = "xlsx", full: bool = False):
    """The same filters as GET /students. ID numbers and addresses are masked unless
    `full` is true and your role may reveal them; every export is audited with the ids
    of the students it contained."""
    result = services.do_export_roster(request.GET, format, actor=caller(request), full=full)
    if isinstance(result, Job):
        return Status(202, result)
    return _attachment(result.content, result.filename, result.content_type)
