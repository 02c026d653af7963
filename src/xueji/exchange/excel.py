"""Spreadsheet files in and out: the student template, reading uploads, the error
workbook, and plain tables for the roster export.

Nothing here touches the database. Reading gives typed cells exactly as the file holds
them (text, numbers, dates) so students/validation.py can recognise what Excel did to a
value (an ID number turned into 1.2E+17); writing keeps every value as text, so Excel
cannot do it again.
"""

import csv
import html
import io
import operator
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import IO, Any
from xml.etree import ElementTree

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from xueji.core.errors import RuleViolation
from xueji.exchange.xlsx_guard import (
    CELL_BEYOND_COLUMNS,
    MAX_COLUMN,
    beyond_limits,
    check_xlsx_archive,
)
from xueji.students import codes, form_items
from xueji.students.form_items import SHEET_ITEMS, Item

# Sheet names and headers are the national form's wording: data, whatever the language.
SHEET_NAME = "学生信息"
GUIDE_SHEET = "填写说明"
CODES_SHEET = "代码表"
ERROR_HEADER = "错误说明"
REQUIRED_NOTE = "必填"

# Rows of the template prepared as text cells; the column style covers any row below.
TEMPLATE_ROWS = 2000
TEXT_FORMAT = "@"
RED = PatternFill("solid", fgColor="FFC7CE")
YELLOW = PatternFill("solid", fgColor="FFEB9C")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
# The header is looked for in the first rows: some registrars keep a title line above it.
HEADER_SEARCH_ROWS = 10
MAX_COLUMNS = column_index_from_string(MAX_COLUMN)

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLSX, XLS, CSV = "xlsx", "xls", "csv"

# Items whose values are digit strings that an Excel number cell would destroy.
DIGIT_KINDS = {
    form_items.ID_NUMBER,
    form_items.PHONE,
    form_items.POSTAL,
    form_items.DIVISION,
    form_items.NUMBER,
}
# Characters that make a spreadsheet treat a cell as a formula (CSV/formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def max_upload_bytes() -> int:
    return int(getattr(settings, "XUEJI_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def header_key(text: object) -> str:
    """A header cell as compared: no whitespace anywhere, no required-marker star."""
    value = "".join(str(text if text is not None else "").split())
    return value.strip("*＊")


HEADERS: dict[str, str] = {header_key(item.header): item.key for item in SHEET_ITEMS}


def _format_hint(item: Item) -> str:
    """The guide sheet's "format" column (Chinese, like the rest of the template)."""
    hints = {
        form_items.DATE: "YYYY-MM-DD 或 YYYYMMDD，如 2019-03-15",
        form_items.YEAR_MONTH: "YYYYMM，如 202609",
        form_items.DIVISION: "12 位行政区划代码，如 370828102000",
        form_items.ID_NUMBER: "18 位身份证件号，单元格须为文本格式",
        form_items.PHONE: "11 位手机号或带区号的固定电话，如 0537-1234567",
        form_items.POSTAL: "6 位数字",
        form_items.EMAIL: "电子信箱地址",
        form_items.DECIMAL: "公里数，如 2.5",
        form_items.GRADE: "1 至 9",
        form_items.YES_NO: "是 或 否",
        form_items.NUMBER: "11 或 13 位数字",
        form_items.NAME: "中文姓名，少数民族姓名用间隔号 ·",
        form_items.CODE: "填写代码或名称",
    }
    hint = hints.get(item.kind, "文本")
    if item.max_length:
        hint += f"（最多 {item.max_length} 个字）"
    return hint


def _allowed(item: Item) -> str:
    if not item.table:
        return ""
    return "；".join(f"{code} {name}" for code, name in codes.names(item.table).items())


# ---------------------------------------------------------------------------------------
# The template


def write_template(target: str | IO[bytes]) -> None:
    """The national form's columns in order, required ones red with a note, every column
    text-formatted, drop-down lists for coded items, and a guide sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_NAME
    code_sheet = workbook.create_sheet(CODES_SHEET)
    code_sheet.sheet_state = "hidden"
    table_ranges = _write_code_lists(code_sheet)
    last_row = TEMPLATE_ROWS + 1
    for column, item in enumerate(SHEET_ITEMS, start=1):
        letter = get_column_letter(column)
        cell = sheet.cell(row=1, column=column, value=item.header)
        cell.data_type = "s"
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.font = Font(bold=True, color="C00000" if item.required else "000000")
        if item.required:
            cell.comment = Comment(REQUIRED_NOTE, "xueji")
        dimension = sheet.column_dimensions[letter]
        dimension.width = _header_width(item)
        # The column style makes cells typed below row 2,001 text as well.
        dimension.number_format = TEXT_FORMAT
        for row in range(2, last_row + 1):
            sheet.cell(row=row, column=column).number_format = TEXT_FORMAT
        if item.table and item.table in table_ranges:
            # Offered, not enforced: the import accepts codes as well as names.
            validation = DataValidation(
                type="list",
                formula1=table_ranges[item.table],
                allow_blank=True,
                showErrorMessage=False,
            )
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 32
    _write_guide(workbook.create_sheet(GUIDE_SHEET, 1))
    workbook.active = 0
    workbook.save(target)


def _code_lists() -> list[tuple[str, list[str]]]:
    """The code tables the sheet's items use, each with its names in the standard's order."""
    tables = sorted({item.table for item in SHEET_ITEMS if item.table})
    return [(table, list(codes.names(table).values())) for table in tables]


def _code_ranges() -> dict[str, str]:
    """Where each table's names lie on the hidden code sheet (one column per table)."""
    ranges: dict[str, str] = {}
    for column, (table, names) in enumerate(_code_lists(), start=1):
        letter = get_column_letter(column)
        ranges[table] = f"'{CODES_SHEET}'!${letter}$2:${letter}${len(names) + 1}"
    return ranges


def _write_code_lists(sheet) -> dict[str, str]:
    """One column per code table on a hidden sheet: a list longer than 255 characters
    (the 56 ethnic groups) cannot live in the validation formula itself."""
    for column, (table, names) in enumerate(_code_lists(), start=1):
        sheet.cell(row=1, column=column, value=table)
        for row, name in enumerate(names, start=2):
            sheet.cell(row=row, column=column, value=name).data_type = "s"
    return _code_ranges()


GUIDE_HEADERS = ("列名", "是否必填", "填写格式", "可填代码或名称")
GUIDE_NOTES = (
    "",
    "说明：",
    "1. 请勿改动第一行的列名；列的顺序可以调整，多余的列会被忽略。",
    "2. 身份证件号、电话、邮政编码、行政区划代码等列已设为文本格式，请勿改为数字格式，"
    "否则 Excel 会把身份证件号变成 1.2E+17。",
    "3. 日期写作 YYYY-MM-DD 或 YYYYMMDD；入学年月写作 YYYYMM。",
    "4. 有代码的列可以填代码，也可以填名称（如 民族 填 01 或 汉族）。",
    "5. 导入时先检查全部行；有错误的行会在返回的文件中标红并说明原因，改正后重新上传即可。",
)
GUIDE_WIDTHS = (26, 10, 44, 90)


def _guide_rows() -> list[tuple[str, ...]]:
    """The guide sheet below its header: one row per column of the template, then notes."""
    rows: list[tuple[str, ...]] = [
        (item.header, "是" if item.required else "否", _format_hint(item), _allowed(item))
        for item in SHEET_ITEMS
    ]
    return rows + [(note,) for note in GUIDE_NOTES]


def _write_guide(sheet) -> None:
    sheet.append(GUIDE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for row in _guide_rows():
        sheet.append(row)
    for letter, width in zip("ABCD", GUIDE_WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"


def _header_width(item: Item) -> int:
    return max(10, min(30, len(item.header) * 2 + 4))


# ---------------------------------------------------------------------------------------
# The template filled in: the national-format export (P1)


def write_filled_template(rows: Iterable[Sequence[str]]) -> bytes:
    """The template's workbook with `rows` below its header, one value per column of
    SHEET_ITEMS: the same sheets, header row, text-formatted columns and drop-down lists
    as write_template, so the file imports here as it does into the national system.

    Streaming (write-only) mode keeps a school of thousands of students within memory.
    Every value is a text cell in a text-formatted column, so Excel never turns an ID
    number into 1.2E+17, not even when a registrar retypes it; a value a spreadsheet would
    run as a formula gets the leading apostrophe of `neutralise`, as in every export."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    for column, item in enumerate(SHEET_ITEMS, start=1):
        dimension = sheet.column_dimensions[get_column_letter(column)]
        dimension.width = _header_width(item)
        dimension.number_format = TEXT_FORMAT
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 32
    sheet.append([_header_cell(sheet, item) for item in SHEET_ITEMS])
    written = 0
    for row in rows:
        sheet.append([_filled_cell(sheet, value) for value in row])
        written += 1
    # The drop-down lists cover the rows written, and at least the template's own rows.
    last_row = max(TEMPLATE_ROWS, written) + 1
    ranges = _code_ranges()
    for column, item in enumerate(SHEET_ITEMS, start=1):
        if item.table and item.table in ranges:
            letter = get_column_letter(column)
            validation = DataValidation(
                type="list", formula1=ranges[item.table], allow_blank=True, showErrorMessage=False
            )
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.data_validations.append(validation)
    _write_guide_streaming(workbook.create_sheet(GUIDE_SHEET))
    code_sheet = workbook.create_sheet(CODES_SHEET)
    code_sheet.sheet_state = "hidden"
    lists = _code_lists()
    code_sheet.append([table for table, _names in lists])
    for index in range(max(len(names) for _table, names in lists)):
        code_sheet.append(
            [
                _filled_cell(code_sheet, names[index] if index < len(names) else "")
                for _t, names in lists
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header_cell(sheet, item: Item) -> WriteOnlyCell:
    """A header cell exactly as write_template makes it (red and noted when required)."""
    cell = WriteOnlyCell(sheet, value=item.header)
    cell.data_type = "s"
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    cell.font = Font(bold=True, color="C00000" if item.required else "000000")
    if item.required:
        cell.comment = Comment(REQUIRED_NOTE, "xueji")
    return cell


def _filled_cell(sheet, value: str) -> WriteOnlyCell:
    if not value:
        # An empty cell keeps the text format, as the template's empty rows do.
        cell = WriteOnlyCell(sheet, value=None)
        cell.number_format = TEXT_FORMAT
        return cell
    return _text_cell(sheet, neutralise(value))


def _write_guide_streaming(sheet) -> None:
    for letter, width in zip("ABCD", GUIDE_WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append(
        [_text_cell(sheet, text, font=Font(bold=True), fill=HEADER_FILL) for text in GUIDE_HEADERS]
    )
    for row in _guide_rows():
        sheet.append(list(row))


# ---------------------------------------------------------------------------------------
# Reading


@dataclass
class Sheet:
    """An uploaded sheet: its header row, which column holds which item, and its rows."""

    headers: list[str]
    columns: dict[str, int]  # item key -> column index
    total: int  # rows below the header, empty ones included (for progress)
    _rows: Callable[[], Iterator[tuple[int, list[Any]]]]

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number in the sheet, cells) for every row below the header that is not
        entirely empty. Each call reads from the start, so a second pass is possible."""
        return self._rows()

    def raw_row(self, cells: Sequence[Any]) -> dict[str, Any]:
        """One row as validation wants it: item key -> cell, as typed in the file."""
        if len(cells) > self._widest:
            # The usual row, as wide as the header: every column picked at once, in C.
            return dict(zip(self._keys, self._pick(cells), strict=True))
        return {key: cells[index] for key, index in self.columns.items() if index < len(cells)}

    def __post_init__(self) -> None:
        self._keys = list(self.columns)
        self._widest = max(self.columns.values(), default=0)
        indexes = [self.columns[key] for key in self._keys]
        # itemgetter of one index gives the cell itself, not a tuple of one.
        getter = operator.itemgetter(*indexes) if indexes else None
        if len(indexes) == 1:
            self._pick = lambda cells: (getter(cells),)  # type: ignore[misc]
        else:
            self._pick = getter or (lambda cells: ())  # type: ignore[assignment,return-value]


def sniff(data: bytes) -> str:
    """The kind of file by its content, never by its name."""
    if data.startswith(XLSX_MAGIC):
        return XLSX
    if data.startswith(OLE_MAGIC):
        return XLS
    if decode_text(data) is not None:
        return CSV
    raise RuleViolation(
        _(
            "File: this is not a spreadsheet. Upload the Excel template (.xlsx or .xls) "
            "or a CSV file."
        ),
        field="file",
    )


def check_upload(data: bytes) -> str:
    """Refuse what must not be read at all: an empty, oversized or non-spreadsheet file."""
    limit = max_upload_bytes()
    if not data:
        raise RuleViolation(_("File: the file is empty."), field="file")
    if len(data) > limit:
        raise RuleViolation(
            _("File: the file is larger than %(limit)d MB; split it into smaller files.")
            % {"limit": limit // (1024 * 1024)},
            field="file",
        )
    return sniff(data)


def decode_text(data: bytes) -> str | None:
    """CSV text in UTF-8 (with or without a byte-order mark) or GBK (what Excel writes on
    a Chinese Windows), or None when the bytes are not text at all."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:65536]
        if any(ch < " " and ch not in "\t\r\n" for ch in sample):
            return None  # binary content that happens to decode
        return text
    return None


def read_sheet(data: bytes, *, max_rows: int = MAX_ROWS) -> Sheet:
    """Read an upload (xlsx, xls or CSV) and find its columns by their headers."""
    kind = check_upload(data)
    if kind == CSV:
        grid = _csv_grid(decode_text(data) or "")
        return _sheet_from(lambda: iter(grid), len(grid), max_rows)
    last_row = max_rows + HEADER_SEARCH_ROWS
    if kind == XLSX:
        # Unpacked before any reader sees it: a zip bomb would otherwise exhaust the
        # memory (xlsx_guard.py). The sheet's references are searched by the stream's own
        # survey, or below before calamine or openpyxl sizes its grid by them.
        check_xlsx_archive(data, max_row=last_row, references=False)
    # An .xlsx streams row by row (bounded memory, whatever its size); calamine reads
    # what the stream does not know (.xls, unusual parts), openpyxl what calamine cannot.
    opener = _stream_opener(data, last_row) if kind == XLSX else None
    if opener is None and kind == XLSX:
        check_xlsx_archive(data, max_row=last_row)
    if opener is None:
        opener = _calamine_opener(data, kind)
    if opener is None:
        opener = _openpyxl_opener(data) if kind == XLSX else None
    if opener is None:
        raise RuleViolation(
            _("File: the workbook cannot be read; save it again in Excel as .xlsx and upload it."),
            field="file",
        )
    rows, height = opener
    return _sheet_from(rows, height, max_rows)


RowSource = Callable[[], Iterator[Sequence[Any]]]


def _calamine_opener(data: bytes, kind: str) -> tuple[RowSource, int] | None:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = workbook.sheet_names
        if not names:
            return None
        name = SHEET_NAME if SHEET_NAME in names else names[0]
        sheet = workbook.get_sheet_by_name(name)
        height = sheet.height
        start = sheet.start
        # Calamine's range starts at the first cell in use: pad the rows above it, so
        # row numbers are the sheet's own.
        offset = start[0] if start else 0

        def rows() -> Iterator[Sequence[Any]]:
            for _blank in range(offset):
                yield []
            yield from sheet.iter_rows()

        # Touch the first row now: a damaged file fails here, not in the middle.
        next(iter(sheet.iter_rows()), None)
        return rows, height + offset
    except Exception:  # any damage: let openpyxl try (xlsx), or refuse the file
        return None


# --- Streaming .xlsx reader ---------------------------------------------------------------
# Calamine holds the whole sheet in memory, about 7 KB per row of the national template
# (750 MB for 100,000 rows). The sheet's XML is read here in slices of whole rows
# instead, and each slice is taken apart by regular expressions that run in C. The
# cells come back as calamine gives them: text as str, numbers as float, dates (by
# their cell style) as date or datetime, booleans as bool, an empty cell as "".

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
STREAM_SLICE_BYTES = 1 << 20
# The common cell forms: <c r="B2" s="1" t="s"><v>5</v></c>, an inline string, <c r=".."/>.
_FAST_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})\d+"((?: [a-zA-Z:]+="[^"]*")*) ?'
    rb"(?:/>|><v>([^<]*)</v></c>|><is><t(?: xml:space=\"preserve\")?>([^<]*)</t></is></c>)"
)
# Any cell, for rows the fast form does not cover (formulas, rich text, no reference).
_ANY_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTRIBUTE = re.compile(rb'([a-zA-Z:]+)="([^"]*)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_TEXT = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_EXCEL_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_BUILTIN_DATE_FORMATS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)}
_BUILTIN_DATE_FORMATS |= set(range(71, 82))
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


class _Unreadable(Exception):
    pass


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number - 1


def _unescape(raw: bytes) -> str:
    text = raw.decode("utf-8")
    if "&" in text:
        text = html.unescape(text)
    if "_x" in text:
        text = _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)
    return text


def _rich_text(inner: bytes) -> str:
    """The text of <si> or <is>: its <t> runs, without the phonetic guide (<rPh>)."""
    if b"<rPh" in inner:
        inner = _PHONETIC.sub(b"", inner)
    return "".join(_unescape(part) for part in _TEXT.findall(inner))


@dataclass
class _Book:
    sheet_part: str
    shared: list[str]
    date_styles: frozenset[int]
    epoch: datetime
    height: int
    width: int
    max_row: int  # the last row a sheet may use (for the refusal of one beyond it)


def _parsed(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    """A small part of the workbook as a tree. No file of ours declares entities: one
    that does is left to calamine, which never expands them."""
    content = archive.read(name)
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise _Unreadable
    return ElementTree.fromstring(content)


def _sheet_part(archive: zipfile.ZipFile) -> tuple[str, bool]:
    """The part of the template's sheet (or the first sheet), and the 1904 date system."""
    workbook = _parsed(archive, "xl/workbook.xml")
    sheets = workbook.findall(f"{_NS_MAIN}sheets/{_NS_MAIN}sheet")
    if not sheets:
        raise _Unreadable
    chosen = next((sheet for sheet in sheets if sheet.get("name") == SHEET_NAME), sheets[0])
    properties = workbook.find(f"{_NS_MAIN}workbookPr")
    date1904 = properties is not None and properties.get("date1904") in ("1", "true")
    relation = chosen.get(f"{_NS_REL}id")
    rels = _parsed(archive, "xl/_rels/workbook.xml.rels")
    for rel in rels.findall(f"{_NS_PKG_REL}Relationship"):
        if rel.get("Id") == relation:
            target = rel.get("Target") or ""
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            return part, date1904
    raise _Unreadable


def _date_styles(archive: zipfile.ZipFile) -> frozenset[int]:
    """The cell styles (cellXfs positions) whose number format is a date or a time."""
    if "xl/styles.xml" not in archive.namelist():
        return frozenset()
    styles = _parsed(archive, "xl/styles.xml")
    custom = {
        int(fmt.get("numFmtId", "0")): fmt.get("formatCode", "")
        for fmt in styles.iter(f"{_NS_MAIN}numFmt")
    }
    dates = set()
    xfs = styles.find(f"{_NS_MAIN}cellXfs")
    for position, xf in enumerate(xfs if xfs is not None else []):
        number_format = int(xf.get("numFmtId", "0"))
        if number_format in custom:
            code = _FORMAT_NOISE.sub("", custom[number_format]).lower()
            if any(letter in code for letter in "dmyhs") and code != "general":
                dates.add(position)
        elif number_format in _BUILTIN_DATE_FORMATS:
            dates.add(position)
    return frozenset(dates)


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings: list[str] = []
    with archive.open("xl/sharedStrings.xml") as stream:
        for piece in _slices(stream, b"</si>"):
            for item in piece.split(b"<si>")[1:]:
                strings.append(_rich_text(item))
    return strings


def _slices(stream: IO[bytes], end: bytes) -> Iterator[bytes]:
    """The stream in pieces that each end just after an `end` tag (the last: the rest)."""
    pending = b""
    while chunk := stream.read(STREAM_SLICE_BYTES):
        pending += chunk
        cut = pending.rfind(end)
        if cut >= 0:
            cut += len(end)
            yield pending[:cut]
            pending = pending[cut:]
    if pending:
        yield pending


def _stream_opener(
    data: bytes, max_row: int = MAX_ROWS + HEADER_SEARCH_ROWS
) -> tuple[RowSource, int] | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        part, date1904 = _sheet_part(archive)
        # The height is that of the last row the sheet holds, never its <dimension>: a
        # sheet may claim A1:XFD1048576 and hold three rows (tests/security).
        height, as_excel_writes = _survey(archive, part, max_row)
        width = 0
        book = _Book(
            sheet_part=part,
            shared=_shared_strings(archive),
            date_styles=_date_styles(archive),
            epoch=datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30),
            height=height,
            width=width,
            max_row=max_row,
        )
    except RuleViolation:
        raise
    except Exception:  # not what this reader knows: calamine tries
        return None
    if not as_excel_writes:
        # References in other forms (r = '300000', a cell without r first): searched
        # whole, as for calamine, before a row is read.
        check_xlsx_archive(data, max_row=max_row)

    def rows() -> Iterator[Sequence[Any]]:
        try:
            yield from _stream_rows(archive, book)
        except _Unreadable:
            raise _unreadable_workbook() from None
        except (zipfile.BadZipFile, OSError, ValueError, IndexError, EOFError):
            raise _unreadable_workbook() from None

    return rows, book.height


def _survey(archive: zipfile.ZipFile, part: str, max_row: int) -> tuple[int, bool]:
    """(The highest row number, whether every row and cell reference is written as Excel
    writes it). A row or cell in the Excel form beyond the limits is refused here, before
    a row is read; a sheet with references in other forms is searched whole by the
    caller (xlsx_guard). A tenth of the time of that search: the row numbers and the
    cells beyond the last column are found by patterns with a literal start."""
    last, as_excel_writes = 0, True
    with archive.open(part) as stream:
        for piece in _slices(stream, b"</row>"):
            numbers = _EXCEL_ROW_NUMBER.findall(piece)
            if len(numbers) != piece.count(b"<row") or piece.count(b"<c ") != piece.count(
                b'<c r="'
            ):
                as_excel_writes = False
            if numbers:
                last = max(last, max(map(int, numbers)))
            if last > max_row or CELL_BEYOND_COLUMNS.search(piece):
                raise beyond_limits(max_row)
    return last, as_excel_writes


def _unreadable_workbook() -> RuleViolation:
    return RuleViolation(
        _("File: the workbook cannot be read; save it again in Excel as .xlsx and upload it."),
        field="file",
    )


def _stream_rows(archive: zipfile.ZipFile, book: _Book) -> Iterator[list[Any]]:
    """Every row from the first, an empty list for a row the file leaves out."""
    memo: dict[bytes, Any] = {}
    expected = 1
    with archive.open(book.sheet_part) as stream:
        for piece in _slices(stream, b"</row>"):
            for row_xml in piece.split(b"</row>"):
                # A row left empty may be written <row r="5"/> just before the next one.
                start = row_xml.rfind(b"<row")
                if start < 0:
                    continue
                row_xml = row_xml[start:]
                numbered = _ROW_NUMBER.match(row_xml)
                number = int(numbered.group(1)) if numbered else expected
                while expected < number:
                    yield []
                    expected += 1
                expected = number + 1
                yield _row_cells(row_xml, book, memo)


def _row_cells(row_xml: bytes, book: _Book, memo: dict[bytes, Any]) -> list[Any]:
    """One row's cells. This is the reader's hot path (7 million cells in a file of
    100,000 rows): a row whose cells stand in columns A, B, C ... without a gap and
    without an escaped character is made by one list comprehension."""
    found = _FAST_CELL.findall(row_xml)
    if len(found) != row_xml.count(b"<c ") + row_xml.count(b"<c>"):
        return _row_cells_slowly(row_xml, book)
    if (
        found
        and found[0][0] == b"A"
        and found[-1][0] == _column_letters(len(found) - 1)
        and b"&" not in row_xml
        and b"_x" not in row_xml
    ):
        cells = [
            text.decode("utf-8")
            if text
            else _cell_value(_kind_style(attrs, memo), value, text, book)
            if value
            else ""
            for _letters, attrs, value, text in found
        ]
        if len(cells) < book.width:
            cells += [""] * (book.width - len(cells))
        return cells
    cells = [""] * book.width
    for letters, attrs, value, text in found:
        column = memo.get(letters)
        if column is None:
            column = memo[letters] = _column_number(letters)
            if column >= MAX_COLUMNS:
                raise beyond_limits(book.max_row)
        while column >= len(cells):
            cells.append("")
        if text:  # only an inline string has <t>
            cells[column] = _unescape(text)
        elif value:
            cells[column] = _cell_value(_kind_style(attrs, memo), value, text, book)
    return cells


def _kind_style(attrs: bytes, memo: dict[bytes, Any]) -> tuple[bytes, int]:
    """A cell's type (t) and style (s) from its attributes, each distinct string once."""
    found = memo.get(attrs)
    if found is None:
        pairs = dict(_ATTRIBUTE.findall(attrs))
        found = memo[attrs] = (pairs.get(b"t", b"n"), int(pairs.get(b"s", b"0")))
    return found


@cache
def _column_letters(column: int) -> bytes:
    """0 → b"A", 25 → b"Z", 26 → b"AA"."""
    return get_column_letter(column + 1).encode()


def _row_cells_slowly(row_xml: bytes, book: _Book) -> list[Any]:
    cells: list[Any] = [""] * book.width
    column = -1
    for attrs, inner in _ANY_CELL.findall(row_xml[row_xml.find(b">") + 1 :]):
        pairs = dict(_ATTRIBUTE.findall(attrs))
        reference = pairs.get(b"r")
        column = _column_number(reference.rstrip(b"0123456789")) if reference else column + 1
        if column >= MAX_COLUMNS:
            raise beyond_limits(book.max_row)
        kind = pairs.get(b"t", b"n")
        if kind == b"inlineStr":
            text, value = inner, b""
        else:
            found = _VALUE.search(inner or b"")
            text, value = b"", found.group(1) if found else b""
        while column >= len(cells):
            cells.append("")
        if kind == b"inlineStr":
            cells[column] = _rich_text(text)
        else:
            cells[column] = _cell_value((kind, int(pairs.get(b"s", b"0"))), value, b"", book)
    return cells


def _cell_value(kind_style: tuple[bytes, int], value: bytes, text: bytes, book: _Book) -> Any:
    kind, style = kind_style
    if kind == b"inlineStr":
        return _unescape(text)
    if not value:
        return ""
    if kind == b"s":
        return book.shared[int(value)]
    if kind == b"n":
        number = float(value)
        if style in book.date_styles:
            return _serial_date(number, book.epoch)
        return number
    if kind == b"b":
        return value.strip() == b"1"
    if kind == b"d":
        try:
            return datetime.fromisoformat(value.decode())
        except ValueError:
            return _unescape(value)
    if kind == b"e":
        return ""  # an error such as #N/A reads as an empty cell, as calamine reads it
    return _unescape(value)  # "str": a formula's text


def _serial_date(serial: float, epoch: datetime) -> date | datetime | float:
    if not 0 <= serial < 2958466:  # beyond 9999-12-31: a number after all
        return serial
    moment = epoch + timedelta(days=serial)
    # Whole seconds, as Excel shows them; a whole day is a date.
    moment = moment.replace(microsecond=0) + timedelta(seconds=round(moment.microsecond / 1e6))
    if moment.hour == moment.minute == moment.second == 0:
        return moment.date()
    return moment


def _openpyxl_opener(data: bytes) -> tuple[RowSource, int] | None:
    try:
        # data_only: formulas come as the values Excel saved with them, never evaluated.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = (
            workbook[SHEET_NAME] if SHEET_NAME in workbook.sheetnames else workbook.worksheets[0]
        )
        height = sheet.max_row or 0

        def rows() -> Iterator[Sequence[Any]]:
            # Bounded: read-only openpyxl pads every row to the width the file declares.
            for row in sheet.iter_rows(min_row=1, min_col=1, max_col=MAX_COLUMNS, values_only=True):
                yield list(row)

        next(rows(), None)
        return rows, height
    except Exception:
        return None


def _csv_grid(text: str) -> list[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet_from(source: RowSource, height: int, max_rows: int) -> Sheet:
    # The header row: the one among the first rows that names the most known columns.
    best_index = -1
    best_columns: dict[str, int] = {}
    best_headers: list[str] = []
    for index, cells in enumerate(source()):
        if index >= HEADER_SEARCH_ROWS:
            break
        columns: dict[str, int] = {}
        for position, cell in enumerate(cells):
            key = HEADERS.get(header_key(cell))
            if key is not None and key not in columns:
                columns[key] = position
        if len(columns) > len(best_columns):
            best_index, best_columns = index, columns
            best_headers = ["" if is_blank(cell) else " ".join(str(cell).split()) for cell in cells]
    if best_index < 0:
        raise RuleViolation(
            _(
                "File: no header row was found. The first row must hold the template's "
                "column headers (姓名, 性别, 出生日期 …); download the template and copy "
                "the data into it."
            ),
            field="file",
        )
    missing = [
        item.header for item in SHEET_ITEMS if item.required and item.key not in best_columns
    ]
    if missing:
        raise RuleViolation(
            _("File: required columns are missing: %(columns)s.") % {"columns": "、".join(missing)},
            field="file",
        )
    total = max(0, height - best_index - 1)
    if total > max_rows:
        raise RuleViolation(
            _("File: %(count)d rows are more than the %(limit)d one file may hold; split it.")
            % {"count": total, "limit": max_rows},
            field="file",
        )
    header_index = best_index

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for index, cells in enumerate(source()):
            if index <= header_index:
                continue
            if all(is_blank(cell) for cell in cells):
                continue
            yield index + 1, list(cells)

    return Sheet(headers=best_headers, columns=best_columns, total=total, _rows=rows)


# ---------------------------------------------------------------------------------------
# Writing


@dataclass
class ErrorRow:
    """A row of the upload with its problems, for the error workbook."""

    cells: list[Any]
    message: str
    bad: set[int]  # column indexes (of `cells`) to fill red
    warned: set[int]  # ... and yellow


def _cell_for_error_book(value: Any, digits: bool) -> Any:
    """Digit columns are written as text; what the registrar typed stays as typed."""
    if isinstance(value, bool):
        return value
    if digits and isinstance(value, int):
        return str(value)
    if digits and isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return value


def write_error_workbook(
    headers: Sequence[str], columns: dict[str, int], rows: Iterable[ErrorRow]
) -> bytes:
    """The uploaded rows that have problems, with a first column saying what is wrong and
    the cells concerned filled red (errors) or yellow (warnings to confirm). Fixed and
    uploaded again, it imports: the extra column is ignored."""
    from xueji.students.form_items import BY_KEY

    digit_columns = {index for key, index in columns.items() if BY_KEY[key].kind in DIGIT_KINDS}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 60
    for position, header in enumerate(headers, start=2):
        sheet.column_dimensions[get_column_letter(position)].width = max(10, len(header) * 2 + 4)
    header_cells = [_text_cell(sheet, ERROR_HEADER, font=Font(bold=True, color="C00000"))]
    header_cells += [_text_cell(sheet, header, font=Font(bold=True)) for header in headers]
    sheet.append(header_cells)
    width = len(headers)
    for row in rows:
        out = [_text_cell(sheet, row.message, fill=RED if row.bad else YELLOW, quote=True)]
        cells = list(row.cells) + [None] * (width - len(row.cells))
        for index, value in enumerate(cells):
            value = _cell_for_error_book(value, index in digit_columns)
            fill = RED if index in row.bad else YELLOW if index in row.warned else None
            if isinstance(value, str) and fill is None and not value.startswith(FORMULA_STARTS):
                # A plain string is written as text and is many times quicker than a
                # styled cell. One that starts like a formula gets the quote prefix below,
                # so Excel keeps it text even when the registrar edits the cell.
                out.append(ILLEGAL_CHARACTERS_RE.sub(" ", value))
            elif isinstance(value, str):
                out.append(_text_cell(sheet, value, fill=fill, quote=True))
            elif value is None or fill is None and not isinstance(value, datetime | date):
                out.append(value)
            else:
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, datetime | date):
                    cell.number_format = "yyyy-mm-dd"
                if fill is not None:
                    cell.fill = fill
                out.append(cell)
        sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet, value: str, *, fill=None, font=None, quote: bool = False) -> WriteOnlyCell:
    # Control characters (from a CSV file) cannot be stored in a workbook at all.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub(" ", value))
    # A string is a string: openpyxl would otherwise make "=..." a formula.
    cell.data_type = "s"
    cell.number_format = TEXT_FORMAT
    if quote and value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    if fill is not None:
        cell.fill = fill
    if font is not None:
        cell.font = font
    return cell


def neutralise(value: str) -> str:
    """A value that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_table_xlsx(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, sheet_name: str
) -> bytes:
    """A plain table of text cells (the roster export), safe against formula injection."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.freeze_panes = "A2"
    for position, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = max(10, len(header) * 2 + 4)
    sheet.append([_text_cell(sheet, header, font=Font(bold=True)) for header in headers])
    for row in rows:
        # Plain strings are several times quicker than styled cells, and safe here: after
        # neutralise() none starts with "=", the only start openpyxl writes as a formula.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub(" ", neutralise(value)) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_table_csv(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """CSV in UTF-8 with a byte-order mark, so Excel on Windows shows the Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")
