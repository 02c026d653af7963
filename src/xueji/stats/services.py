"""Exporting a statistics table: the only thing the statistics do that the audit log must
know (who took which numbers, and which students' names, out of the registry)."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from xueji.audit.services import record_event
from xueji.core.scope import scope_for
from xueji.exchange import excel
from xueji.exchange.services import EXPORT_FORMATS
from xueji.stats import tables

XLSX_CONTENT_TYPE = EXPORT_FORMATS["xlsx"]
# A sheet name holds at most 31 characters and none of []:*?/\ (Excel's rule).
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = str.maketrans({character: " " for character in "[]:*?/\\"})


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    content_type: str
    rows: int


def sheet_name(title: str) -> str:
    return title.translate(SHEET_NAME_FORBIDDEN).strip()[:SHEET_NAME_MAX] or "Sheet"


def do_export_table(
    key: str, options: tables.Options, *, actor, today: datetime.date | None = None
) -> ExportFile:
    """One table of a statistics page as xlsx, exactly as the page shows it for the
    actor's scope (text cells, safe against formula injection), and the audit event."""
    table = tables.build_table(tables.Context(scope_for(actor), options, today), key)
    headers = list(table.headers)
    rows = table.text_rows()
    content = excel.write_table_xlsx(headers, rows, sheet_name=sheet_name(table.title))
    students = sorted({int(ref["student_id"] or 0) for ref in table.refs if ref.get("student_id")})
    with transaction.atomic():
        record_event(
            "stats.exported",
            actor=actor,
            data={
                "table": key,
                "title": table.title,
                "rows": len(table.rows),
                "options": options.as_dict(),
                "students": students,
            },
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(content, f"{key}-{stamp}.xlsx", XLSX_CONTENT_TYPE, len(table.rows))
