"""B2: an .xlsx upload is read row by row (exchange/excel.py's streaming reader), so a
file of 100,000 rows never sits in memory whole; every cell comes back exactly as
calamine (the reader of .xls files and of anything unusual) gives it."""

import datetime
import io
import zipfile

import pytest
from openpyxl import Workbook

from tests.exchange.helpers import workbook_bytes
from tests.students.conftest import raw_student
from xueji.core.errors import RuleViolation
from xueji.exchange import excel

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"

SHARED = [
    "姓名",
    "张三 &amp; 李四",  # escaped as Excel writes it
    '<r><t>王</t></r><r><rPr><b/></rPr><t xml:space="preserve">小明 </t></r>',  # rich text
    '<t>赵</t><rPh sb="0" eb="1"><t>zhao</t></rPh>',  # a phonetic guide, not text
    "line_x000D_break",
]


def _shared_item(text: str) -> str:
    return f"<si>{text}</si>" if text.startswith("<") else f"<si><t>{text}</t></si>"


# Excel's own forms: shared strings, styles for dates, a formula with its saved value,
# booleans, errors, a row left out (3), an empty row element (5), cells without `r`.
SHEET_ROWS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    '<row r="2" spans="1:9"><c r="A2" s="1" t="s"><v>2</v></c><c r="B2" s="2"><v>43539</v></c>'
    '<c r="C2" s="3"><v>43539.4375</v></c><c r="D2" s="4"><v>43540</v></c>'
    '<c r="E2"><v>12345</v></c><c r="F2" t="b"><v>1</v></c><c r="G2" t="e"><v>#N/A</v></c>'
    '<c r="H2" t="str"><f>A1&amp;"x"</f><v>姓名x</v></c><c r="I2"><f>1+1</f><v>2</v></c></row>'
    '<row r="4"><c r="B4" t="s"><v>3</v></c><c r="D4" t="inlineStr"><is><t>a&lt;b</t></is></c>'
    '<c r="E4" t="s"><v>4</v></c></row>'
    '<row r="5"/>'
    '<row r="6"><c t="inlineStr"><is><t>first</t></is></c><c><v>7.5</v></c></row>'
)


def excel_like_workbook(*, dimension: bool = True, rows: str = SHEET_ROWS) -> bytes:
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'
        + ('<dimension ref="A1:I6"/>' if dimension else "")
        + f"<sheetData>{rows}</sheetData></worksheet>"
    )
    styles = (
        f'<styleSheet xmlns="{MAIN}"><numFmts count="1">'
        '<numFmt numFmtId="164" formatCode="yyyy/m/d;@"/></numFmts><cellXfs count="5">'
        '<xf numFmtId="0"/><xf numFmtId="49"/><xf numFmtId="14"/><xf numFmtId="22"/>'
        '<xf numFmtId="164"/></cellXfs></styleSheet>'
    )
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
        '<sheet name="说明" sheetId="2" r:id="rId2"/>'
        f'<sheet name="{excel.SHEET_NAME}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}">'
        '<Relationship Id="rId1" Type="worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="worksheet" Target="/xl/worksheets/sheet2.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
        "xl/worksheets/sheet2.xml": f'<worksheet xmlns="{MAIN}"><sheetData/></worksheet>',
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">'
        + "".join(_shared_item(text) for text in SHARED)
        + "</sst>",
        "xl/styles.xml": styles,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def streamed(data: bytes) -> list[list]:
    opener = excel._stream_opener(data)
    assert opener is not None, "the streaming reader should take this file"
    rows, _height = opener
    return [_trimmed(row) for row in rows()]


def by_calamine(data: bytes) -> list[list]:
    opener = excel._calamine_opener(data, excel.XLSX)
    assert opener is not None
    rows, _height = opener
    return [_trimmed(row) for row in rows()]


def _trimmed(row) -> list:
    cells = list(row)
    while cells and cells[-1] == "":
        cells.pop()
    return cells


@pytest.mark.parametrize("dimension", [True, False])
def test_excel_forms_read_as_calamine_reads_them(dimension):
    data = excel_like_workbook(dimension=dimension)
    rows = streamed(data)
    assert rows == by_calamine(data)
    assert [[type(cell) for cell in row] for row in rows] == [
        [type(cell) for cell in row] for row in by_calamine(data)
    ]
    assert rows[1][:6] == [
        "王小明 ",
        datetime.date(2019, 3, 15),
        datetime.datetime(2019, 3, 15, 10, 30),
        datetime.date(2019, 3, 16),
        12345.0,
        True,
    ]
    assert (rows[3][1], rows[3][3], rows[3][4]) == ("赵", "a<b", "line\rbreak")
    assert rows[5][:2] == ["first", 7.5]


def test_the_template_rows_read_as_calamine_reads_them():
    row = raw_student(sequence=1)
    row.update({"name": "阿依古丽·买买提", "distance_km": 2.5, "current_address": "胡集镇 & 3号"})
    data = workbook_bytes([row, raw_student(sequence=2), {}, raw_student(sequence=3)])
    assert streamed(data) == by_calamine(data)


def test_read_sheet_streams_an_xlsx_with_its_rows_numbered_as_in_the_sheet():
    workbook = Workbook(write_only=True)  # no <dimension>: the height is counted
    sheet = workbook.create_sheet(excel.SHEET_NAME)
    sheet.append(["说明：请从第三行起填写"])
    sheet.append([item.header for item in excel.SHEET_ITEMS])
    sheet.append(["张三", "男"])
    sheet.append([])
    sheet.append(["李四", "女"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = excel.read_sheet(buffer.getvalue())
    assert parsed.total == 3
    assert [(number, cells[:2]) for number, cells in parsed.rows()] == [
        (3, ["张三", "男"]),
        (5, ["李四", "女"]),
    ]


def test_a_sheet_damaged_half_way_is_refused_with_a_message_not_a_crash():
    # Row 4 names a shared string that does not exist; the rows above it read well.
    damaged = excel_like_workbook(rows=SHEET_ROWS.replace("<v>4</v>", "<v>99</v>"))
    opener = excel._stream_opener(damaged)
    assert opener is not None
    rows, _height = opener
    read = []
    with pytest.raises(RuleViolation) as refused:
        for row in rows():
            read.append(row)
    assert len(read) == 3
    assert refused.value.field == "file"


# --- The limits of rows and columns, as the stream reader keeps them (issue 8, issue 9) ---
# The whole-sheet search of references (xlsx_guard) costs a second per 20,000 rows; the
# reader's survey takes its place for sheets written as Excel writes them.

HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row>'


def test_a_sheet_as_excel_writes_it_is_surveyed_without_the_whole_search():
    data = excel_like_workbook(rows=HEADER + '<row r="2"><c r="A2"><v>1</v></c></row>')
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert excel._survey(archive, "xl/worksheets/sheet1.xml", 100) == (2, True)


def test_references_in_other_forms_send_the_sheet_to_the_whole_search():
    data = excel_like_workbook(rows=HEADER + "<row r = '2'><c r = 'A2'><v>1</v></c></row>")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert excel._survey(archive, "xl/worksheets/sheet1.xml", 100)[1] is False


@pytest.mark.parametrize(
    "row",
    [
        '<row r="101"><c r="A101"><v>1</v></c></row>',  # a row beyond the limit
        '<row r="2"><c r="EA2"><v>1</v></c></row>',  # a column beyond DZ
        "<row r = '300'><c r = 'A300'><v>1</v></c></row>",  # spaced and single-quoted
        # a formula sends the row to the slow reading; the cell after it names column XFD
        '<row r="2"><c r="A2" t="str"><f>1</f><v>1</v></c><c\tr="XFD2"><v>1</v></c></row>',
    ],
)
def test_a_cell_beyond_the_limits_is_refused_in_whatever_form_it_is_written(row):
    data = excel_like_workbook(rows=HEADER + row)
    with pytest.raises(RuleViolation) as refused:
        sheet = excel.read_sheet(data, max_rows=90)
        list(sheet.rows())
    # The refusal of the limits (in whichever language is active), naming both.
    assert "100" in refused.value.message and "DZ" in refused.value.message
    assert refused.value.field == "file"
