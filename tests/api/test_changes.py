"""Change requests through the API (C1-C7, C9, P4): a rural transfer through the five
steps and both schools, the rules' refusals, scope, sessions and plans."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT, encode_multipart
from pypdf import PdfReader

from tests.changes.helpers import scan, signed, with_documents
from tests.students import conftest as students
from tests.students.conftest import TODAY
from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import Kind, State
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.reports.models import IssuedPaper
from xueji.students import services as student_services
from xueji.students.models import Status, StudentRecord

# The students' fixtures: a school year and `register(school, actor, **row overrides)`.
school_year = students.school_year
register = students.register

BOUNDARY = "XuejiBoundary"
DAY = "2026-11-30"
PROXY = {
    "name": "张建国",
    "id_number": "370828198001011235",
    "relation": "父亲",
    "call_note": "已电话联系教育局学籍科王老师",
}


def send(client, method, path, data=None):
    return client.generic(
        method.upper(), path, json.dumps(data or {}), content_type="application/json"
    )


def upload(name: str = "scan.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, scan(), content_type="image/jpeg")


def put_file(client, path: str, data: bytes):
    body = encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("s.jpg", data)})
    return client.put(
        path,
        body,
        content_type=f"{MULTIPART_CONTENT[: MULTIPART_CONTENT.index(';')]}; boundary={BOUNDARY}",
    )


@pytest.fixture
def pupil(cast, register):
    done = register()
    student_services.do_assign_numbers(done.record, actor=cast.a1_registrar)
    done.record.refresh_from_db()
    return done


def create_transfer(client, pupil, to_school, **extra):
    return send(
        client,
        "post",
        "/api/v1/changes",
        {
            "record_id": pupil.record.pk,
            "kind": "transfer",
            "reason": "moved",
            "effective_date": DAY,
            "to_school_id": to_school.pk,
            **extra,
        },
    )


def with_documents_via_api(client, request_id: int) -> dict:
    detail = client.get(f"/api/v1/changes/{request_id}").json()
    for document in detail["documents"]:
        added = client.post(
            f"/api/v1/changes/{request_id}/evidence",
            {"document": document["document"], "file": upload()},
        )
        assert added.status_code == 201, added.content
        checked = client.post(f"/api/v1/evidence/{added.json()['id']}/check")
        assert checked.status_code == 200 and checked.json()["checked"], checked.content
    passed = client.post(f"/api/v1/changes/{request_id}/documents-checked")
    assert passed.status_code == 200, passed.content
    return passed.json()


def test_a_rural_transfer_goes_through_every_step_to_the_receiving_school(cast, client_for, pupil):
    client = client_for(cast.a1_registrar)
    created = create_transfer(client, pupil, cast.school_b1)
    assert created.status_code == 201, created.content
    request = created.json()
    rid = request["id"]
    assert request["state"] == State.DRAFT
    assert request["owed_by_id"] == cast.school_a1.pk and request["overdue"] is False
    assert [d["name"] for d in request["documents"]] == ["户口本", "户口迁移证"]
    # The student API reveals ID numbers (audited); the request does not.
    assert request["facts"]["id_number"] != pupil.student.id_number
    assert "*" in request["facts"]["id_number"]

    refused = client.post(f"/api/v1/changes/{rid}/documents-checked")
    assert refused.status_code == 400 and refused.json()["field"] == "evidence"
    assert "户口迁移证" in refused.json()["detail"]
    detail = with_documents_via_api(client, rid)
    assert detail["state"] == State.DOCUMENTS_CHECKED
    evidence_id = detail["evidence"][0]["id"]
    scan_file = client.get(f"/api/v1/evidence/{evidence_id}/file")
    assert scan_file.status_code == 200 and scan_file["Content-Type"] == "image/jpeg"

    # Step 2: 胡集镇第三小学 has no printer, so its central school prints the report.
    printed = client_for(cast.central_a_registrar).get(f"/api/v1/changes/{rid}/report.pdf")
    assert printed.status_code == 200 and printed["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(printed.content)).pages[0].extract_text()
    assert pupil.student.name in text and "户口迁移证" in text
    assert IssuedPaper.objects.filter(target_id=str(rid)).count() == 1

    # Step 3: registrar and leader sign, the signed scan is uploaded, the central school
    # re-reviews.
    assert client_for(cast.a1_registrar).post(f"/api/v1/changes/{rid}/sign").status_code == 200
    assert client_for(cast.a1_leader).post(f"/api/v1/changes/{rid}/sign").status_code == 200
    client = client_for(cast.a1_registrar)
    signed = put_file(client, f"/api/v1/changes/{rid}/signed-scan", scan())
    assert signed.status_code == 200, signed.content
    assert signed.json()["state"] == State.SIGNED and signed.json()["has_signed_scan"]
    assert signed.json()["owed_by_id"] == cast.central_a.pk
    reviewed = send(
        client_for(cast.central_a_registrar),
        "post",
        f"/api/v1/changes/{rid}/central-review",
        {"approve": True, "comment": "复审无误，已盖章"},
    )
    assert reviewed.status_code == 200 and reviewed.json()["state"] == State.CENTRAL_REVIEWED

    # The receiving school confirms a seat; then step 4 with a proxy.
    client = client_for(cast.b1_registrar)
    waiting = client.get("/api/v1/changes", {"waiting": "mine"}).json()
    assert waiting["count"] == 0  # the sending school still owes the submission
    receiving = send(
        client, "post", f"/api/v1/changes/{rid}/receiving", {"to_grade": 1, "to_class": "2"}
    )
    assert receiving.status_code == 200, receiving.content
    assert receiving.json()["warnings"] == []
    submitted = send(
        client_for(cast.a1_registrar), "post", f"/api/v1/changes/{rid}/submit", {"proxy": PROXY}
    )
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["state"] == State.SUBMITTED and body["session_id"] is not None
    assert body["proxy"]["name"] == "张建国"
    assert body["proxy"]["id_number"] != PROXY["id_number"]  # masked

    # The bureau's session: open, decide, sign off.
    client = client_for(cast.bureau_registrar)
    assert client.get("/api/v1/changes", {"waiting": "mine"}).json()["count"] == 1
    opened = client.post("/api/v1/sessions/open")
    assert opened.status_code == 200 and opened.json()["is_open"]
    assert [r["id"] for r in opened.json()["requests"]] == [rid]
    assert opened.json()["id"] == body["session_id"]
    decided = send(client, "post", f"/api/v1/changes/{rid}/decision", {"approve": True})
    assert decided.status_code == 200, decided.content
    new_record_id = decided.json()["new_record_id"]
    assert decided.json()["owed_by_id"] == cast.school_b1.pk
    signed_off = client_for(cast.bureau_leader).post(
        f"/api/v1/sessions/{body['session_id']}/sign-off"
    )
    assert signed_off.status_code == 200 and signed_off.json()["leader_signed_at"]

    # Step 5: the receiving school confirms the arrival.
    client = client_for(cast.b1_registrar)
    assert client.get("/api/v1/changes", {"waiting": "mine"}).json()["count"] == 1
    recorded = client.post(f"/api/v1/changes/{rid}/record")
    assert recorded.status_code == 200, recorded.content
    assert recorded.json()["state"] == State.RECORDED
    new = StudentRecord.objects.get(pk=new_record_id)
    assert new.school == cast.school_b1 and new.status == Status.ENROLLED
    pupil.record.refresh_from_db()
    assert pupil.record.status == Status.TRANSFERRED_OUT
    detail = client.get(f"/api/v1/changes/{rid}").json()
    actions = [step["action"] for step in detail["steps"]]
    for action in ("created", "report_printed", "central_reviewed", "approved", "recorded"):
        assert action in actions
    assert AuditEvent.objects.filter(action="paper.issued").count() == 1


def test_a_same_district_transfer_is_refused_naming_the_receiving_school(cast, client_for, pupil):
    response = create_transfer(client_for(cast.a1_registrar), pupil, cast.central_a)
    assert response.status_code == 400
    assert response.json()["field"] == "to_school"
    assert "胡集镇中心小学" in response.json()["detail"]


def test_an_unknown_receiving_school_is_refused(cast, client_for, pupil):
    response = create_transfer(client_for(cast.a1_registrar), pupil, cast.bureau, to_grade=1)
    assert response.status_code == 400 and response.json()["field"] == "to_school"
    response = send(
        client_for(cast.a1_registrar),
        "post",
        "/api/v1/changes",
        {
            "record_id": pupil.record.pk,
            "kind": "transfer",
            "reason": "moved",
            "effective_date": DAY,
            "to_school_id": 999999,
        },
    )
    assert response.status_code == 400 and response.json()["field"] == "to_school"


def test_ids_outside_the_scope_are_404_and_the_bureaus_acts_403(cast, client_for, register):
    done = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=5)
    request = services.do_create_request(
        done.record, Kind.DROPOUT, actor=cast.b1_registrar, reason="dropout", effective_date=TODAY
    )
    evidence = services.do_add_evidence(request, "dropout_report", scan(), actor=cast.b1_registrar)
    client = client_for(cast.a1_registrar)
    assert client.get(f"/api/v1/changes/{request.pk}").status_code == 404
    assert client.post(f"/api/v1/changes/{request.pk}/documents-checked").status_code == 404
    assert client.get(f"/api/v1/changes/{request.pk}/report.pdf").status_code == 404
    assert client.get(f"/api/v1/evidence/{evidence.pk}/file").status_code == 404
    assert client.post(f"/api/v1/evidence/{evidence.pk}/check").status_code == 404
    assert send(
        client, "post", "/api/v1/changes/decisions", {"request_ids": [request.pk]}
    ).status_code == (404)
    response = send(
        client,
        "post",
        "/api/v1/changes",
        {
            "record_id": done.record.pk,
            "kind": "dropout",
            "reason": "dropout",
            "effective_date": DAY,
        },
    )
    assert response.status_code == 404
    assert client.get("/api/v1/changes").json()["count"] == 0
    assert client.post("/api/v1/sessions/open").status_code == 403
    # The school's own registrar sees it; the central school of B sees it but may not print.
    assert client_for(cast.b1_registrar).get("/api/v1/changes").json()["count"] == 1
    assert (
        client_for(cast.central_b_registrar).get(f"/api/v1/changes/{request.pk}").status_code == 200
    )


def test_the_report_before_the_documents_are_checked_is_400(cast, client_for, pupil):
    client = client_for(cast.a1_registrar)
    rid = create_transfer(client, pupil, cast.school_b1).json()["id"]
    response = client.get(f"/api/v1/changes/{rid}/report.pdf")
    assert response.status_code == 400
    assert not IssuedPaper.objects.exists()
    assert client_for(cast.a1_leader).get(f"/api/v1/changes/{rid}/report.pdf").status_code == 403


def test_evidence_is_checked_by_content(cast, client_for, pupil):
    client = client_for(cast.a1_registrar)
    rid = create_transfer(client, pupil, cast.school_b1).json()["id"]
    fake = SimpleUploadedFile("scan.jpg", b"<html>no</html>", content_type="image/jpeg")
    response = client.post(
        f"/api/v1/changes/{rid}/evidence", {"document": "household_register", "file": fake}
    )
    assert response.status_code == 400 and response.json()["field"] == "file"
    response = client.post(
        f"/api/v1/changes/{rid}/evidence", {"document": "death_certificate", "file": upload()}
    )
    assert response.status_code == 400 and response.json()["field"] == "document"


def leader_of(school):
    return org_services.do_create_user(
        actor=None,
        unit=school,
        username=f"leader-{school.pk}",
        password="long-enough-password-1",
        role=Role.SCHOOL_LEADER,
        must_change_password=False,
    )


def test_the_bureau_approves_a_selection_at_once_and_lists_by_state(cast, client_for, register):
    ids = []
    for sequence, school, registrar in (
        # A central school and a county-direct school: both report straight to the bureau.
        (11, cast.central_b, cast.central_b_registrar),
        (12, cast.school_c, cast.c_registrar),
    ):
        done = register(school=school, actor=registrar, sequence=sequence)
        request = services.do_create_request(
            done.record, Kind.DROPOUT, actor=registrar, reason="dropout", effective_date=TODAY
        )
        request = signed(with_documents(request, registrar), registrar, leader_of(school))
        ids.append(request.pk)
    client = client_for(cast.bureau_registrar)
    for rid in ids:
        submitted = send(client, "post", f"/api/v1/changes/{rid}/submit", {"proxy": None})
        assert submitted.status_code == 200, submitted.content
    assert client.get("/api/v1/changes", {"state": "submitted"}).json()["count"] == 2
    assert client.get("/api/v1/changes", {"school": cast.school_c.pk}).json()["count"] == 1
    refused = send(client, "post", "/api/v1/changes/decisions", {"request_ids": ids})
    assert refused.status_code == 400  # the session is not open yet: nothing approved
    assert client.get("/api/v1/changes", {"state": "submitted"}).json()["count"] == 2
    client.post("/api/v1/sessions/open")
    approved = send(client, "post", "/api/v1/changes/decisions", {"request_ids": ids})
    assert approved.status_code == 200 and approved.json() == {"approved": 2}
    assert client.get("/api/v1/changes", {"state": "approved"}).json()["count"] == 2


def test_a_school_withdraws_its_request_with_a_reason(cast, client_for, pupil):
    client = client_for(cast.a1_registrar)
    rid = create_transfer(client, pupil, cast.school_b1).json()["id"]
    refused = send(client, "post", f"/api/v1/changes/{rid}/withdraw", {"reason": " "})
    assert refused.status_code == 400 and refused.json()["field"] == "reason"
    withdrawn = send(client, "post", f"/api/v1/changes/{rid}/withdraw", {"reason": "家长改变主意"})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == State.WITHDRAWN


def test_sessions_are_listed_and_closed_by_the_bureau(cast, client_for, school_year):
    client = client_for(cast.bureau_registrar)
    opened = client.post("/api/v1/sessions/open").json()
    listed = client.get("/api/v1/sessions").json()
    assert [item["id"] for item in listed["items"]] == [opened["id"]]
    assert client.get(f"/api/v1/sessions/{opened['id']}").json()["is_open"]
    assert client_for(cast.a1_registrar).get(f"/api/v1/sessions/{opened['id']}").status_code == 200
    assert (
        client_for(cast.a1_registrar).post(f"/api/v1/sessions/{opened['id']}/close").status_code
        == 403
    )
    assert (
        client_for(cast.bureau_registrar)
        .post(f"/api/v1/sessions/{opened['id']}/sign-off")
        .status_code
        == 403
    )
    closed = client_for(cast.bureau_registrar).post(f"/api/v1/sessions/{opened['id']}/close")
    assert closed.status_code == 200 and closed.json()["closed_at"] and not closed.json()["is_open"]
    assert client.get("/api/v1/sessions/999999").status_code == 404


def test_units_file_plans_and_the_bureau_sees_who_has_not(cast, client_for):
    pdf = b"%PDF-1.4\n% plan\ntrailer << >>\n%%EOF\n"
    client = client_for(cast.a1_registrar)
    filed = client.post(
        "/api/v1/plans",
        {"file": SimpleUploadedFile("plan.pdf", pdf), "note": "2026学年异动管理方案"},
    )
    assert filed.status_code == 201, filed.content
    assert filed.json()["unit_id"] == cast.school_a1.pk
    own = client.get("/api/v1/plans").json()
    assert [(row["unit_id"], row["filed"]) for row in own] == [(cast.school_a1.pk, True)]
    refused = client.post("/api/v1/plans", {"file": SimpleUploadedFile("p.txt", b"text")})
    assert refused.status_code == 400 and refused.json()["field"] == "file"
    rows = client_for(cast.bureau_registrar).get("/api/v1/plans").json()
    filed_by = {row["unit_id"]: row["filed"] for row in rows}
    assert filed_by[cast.school_a1.pk] is True
    assert filed_by[cast.school_b1.pk] is False and filed_by[cast.central_a.pk] is False
    assert next(row for row in rows if row["unit_id"] == cast.school_a1.pk)["latest"]["note"]
