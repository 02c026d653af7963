"""Statistics (B5), the dropout watch and the units overview (S1, E1, C8, C9): the same
tables the pages show, as JSON for the caller's scope, and each table as xlsx (audited).

A table answers its headers and rows in the order the page shows them, the total row
apart, and for each row the ids behind it (`refs`: unit, student, record, request ...).
"""

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from xueji.api.common import caller, scope_of
from xueji.api.schemas import DETAIL_ERRORS, READ_ERRORS
from xueji.stats import services, tables
from xueji.stats.rules import Table

router = Router(tags=["statistics"])

BINARY = {"type": "string", "format": "binary"}


class TableOut(Schema):
    key: str
    title: str
    note: str
    headers: list[str]
    rows: list[list[str | int]]
    total: list[str | int] | None
    refs: list[dict[str, int | None]] = Field(
        description="Per row, the ids behind it: unit_id, student_id, record_id, request_id ..."
    )


class PageOut(Schema):
    scope: str = Field(description="county, township or school: what the numbers cover.")
    tables: list[TableOut]


class SemesterChoice(Schema):
    semester_id: int | None = Field(
        None, description="Changes per school: the semester (default: the current one)."
    )


class RoundChoice(Schema):
    round_id: int | None = Field(
        None, description="Units overview: the reporting round (default: the latest past due)."
    )


class TableChoices(SemesterChoice, RoundChoice):
    def options(self) -> tables.Options:
        return tables.Options(semester=self.semester_id, round=self.round_id)


def _out(table: Table) -> dict:
    return {
        "key": table.key,
        "title": table.title,
        "note": table.note,
        "headers": list(table.headers),
        "rows": [list(row) for row in table.rows],
        "total": list(table.total) if table.total is not None and table.rows else None,
        "refs": [dict(ref) for ref in table.refs],
    }


def _page(request, page: str, options: tables.Options) -> dict:
    scope = scope_of(request)
    built = tables.build_page(tables.Context(scope, options), page)
    return {"scope": scope.level, "tables": [_out(table) for table in built]}


@router.get(
    "/stats/students",
    response={200: PageOut, **READ_ERRORS},
    summary="Students at school by school, township, grade, sex, ethnicity and category",
)
def get_student_statistics(request):
    """Records at school (在校) at the schools of your scope (B5)."""
    return _page(request, tables.STUDENTS, tables.Options())


@router.get(
    "/stats/changes",
    response={200: PageOut, **READ_ERRORS},
    summary="Approved changes per semester by kind, and per school for one semester",
)
def get_change_statistics(request, filters: Query[SemesterChoice]):
    """Approved and recorded change requests, each in the semester of its effective date."""
    return _page(request, tables.CHANGES, tables.Options(semester=filters.semester_id))


@router.get(
    "/stats/intake",
    response={200: PageOut, **READ_ERRORS},
    summary="Intake progress per school for the current school year",
)
def get_intake_progress(request):
    return _page(request, tables.INTAKE, tables.Options())


@router.get(
    "/stats/dropout-watch",
    response={200: PageOut, **READ_ERRORS},
    summary="Students who may have left without an approved change (dropout watch)",
)
def get_dropout_watch(request):
    """Pupils absent at the roster check but on the roll, records closed without an
    approved change, suspensions past their end, approved transfers never recorded, and
    last summer's primary graduates found at no junior school."""
    return _page(request, tables.DROPOUT, tables.Options())


@router.get(
    "/stats/units-overview",
    response={200: PageOut, **READ_ERRORS},
    summary="Units without a registrar, printer or plan, and schools late in a round",
)
def get_units_overview(request, filters: Query[RoundChoice]):
    """The bureau's view of its units (S1, E1, C9) and of the reporting round (C8)."""
    return _page(request, tables.OVERVIEW, tables.Options(round=filters.round_id))


@router.get(
    "/stats/tables/{key}/xlsx",
    response={**DETAIL_ERRORS},
    summary="Export one statistics table as xlsx",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The table as the page shows it, text cells, with its total row.",
                "content": {services.XLSX_CONTENT_TYPE: {"schema": BINARY}},
            }
        }
    },
)
def export_statistics_table(request, key: str, filters: Query[TableChoices]):
    """`key` is a table's key as the JSON operations answer it (`schools`, `absent`,
    `late-in-round` ...). The export is recorded in the audit log with the students it
    names."""
    exported = services.do_export_table(key, filters.options(), actor=caller(request))
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response
