"""B2: roster exports of a filtered list, scoped, masked, audited, safe in a spreadsheet."""

import csv
import io

import pytest
from django.utils import translation

from tests.exchange.helpers import read_workbook
from xueji.audit.models import AuditEvent
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.exchange import services
from xueji.students.form_items import SHEET_ITEMS
from xueji.students.rules import mask_id_number

HEADERS = [item.header for item in SHEET_ITEMS]


@pytest.fixture
def students(cast, register):
    """Two students at A1 (one with a formula-like specialty) and one at B1."""
    first = register(sequence=1, specialty="=1+1")
    second = register(sequence=2, name="李小红")
    other = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=3, name="王小刚")
    return first, second, other


def rows_of(response) -> list[dict]:
    content = getattr(response, "streaming_content", None)
    sheet = read_workbook(b"".join(content) if content is not None else response.content)
    table = list(sheet.iter_rows(values_only=True))
    return [dict(zip(table[0], row, strict=True)) for row in table[1:]]


def test_the_roster_holds_a1s_students_only_masked_and_audited(cast, client_for, students):
    first, second, _other = students
    response = client_for(cast.a1_registrar).get("/exchange/roster.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = rows_of(response)
    assert sorted(row["姓名"] for row in rows) == ["张小明", "李小红"]
    ids = {row["姓名"]: row["身份证件号"] for row in rows}
    assert ids["张小明"] == mask_id_number(first.student.id_number)
    assert first.student.id_number not in response.content.decode("latin-1")
    assert rows[0]["学校名称"] == cast.school_a1.name
    assert list(rows[0])[: len(HEADERS)] == HEADERS
    event = AuditEvent.objects.get(action="students.exported")
    assert event.actor == cast.a1_registrar
    assert sorted(event.data["students"]) == sorted([first.student.pk, second.student.pk])
    assert event.data["full"] is False


def test_a_formula_in_a_text_item_is_neutralised(cast, client_for, students):
    client = client_for(cast.a1_registrar)
    rows = rows_of(client.get("/exchange/roster.xlsx"))
    specialty = {row["姓名"]: row["特长"] for row in rows}["张小明"]
    assert specialty == "'=1+1"
    sheet = read_workbook(client.get("/exchange/roster.xlsx").content)
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)
    text = client.get("/exchange/roster.csv").content.decode("utf-8-sig")
    assert "'=1+1" in text and ",=1+1" not in text


def test_the_csv_roster_is_utf8_with_a_bom_and_the_same_filter(cast, client_for, students):
    response = client_for(cast.bureau_registrar).get(
        "/exchange/roster.csv", {"school": cast.school_b1.pk}
    )
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][: len(HEADERS)] == HEADERS
    assert [row[0] for row in table[1:]] == ["王小刚"]


def test_full_data_needs_the_reveal_capability_and_is_audited(cast, client_for, students):
    first, _second, _other = students
    leader = client_for(cast.a1_leader)
    assert leader.get("/exchange/roster.xlsx", {"full": "1"}).status_code == 403
    assert leader.get("/exchange/roster.xlsx").status_code == 200
    registrar = client_for(cast.a1_registrar)
    rows = rows_of(registrar.get("/exchange/roster.xlsx", {"full": "1", "q": "张小明"}))
    assert [row["身份证件号"] for row in rows] == [first.student.id_number]
    event = AuditEvent.objects.filter(action="students.exported").latest("seq")
    assert event.data["full"] is True and event.data["students"] == [first.student.pk]


def test_a_large_export_runs_as_a_job(cast, client_for, students, monkeypatch):
    monkeypatch.setattr(services, "EXPORT_JOB_THRESHOLD", 1)
    client = client_for(cast.a1_registrar)
    response = client.get("/exchange/roster.xlsx")
    job = Job.objects.get(kind="students.export")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert not AuditEvent.objects.filter(action="students.exported").exists()
    run_pending()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    download = client.get(f"/jobs/{job.pk}/download/")
    assert len(rows_of(download)) == 2
    assert AuditEvent.objects.filter(action="students.exported").count() == 1


def test_the_api_exports_with_the_same_filters_and_checks(cast, client_for, students, monkeypatch):
    client = client_for(cast.a1_registrar)
    response = client.get("/api/v1/students/export", {"format": "csv", "q": "李小红"})
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in table[1:]] == ["李小红"]
    leader = client_for(cast.a1_leader)
    with translation.override("en"):
        refused = leader.get("/api/v1/students/export", {"full": "true"})
    assert refused.status_code == 403
    monkeypatch.setattr(services, "EXPORT_JOB_THRESHOLD", 1)
    queued = client_for(cast.a1_registrar).get("/api/v1/students/export")
    assert queued.status_code == 202 and queued.json()["kind"] == "students.export"


def test_the_roster_page_offers_the_filters(cast, client_for, students):
    page = client_for(cast.a1_leader).get("/exchange/roster/")
    assert page.status_code == 200
    assert b'name="full"' not in page.content  # a leader may not reveal
    page = client_for(cast.a1_registrar).get("/exchange/roster/")
    assert b'name="full"' in page.content and b'formaction="/exchange/roster.csv"' in page.content
