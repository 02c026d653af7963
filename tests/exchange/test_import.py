"""B2: importing students from the template: every row checked first, all or nothing,
the wrong rows returned with an error column and the wrong cells marked."""

import datetime
import io
import struct
import zlib

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.exchange.helpers import csv_bytes, filled_template, read_workbook, workbook_bytes
from tests.students.conftest import raw_student
from xueji.core.errors import RuleViolation
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.exchange import excel
from xueji.students.form_items import SHEET_ITEMS
from xueji.students.models import Student
from xueji.students.validation import validate_student

pytestmark = pytest.mark.django_db


def rows(count: int, start: int = 1) -> list[dict]:
    return [raw_student(sequence=start + n, name=f"张小{'明红刚'[n % 3]}") for n in range(count)]


def bad_rows() -> list[dict]:
    wrong_check = raw_student(sequence=1)
    number = wrong_check["id_number"]
    wrong_check["id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
    as_float = raw_student(sequence=2, name="李小红")
    as_float["id_number"] = 1.2e17  # what Excel makes of an ID number in a number cell
    good = raw_student(sequence=3, name="王小刚")
    return [wrong_check, as_float, good]


def test_three_valid_rows_from_the_template_become_three_students(run_import, cast):
    report = run_import(filled_template(rows(3)))
    assert (report.read, report.imported, report.refused) == (3, 3, 0)
    assert report.error_workbook is None
    assert Student.objects.count() == 3
    assert set(Student.objects.values_list("name", flat=True)) == {"张小明", "张小红", "张小刚"}
    assert all(s.records.get().school == cast.school_a1 for s in Student.objects.all())


def test_one_bad_row_imports_nothing_and_returns_the_rows_marked(run_import):
    report = run_import(workbook_bytes(bad_rows()))
    assert (report.read, report.imported, report.refused) == (3, 0, 2)
    assert Student.objects.count() == 0
    assert {(row, key) for row, key, _m in report.errors} == {(2, "id_number"), (3, "id_number")}
    messages = dict(((row, key), message) for row, key, message in report.errors)
    assert "turned into a number by Excel" in messages[(3, "id_number")]

    sheet = read_workbook(report.error_workbook)
    headers = [cell.value for cell in sheet[1]]
    assert headers[0] == excel.ERROR_HEADER
    assert headers[1:] == [item.header for item in SHEET_ITEMS]
    # Nothing was written, so every row comes back: fix the red cells, upload it all again.
    assert sheet.max_row == 4
    assert sheet.cell(row=4, column=1).value in (None, "")
    id_column = headers.index("身份证件号") + 1
    wrong = sheet.cell(row=2, column=id_column)
    assert wrong.value == bad_rows()[0]["id_number"]  # the text, untouched
    assert wrong.data_type == "s"
    assert wrong.fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(row=3, column=id_column).fill.fgColor.rgb.endswith("FFC7CE")
    name_cell = sheet.cell(row=2, column=headers.index("姓名") + 1)
    assert name_cell.fill.fgColor.rgb in (None, "00000000")
    assert "ID number" in sheet.cell(row=2, column=1).value


def test_the_error_workbook_imports_once_corrected(run_import):
    report = run_import(workbook_bytes(bad_rows()))
    sheet = read_workbook(report.error_workbook)
    headers = [cell.value for cell in sheet[1]]
    id_column = headers.index("身份证件号") + 1
    sheet.cell(row=2, column=id_column).value = raw_student(sequence=1)["id_number"]
    sheet.cell(row=3, column=id_column).value = raw_student(sequence=2)["id_number"]
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    again = run_import(buffer.getvalue())
    assert (again.read, again.imported, again.refused) == (3, 3, 0)


def test_valid_only_imports_the_good_row(run_import):
    report = run_import(workbook_bytes(bad_rows()), valid_only=True)
    assert (report.read, report.imported, report.refused) == (3, 1, 2)
    assert list(Student.objects.values_list("name", flat=True)) == ["王小刚"]


def test_warnings_are_yellow_and_do_not_stop_the_row(run_import):
    old = raw_student(sequence=4, name="赵小强", birth=datetime.date(2008, 5, 1))
    rows_in = [bad_rows()[0], old]
    report = run_import(workbook_bytes(rows_in))
    assert report.imported == 0 and report.refused == 1
    assert [(row, key) for row, key, _m in report.warnings] == [(3, "birth_date")]
    sheet = read_workbook(report.error_workbook)
    headers = [cell.value for cell in sheet[1]]
    birth = sheet.cell(row=3, column=headers.index("出生日期") + 1)
    assert birth.fill.fgColor.rgb.endswith("FFEB9C")

    imported = run_import(workbook_bytes(rows_in), valid_only=True)
    assert imported.imported == 1
    # The row imported with a warning is not returned for a second upload.
    assert read_workbook(imported.error_workbook).max_row == 2


def test_a_dry_run_writes_nothing(run_import):
    report = run_import(workbook_bytes(rows(2)), dry_run=True)
    assert (report.read, report.imported, report.would_import, report.refused) == (2, 0, 2, 0)
    assert Student.objects.count() == 0
    with translation.override("en"):
        assert "Nothing was written" in report.summary


def test_coded_items_accept_the_code_or_the_name(run_import):
    by_code = raw_student(sequence=1, ethnicity="01", health="10", sex="1")
    by_name = raw_student(sequence=2, name="李小红", ethnicity="回族", health="健康或良好")
    by_name["sex"] = "男"
    report = run_import(workbook_bytes([by_code, by_name]))
    assert report.imported == 2, report.errors
    assert set(Student.objects.values_list("ethnicity", "health", "sex")) == {
        ("01", "10", "1"),
        ("03", "10", "1"),
    }


def test_a_csv_file_in_gbk_imports(run_import):
    report = run_import(csv_bytes(rows(2), encoding="gbk"), "students.csv")
    assert (report.read, report.imported) == (2, 2), report.errors
    assert Student.objects.filter(name="张小明").exists()


def test_a_csv_file_in_utf8_with_a_bom_imports(run_import):
    report = run_import(csv_bytes(rows(1)), "students.csv")
    assert report.imported == 1, report.errors


def test_columns_are_found_by_header_in_any_order_with_stars_and_spaces(run_import):
    items = list(reversed(SHEET_ITEMS))
    header = ",".join(f" {item.header}* " if item.required else item.header for item in items)
    row = raw_student()
    line = ",".join(str(row.get(item.key, "")) for item in items)
    data = f"标题：新生名单\n{header},备注\n{line},无\n\n".encode()
    report = run_import(data, "students.csv")
    assert (report.read, report.imported) == (1, 1), report.errors


def test_missing_required_columns_are_named(run_import):
    data = "姓名,性别\n张三,男\n".encode()
    with pytest.raises(RuleViolation) as refused:
        run_import(data, "students.csv")
    assert "出生日期" in refused.value.message and "required columns" in refused.value.message


def png_bytes() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_picture_renamed_to_xlsx_is_refused(run_import):
    with pytest.raises(RuleViolation) as refused:
        run_import(png_bytes(), "students.xlsx")
    assert refused.value.message.startswith("File: this is not a spreadsheet")


def test_a_zip_that_is_no_workbook_is_refused(run_import):
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(RuleViolation) as refused:
        run_import(buffer.getvalue(), "students.xlsx")
    assert "cannot be read" in refused.value.message


def test_a_file_over_the_size_limit_is_refused(run_import, settings):
    settings.XUEJI_IMPORT_MAX_BYTES = 1024 * 1024
    with pytest.raises(RuleViolation) as refused:
        run_import(b"a" * (1024 * 1024 + 1), "students.csv")
    assert "larger than 1 MB" in refused.value.message


def test_a_file_over_the_row_limit_is_refused():
    data = csv_bytes(rows(3))
    with translation.override("en"), pytest.raises(RuleViolation) as refused:
        excel.read_sheet(data, max_rows=2)
    assert "3 rows are more than the 2" in refused.value.message


def test_a1_registrar_cannot_import_into_school_b1(run_import, cast, client_for):
    with pytest.raises(PermissionDenied):
        run_import(workbook_bytes(rows(1)), school=cast.school_b1)
    client = client_for(cast.a1_registrar)
    upload = io.BytesIO(workbook_bytes(rows(1)))
    upload.name = "students.xlsx"
    response = client.post("/exchange/import/", {"file": upload, "school": cast.school_b1.pk})
    # The school field is fixed to the registrar's own school: b1 is never used.
    assert not Job.objects.filter(params__school=cast.school_b1.pk).exists()
    assert response.status_code in (200, 302)
    api = client.post(
        "/api/v1/students/import",
        {"file": io.BytesIO(b"x"), "school_id": cast.school_b1.pk},
    )
    assert api.status_code in (403, 404)
    assert Student.objects.count() == 0


def test_the_import_job_runs_in_the_worker_and_keeps_the_error_file(cast, client_for, school_year):
    client = client_for(cast.a1_registrar)
    upload = io.BytesIO(workbook_bytes(bad_rows()))
    upload.name = "students.xlsx"
    response = client.post("/exchange/import/", {"file": upload})
    job = Job.objects.get(kind="students.import")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.params["school"] == cast.school_a1.pk
    assert job.params["path"].startswith("uploads/imports/")
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.result_file and not default_storage.exists(job.params["path"])
    with job.result_file.open("rb") as result:
        assert read_workbook(result.read()).max_row == 4
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200
    assert Student.objects.count() == 0


def test_the_valid_rows_import_as_a_job_through_the_api(cast, client_for, school_year):
    client = client_for(cast.bureau_registrar)
    upload = io.BytesIO(workbook_bytes(bad_rows()))
    upload.name = "students.xlsx"
    response = client.post(
        "/api/v1/students/import",
        {"file": upload, "school_id": cast.school_a1.pk, "valid_only": "true"},
    )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "students.import"
    run_pending()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.DONE, job.message
    assert Student.objects.count() == 1


def test_the_api_refuses_a_picture_with_the_pages_message(cast, client_for, school_year):
    client = client_for(cast.a1_registrar)
    upload = io.BytesIO(png_bytes())
    upload.name = "photo.xlsx"
    client.cookies["django_language"] = "en"
    response = client.post(
        "/api/v1/students/import", {"file": upload, "school_id": cast.school_a1.pk}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("File: this is not a spreadsheet")
    assert not Job.objects.exists()


cell_values = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=datetime.date(1900, 3, 1)),
    st.datetimes(min_value=datetime.datetime(1900, 3, 1)),
    st.booleans(),
)


def read_validate_and_mark(data: bytes) -> None:
    parsed = excel.read_sheet(data)
    marked = []
    for _number, row in parsed.rows():
        checked = validate_student(parsed.raw_row(row), today=datetime.date(2026, 11, 29))
        problems = "；".join(p.message for p in checked.errors)
        marked.append(excel.ErrorRow(row, problems, set(range(len(row))), set()))
    excel.write_error_workbook(parsed.headers, parsed.columns, marked)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell_values, max_size=75), max_size=4))
def test_reading_and_validating_never_raise_on_arbitrary_cells(cells):
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([item.header for item in SHEET_ITEMS])
    for row in cells:
        # A workbook cannot hold control characters; the CSV below carries them.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    read_validate_and_mark(buffer.getvalue())


@settings(max_examples=20, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), max_size=75), max_size=4))
def test_reading_and_validating_never_raise_on_arbitrary_csv_text(cells):
    import csv

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([item.header for item in SHEET_ITEMS])
    writer.writerows(cells)
    try:
        read_validate_and_mark(text.getvalue().encode("utf-8"))
    except RuleViolation:
        pass  # text with control characters is no CSV: refused with a message


def test_formula_cells_are_read_as_their_saved_values_never_evaluated(run_import):
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(workbook_bytes([raw_student(sequence=1)])))
    # A formula, saved by openpyxl without a computed value: it must stay unread.
    workbook.active["A2"] = '="张"&"三"'
    assert workbook.active["A2"].data_type == "f"
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_import(buffer.getvalue())
    assert report.imported == 0
    assert [(r, key) for r, key, _m in report.errors] == [(2, "name")]
