"""B2, B5: every statistics table exports to xlsx exactly as the page shows it, for the
user's scope, as text cells safe against formula injection; every export is audited."""

import io

import pytest
from openpyxl import load_workbook

from xueji.audit.models import AuditEvent
from xueji.intake.roster import do_confirm_roster
from xueji.stats import tables

from .helpers import tables_of

ALL_KEYS = [spec.key for spec in tables.SPECS]


def read_xlsx(content: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [
        ["" if cell is None else str(cell) for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]


@pytest.fixture
def pupils(cast, register):
    bureau = cast.bureau_registrar
    return [
        register(school=cast.school_a1, actor=bureau, sequence=1, name="张一").record,
        register(school=cast.school_a1, actor=bureau, sequence=2, name="李二", sex="2").record,
        register(school=cast.school_b1, actor=bureau, sequence=3, name="赵四").record,
    ]


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_table_exports_what_the_page_shows(cast, client_for, english, pupils, key):
    client = client_for(cast.bureau_registrar)
    response = client.get(f"/statistics/export/{key}.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith(f'attachment; filename="{key}-')
    spec = tables.BY_KEY[key]
    page = (
        "/api/v1/stats/"
        + {
            tables.STUDENTS: "students",
            tables.CHANGES: "changes",
            tables.INTAKE: "intake",
            tables.DROPOUT: "dropout-watch",
            tables.OVERVIEW: "units-overview",
        }[spec.page]
    )
    shown = tables_of(client, page)[key]
    rows = read_xlsx(response.content)
    assert rows[0] == shown["headers"]
    expected = [[str(value) for value in row] for row in shown["rows"]]
    if shown["total"] is not None:
        expected.append([str(value) for value in shown["total"]])
    assert rows[1:] == expected
    event = AuditEvent.objects.filter(action="stats.exported").latest("seq")
    assert event.actor == cast.bureau_registrar
    assert event.data["table"] == key and event.data["rows"] == len(shown["rows"])


def test_a_schools_export_holds_its_own_numbers_only(cast, client_for, english, pupils):
    response = client_for(cast.b1_registrar).get("/statistics/export/schools.xlsx")

    rows = read_xlsx(response.content)
    assert [row[0] for row in rows[1:]] == [cast.school_b1.name, "Total"]
    assert cast.school_a1.name not in str(rows)


def test_a_formula_typed_into_a_note_is_written_as_text(
    cast, client_for, english, school_year, pupils
):
    do_confirm_roster(
        cast.school_a1,
        school_year,
        "autumn",
        [{"record_id": pupils[0].pk, "kind": "not_present", "note": '=HYPERLINK("http://x","y")'}],
        actor=cast.a1_registrar,
    )

    response = client_for(cast.bureau_registrar).get("/statistics/export/absent.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    note = [cell.value for cell in sheet[2]][5]
    assert note == '\'=HYPERLINK("http://x","y")'
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)


def test_an_export_naming_students_records_them_in_the_audit_log(
    cast, client_for, english, school_year, pupils
):
    do_confirm_roster(
        cast.school_a1,
        school_year,
        "autumn",
        [{"record_id": pupils[1].pk, "kind": "not_present"}],
        actor=cast.a1_registrar,
    )

    client_for(cast.central_a_registrar).get("/statistics/export/absent.xlsx")
    event = AuditEvent.objects.get(action="stats.exported")
    assert event.actor == cast.central_a_registrar and event.unit == cast.central_a
    assert event.data["students"] == [pupils[1].student_id]


def test_the_api_exports_a_table_too(cast, client_for, english, pupils):
    response = client_for(cast.bureau_leader).get("/api/v1/stats/tables/grades/xlsx")

    assert response.status_code == 200
    rows = read_xlsx(response.content)
    assert rows[0][0] == "Grade" and rows[1] == ["Grade 1", "3", "2", "1", "0", "0", "0", "0"]
    assert AuditEvent.objects.filter(action="stats.exported", actor=cast.bureau_leader).exists()


def test_an_unknown_table_or_one_outside_the_level_is_not_found(cast, client_for, pupils):
    client = client_for(cast.b1_registrar)
    assert client.get("/statistics/export/nonsense.xlsx").status_code == 404
    assert client.get("/statistics/export/townships.xlsx").status_code == 404
    assert client.get("/api/v1/stats/tables/nonsense/xlsx").status_code == 404
    assert not AuditEvent.objects.filter(action="stats.exported").exists()


def test_the_command_line_exports_a_table_as_the_named_user(
    cast, english, pupils, tmp_path, capsys
):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = tmp_path / "schools.xlsx"
    call_command("stats-export", "schools", "-o", str(out), "--user", cast.b1_registrar.username)

    assert capsys.readouterr().out.strip() == f"exported 1 rows of schools to {out}"
    rows = read_xlsx(out.read_bytes())
    assert len(rows) == 3 and rows[1][0] == cast.school_b1.name  # header, b1, the total
    event = AuditEvent.objects.get(action="stats.exported")
    assert event.actor == cast.b1_registrar
    with pytest.raises(CommandError):  # the overview is the bureau's
        call_command("stats-export", "without-plan", "-o", str(out), "--user", "b1")
    with pytest.raises(CommandError):
        call_command("stats-export", "nonsense", "-o", str(out), "--user", "bureau")
