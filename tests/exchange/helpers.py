"""Spreadsheets for the exchange tests: the template filled in as a registrar would."""

import datetime
import io

from openpyxl import Workbook, load_workbook

from tests.students.conftest import raw_student
from xueji.exchange.excel import SHEET_NAME
from xueji.exchange.services import template_bytes
from xueji.students.form_items import BY_KEY, SHEET_ITEMS

KEYS = [item.key for item in SHEET_ITEMS]


def _fill(sheet, rows: list[dict]) -> None:
    for row_index, row in enumerate(rows, start=2):
        for key, value in row.items():
            cell = sheet.cell(row=row_index, column=KEYS.index(key) + 1, value=value)
            if isinstance(value, str):
                cell.data_type = "s"


def filled_template(rows: list[dict]) -> bytes:
    """The real template with `rows` (item key → cell value, typed as given) below the
    header: strings stay text cells, floats become number cells, as in Excel."""
    workbook = load_workbook(io.BytesIO(template_bytes()))
    _fill(workbook[SHEET_NAME], rows)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def workbook_bytes(rows: list[dict]) -> bytes:
    """A plain workbook with the template's headers (quicker to write than the template)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    sheet.append([BY_KEY[key].header for key in KEYS])
    _fill(sheet, rows)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[dict], encoding: str = "utf-8-sig") -> bytes:
    lines = [",".join(BY_KEY[key].header for key in KEYS)]
    for row in rows:
        lines.append(",".join(str(row.get(key, "")) for key in KEYS))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def read_workbook(data: bytes):
    return load_workbook(io.BytesIO(data))[SHEET_NAME]


def many_rows(count: int) -> list[dict]:
    """Valid rows with distinct ID numbers (500 per birth date)."""
    start = datetime.date(2019, 1, 1)
    return [
        raw_student(
            sequence=n % 500,
            birth=start + datetime.timedelta(days=n // 500),
            name=f"张小{'明红刚'[n % 3]}",
        )
        for n in range(count)
    ]
