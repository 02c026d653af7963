"""B2 on the command line: `xueji student-template` and `xueji import-students`."""

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from openpyxl import load_workbook

from tests.exchange.helpers import workbook_bytes
from tests.students.conftest import raw_student
from xueji.students.form_items import SHEET_ITEMS
from xueji.students.models import Student


def test_the_hyphenated_commands_are_found():
    commands = get_commands()
    assert commands["student-template"] == "xueji.exchange"
    assert commands["import-students"] == "xueji.exchange"


def test_student_template_writes_the_template(tmp_path, capsys):
    out = tmp_path / "template.xlsx"
    call_command("student-template", str(out))
    sheet = load_workbook(out)["学生信息"]
    assert [cell.value for cell in sheet[1]] == [item.header for item in SHEET_ITEMS]


def test_import_students_imports_as_the_designated_registrar(cast, school_year, tmp_path, capsys):
    path = tmp_path / "students.xlsx"
    path.write_bytes(workbook_bytes([raw_student(sequence=1), raw_student(sequence=2)]))
    call_command("import-students", str(path), "--school", cast.school_a1.school_code)
    assert capsys.readouterr().out.strip() == "read 2, imported 2, refused 0"
    assert Student.objects.count() == 2
    assert set(Student.objects.values_list("created_by", flat=True)) == {cast.a1_registrar.pk}


def test_the_cli_exits_non_zero_on_a_refused_row_and_prints_the_counts(
    cast, school_year, tmp_path, capsys
):
    bad = raw_student(sequence=1, postal_code="2722")
    path = tmp_path / "students.xlsx"
    path.write_bytes(workbook_bytes([bad, raw_student(sequence=2)]))
    errors = tmp_path / "errors.xlsx"
    with pytest.raises(CommandError) as failed:
        call_command(
            "import-students",
            str(path),
            "--school",
            cast.school_a1.school_code,
            "--errors",
            str(errors),
        )
    assert failed.value.returncode == 1
    captured = capsys.readouterr()
    assert captured.out.strip() == "read 2, imported 0, refused 1"
    assert "row 2:" in captured.err
    assert load_workbook(errors)["学生信息"].max_row == 3  # every row: nothing was written
    assert Student.objects.count() == 0


def test_the_cli_acts_only_where_the_user_may(cast, school_year, tmp_path):
    path = tmp_path / "students.xlsx"
    path.write_bytes(workbook_bytes([raw_student(sequence=1)]))
    with pytest.raises(CommandError):
        call_command(
            "import-students", str(path), "--school", cast.school_b1.school_code, "--as", "a1"
        )
    assert Student.objects.count() == 0


def test_a_dry_run_on_the_cli_writes_nothing(cast, school_year, tmp_path, capsys):
    path = tmp_path / "students.xlsx"
    path.write_bytes(workbook_bytes([raw_student(sequence=1)]))
    call_command("import-students", str(path), "--school", "3708280604", "--dry-run")
    assert "read 1, imported 0, refused 0" in capsys.readouterr().out
    assert Student.objects.count() == 0
