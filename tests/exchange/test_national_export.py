"""P1, B2: records exported in the national system's import layout (our import template),
scoped, audited, as text cells, and importing back through our own importer."""

import datetime
import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import Http404
from django.utils import translation
from openpyxl import load_workbook

from tests.students.conftest import TODAY, id_number
from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.exchange import excel, national, services
from xueji.exchange.national import NationalSelection
from xueji.students.form_items import BY_KEY, ITEMS, SHEET_ITEMS
from xueji.students.models import Status, Student, StudentNumber, StudentRecord
from xueji.students.validation import validate_student

FATHER_ID = id_number(datetime.date(1985, 1, 1), 5)

HEADERS = [item.header for item in SHEET_ITEMS]


@pytest.fixture
def students(cast, register):
    """Two pupils at A1 (one with a formula-like specialty and special categories), one
    in grade 3 at A1, one at B1 and one at the central school A."""
    first = register(
        sequence=1,
        specialty="=1+1",
        left_behind="1",
        migrant_child="是",
        distance_km="2.5",
        email="zhang@example.cn",
        **{"family1.id_number": FATHER_ID, "family1.id_type": "1"},
    )
    second = register(sequence=2, name="李小红", sex="2")
    third = register(sequence=4, name="赵小三", grade="3", entry_year_month="202409")
    other = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=3, name="王小刚")
    central = register(
        school=cast.central_a, actor=cast.central_a_registrar, sequence=5, name="孙小中"
    )
    return first, second, third, other, central


def workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def table(content: bytes) -> list[dict]:
    sheet = workbook(content)[excel.SHEET_NAME]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def cells_of(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def drop_downs(sheet) -> dict[str, str]:
    """Column letter → the list formula of its drop-down."""
    return {
        str(v.sqref).split(":")[0].rstrip("0123456789"): v.formula1
        for v in sheet.data_validations.dataValidation
    }


def export(actor, **params) -> national.NationalExport:
    return national.export_national(NationalSelection.from_params(params), actor=actor)


# --- The layout --------------------------------------------------------------------------


def test_the_export_has_the_templates_sheets_and_header_row(cast, students):
    """P1: exactly the import template's layout: its sheets, its header row, every item of
    the national form that travels in a sheet (all 72 but the photo, a file of its own)."""
    exported = export(cast.a1_registrar)
    book = workbook(exported.content)
    template = workbook(services.template_bytes())
    assert book.sheetnames == template.sheetnames
    assert book[excel.CODES_SHEET].sheet_state == "hidden"
    header = [cell.value for cell in book[excel.SHEET_NAME][1]]
    assert header == [cell.value for cell in template[excel.SHEET_NAME][1]] == HEADERS
    assert {item.key for item in SHEET_ITEMS} == {item.key for item in ITEMS} - {"photo"}
    assert len(header) == len(ITEMS) - 1 == 71
    assert cells_of(book[excel.GUIDE_SHEET]) == cells_of(template[excel.GUIDE_SHEET])
    assert cells_of(book[excel.CODES_SHEET]) == cells_of(template[excel.CODES_SHEET])
    # The template's drop-down lists, on the same columns, from the same code lists.
    assert drop_downs(book[excel.SHEET_NAME]) == drop_downs(template[excel.SHEET_NAME])
    assert drop_downs(book[excel.SHEET_NAME])


def test_every_value_is_a_text_cell_and_id_numbers_stay_whole(cast, students):
    """B2: ID numbers, phone numbers and codes are text cells in text-formatted columns,
    never numbers Excel could turn into 1.2E+17."""
    first = students[0]
    sheet = workbook(export(cast.a1_registrar).content)[excel.SHEET_NAME]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert cells and all(cell.data_type == "s" for cell in cells)
    assert all(cell.number_format == "@" for cell in cells)
    rows = table(export(cast.a1_registrar).content)
    zhang = next(row for row in rows if row["姓名"] == "张小明")
    assert zhang["身份证件号"] == first.student.id_number
    assert zhang["成员1身份证件号"] == FATHER_ID
    assert zhang["联系电话"] == "13853712345"
    assert zhang["出生地"] == "370828102000"
    assert zhang["邮政编码"] == "272200"


def test_coded_items_carry_the_names_the_templates_lists_offer(cast, students):
    rows = {row["姓名"]: row for row in table(export(cast.a1_registrar).content)}
    zhang, li = rows["张小明"], rows["李小红"]
    assert (zhang["性别"], li["性别"]) == ("男", "女")
    assert zhang["民族"] == "汉族"
    assert zhang["成员1关系"] == "父亲"
    assert (zhang["是否独生子女"], zhang["是否受过学前教育"]) == ("否", "是")
    assert zhang["是否进城务工人员随迁子女"] == "是"
    assert zhang["出生日期"] == "2019-03-15"
    assert zhang["入学年月"] == "202609"
    assert zhang["上下学距离"] == "2.5"


def test_a_formula_in_a_text_item_is_neutralised(cast, students):
    rows = {row["姓名"]: row for row in table(export(cast.a1_registrar).content)}
    assert rows["张小明"]["特长"] == "'=1+1"


# --- The selection and the scope -----------------------------------------------------------


def test_a_school_registrar_exports_their_own_school_only(cast, students):
    exported = export(cast.a1_registrar)
    assert sorted(row["姓名"] for row in table(exported.content)) == ["张小明", "李小红", "赵小三"]
    assert exported.schools == [cast.school_a1.pk]
    assert exported.filename.endswith(".xlsx")
    with pytest.raises(Http404):
        export(cast.a1_registrar, school=[cast.school_b1.pk])


def test_the_grade_and_the_status_select_the_records(cast, students):
    first = students[0]
    grade3 = export(cast.a1_registrar, grade="3")
    assert [row["姓名"] for row in table(grade3.content)] == ["赵小三"]
    StudentRecord.objects.filter(pk=first.record.pk).update(
        status=Status.SUSPENDED
    )  # test data: a suspended pupil
    at_school = export(cast.a1_registrar, grade="1")
    assert [row["姓名"] for row in table(at_school.content)] == ["李小红"]
    open_records = export(cast.a1_registrar, grade="1", status="open")
    assert sorted(row["姓名"] for row in table(open_records.content)) == ["张小明", "李小红"]
    with pytest.raises(RuleViolation) as refused:
        NationalSelection.from_params({"grade": "10"})
    assert refused.value.field == "grade"


def test_several_schools_make_a_zip_of_one_workbook_per_school(cast, students):
    exported = export(cast.central_a_registrar, school=[cast.central_a.pk, cast.school_a1.pk])
    assert exported.filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        names = archive.namelist()
        assert names == [
            f"{cast.central_a.school_code}-{cast.central_a.name}.xlsx",
            f"{cast.school_a1.school_code}-{cast.school_a1.name}.xlsx",
        ]
        a1 = table(archive.read(names[1]))
    assert sorted(row["姓名"] for row in a1) == ["张小明", "李小红", "赵小三"]


def test_the_bureau_exports_the_county_and_the_central_school_its_township(cast, students):
    county = export(cast.bureau_registrar)
    assert len(county.schools) == 3 and county.count == 5
    township = export(cast.central_a_registrar)
    assert sorted(township.schools) == sorted([cast.central_a.pk, cast.school_a1.pk])


def test_a_role_that_may_not_reveal_id_numbers_may_not_export(cast, students, client_for):
    with pytest.raises(PermissionDenied):
        export(cast.a1_leader)
    leader = client_for(cast.a1_leader)
    assert leader.get("/exchange/national/").status_code == 403
    assert "/exchange/national/" not in leader.get("/").content.decode()  # no menu item
    assert not AuditEvent.objects.filter(action="students.national_exported").exists()


def test_each_export_is_audited_with_the_students_it_contained(cast, students):
    first, second, third, _other, _central = students
    export(cast.a1_registrar)
    event = AuditEvent.objects.get(action="students.national_exported")
    assert event.actor == cast.a1_registrar
    assert event.data["students"] == sorted([first.student.pk, second.student.pk, third.student.pk])
    assert event.data["records"] == 3 and event.data["schools"] == [cast.school_a1.pk]


def test_an_empty_selection_is_refused_and_not_audited(cast, students):
    with pytest.raises(RuleViolation):
        export(cast.a1_registrar, grade="9")
    assert not AuditEvent.objects.filter(action="students.national_exported").exists()


# --- The round trip ------------------------------------------------------------------------


def test_the_export_imports_back_through_our_importer_without_errors(cast, students, school_year):
    """P1, B2: the exported workbook read by our importer gives back the stored values,
    and a dry-run import into an installation without these students refuses no row."""
    first = students[0]
    exported = export(cast.a1_registrar)
    sheet = excel.read_sheet(exported.content)
    checked = {}
    for _number, cells in sheet.rows():
        result = validate_student(sheet.raw_row(cells), today=TODAY)
        assert result.ok, [problem.message for problem in result.errors]
        checked[result.values["name"]] = result.values
    zhang = checked["张小明"]
    student = Student.objects.get(pk=first.student.pk)
    for key in ("id_number", "sex", "ethnicity", "birth_date", "hukou_code", "left_behind"):
        assert zhang[key] == getattr(student, BY_KEY[key].field), key
    assert zhang["migrant_child"] is True and zhang["only_child"] is False
    assert zhang["family1.relation"] == student.family.get(position=1).relation

    # The national system has none of them yet: remove the students (test data only).
    exported_ids = [s.student.pk for s in students[:3]]
    StudentNumber.objects.filter(student__in=exported_ids).delete()
    StudentRecord.objects.filter(student__in=exported_ids).delete()
    Student.objects.filter(pk__in=exported_ids).delete()
    report = services.import_students(
        exported.content,
        exported.filename,
        actor=cast.a1_registrar,
        school=cast.school_a1,
        school_year=school_year,
        dry_run=True,
    )
    assert report.errors == [] and report.refused == 0, report.errors
    assert report.read == 3 and report.would_import == 3


# --- Pages, the job, the API and the command line ---------------------------------------------


def test_the_page_offers_the_schools_of_the_scope(cast, students, client_for):
    client = client_for(cast.central_a_registrar)
    with translation.override("en"):
        page = client.get("/exchange/national/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert cast.school_a1.name in text and cast.central_a.name in text
    assert cast.school_b1.name not in text
    assert 'href="/exchange/national/"' in text  # the menu item


def test_the_page_downloads_the_file_and_refuses_an_empty_selection(cast, students, client_for):
    client = client_for(cast.a1_registrar)
    response = client.get("/exchange/national/file", {"status": "enrolled"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="national-')
    assert len(table(response.content)) == 3
    refused = client.get("/exchange/national/file", {"grade": "9"})
    assert refused.status_code == 302 and refused["Location"].startswith("/exchange/national/?")
    outside = client.get("/exchange/national/file", {"school": cast.school_b1.pk})
    assert outside.status_code == 404


def test_a_large_export_runs_as_a_job_with_the_file_as_its_result(
    cast, students, client_for, monkeypatch
):
    monkeypatch.setattr(services, "EXPORT_JOB_THRESHOLD", 1)
    client = client_for(cast.a1_registrar)
    response = client.get("/exchange/national/file")
    job = Job.objects.get(kind=national.JOB_KIND)
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert not AuditEvent.objects.filter(action="students.national_exported").exists()
    run_pending()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert job.progress == job.total == 3
    download = client.get(f"/jobs/{job.pk}/download/")
    content = b"".join(download.streaming_content)
    assert len(table(content)) == 3
    assert AuditEvent.objects.filter(action="students.national_exported").count() == 1


def test_the_api_exports_with_the_same_selection_and_checks(
    cast, students, client_for, monkeypatch
):
    client = client_for(cast.bureau_registrar)
    response = client.get(
        "/api/v1/national-export", {"school": [cast.school_a1.pk, cast.school_b1.pk]}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert len(archive.namelist()) == 2
    one = client.get("/api/v1/national-export", {"school": cast.school_b1.pk, "grade": 1})
    assert [row["姓名"] for row in table(one.content)] == ["王小刚"]
    outside = client_for(cast.a1_registrar).get(
        "/api/v1/national-export", {"school": cast.school_b1.pk}
    )
    assert outside.status_code == 404
    with translation.override("en"):
        leader = client_for(cast.a1_leader).get("/api/v1/national-export")
    assert leader.status_code == 403
    bad = client_for(cast.a1_registrar).get("/api/v1/national-export", {"status": "暂读"})
    assert bad.status_code == 400 and bad.json()["field"] == "status"
    monkeypatch.setattr(services, "EXPORT_JOB_THRESHOLD", 1)
    queued = client_for(cast.a1_registrar).get("/api/v1/national-export")
    assert queued.status_code == 202 and queued.json()["kind"] == national.JOB_KIND


def test_the_command_line_exports_as_the_named_user(cast, students, tmp_path, capsys):
    out = tmp_path / "a1.xlsx"
    call_command(
        "export-national",
        "--school",
        cast.school_a1.school_code,
        "--grade",
        "1",
        "-o",
        str(out),
        "--user",
        cast.a1_registrar.username,
    )
    assert capsys.readouterr().out.strip() == f"exported 2 records of 1 school(s) to {out}"
    assert sorted(row["姓名"] for row in table(out.read_bytes())) == ["张小明", "李小红"]
    event = AuditEvent.objects.get(action="students.national_exported")
    assert event.actor == cast.a1_registrar
    with pytest.raises(CommandError, match="name the output county.zip"):
        call_command("export-national", "-o", str(tmp_path / "county.xlsx"), "--user", "bureau")
    with pytest.raises(CommandError, match="no school with the code"):
        call_command(
            "export-national",
            "--school",
            cast.school_b1.school_code,
            "-o",
            str(out),
            "--user",
            cast.a1_registrar.username,
        )
    assert AuditEvent.objects.filter(action="students.national_exported").count() == 1
