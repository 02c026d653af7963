"""The national-format export (P1): student records in the national system's import
layout, with the same selection, checks and audit event as the page
(exchange/national.py)."""

from django.http import HttpResponse
from ninja import Router, Status

from xueji.api.common import caller
from xueji.api.schemas import BINARY, WRITE_ERRORS, JobOut
from xueji.core.models import Job
from xueji.exchange import national, services

router = Router(tags=["exchange"])

XLSX = services.EXPORT_FORMATS["xlsx"]


@router.get(
    "/national-export",
    response={202: JobOut, **WRITE_ERRORS},
    summary="Export student records in the national system's import layout",
    openapi_extra={
        "parameters": [
            {
                "in": "query",
                "name": "school",
                "required": False,
                "description": "A school id of your scope; repeat for several. None: every "
                "school of your scope.",
                "schema": {"type": "array", "items": {"type": "integer"}},
                "style": "form",
                "explode": True,
            },
            {
                "in": "query",
                "name": "grade",
                "required": False,
                "description": "1 to 9, in the current school year. None: every grade.",
                "schema": {"type": "integer", "minimum": 1, "maximum": 9},
            },
            {
                "in": "query",
                "name": "status",
                "required": False,
                "description": "enrolled (the default: at school), open, all, or a status.",
                "schema": {"type": "string", "enum": list(national.STATUS_CHOICES)},
            },
        ],
        "responses": {
            "200": {
                "description": "One school: the workbook (the import template's sheets and "
                "columns, every value a text cell). Several schools: a ZIP with one workbook "
                "per school. More than 5,000 records answer 202 with a background job whose "
                "result file is the export.",
                "content": {XLSX: {"schema": BINARY}, "application/zip": {"schema": BINARY}},
            }
        },
    },
)
def export_national(request):
    """Full ID numbers and addresses, so it needs a role that may reveal them; every
    export is audited with the ids of the students it contained. A school id outside
    your scope answers 404."""
    selection = national.NationalSelection.from_params(request.GET)
    result = national.do_export_national(selection, actor=caller(request))
    if isinstance(result, Job):
        return Status(202, result)
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response
