"""Intake through the API (N1-N8): a rural pupil from entry to an accepted record, a
county-direct pupil reviewed by the bureau, scope, the photo sheet, junior candidates,
the year's end and the catchments."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT, encode_multipart
from PIL import Image
from pypdf import PdfReader

from tests.api.test_openapi import EXPECTED_OPERATIONS
from tests.students import conftest as students
from tests.students.conftest import raw_student
from xueji.intake.models import Catchment, EntryState, IntakeEntry
from xueji.students.models import Status

school_year = students.school_year
register = students.register

BOUNDARY = "XuejiBoundary"


def send(client, method, path, data=None):
    return client.generic(
        method.upper(), path, json.dumps(data or {}), content_type="application/json"
    )


def light_blue_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (358, 441), (170, 205, 235)).save(buffer, "JPEG")
    return buffer.getvalue()


def put_photo(client, entry_id: int, data: bytes):
    upload = SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")
    return client.put(
        f"/api/v1/intake/entries/{entry_id}/photo",
        encode_multipart(BOUNDARY, {"file": upload}),
        content_type=f"{MULTIPART_CONTENT[: MULTIPART_CONTENT.index(';')]}; boundary={BOUNDARY}",
    )


def enter(client, school, **overrides) -> dict:
    response = send(
        client,
        "post",
        "/api/v1/intake/entries",
        raw_student(**overrides) | {"school_id": school.pk},
    )
    assert response.status_code == 201, response.content
    return response.json()["entry"]


def step(client, name: str, entry_ids: list[int], **extra) -> dict:
    response = send(
        client, "post", f"/api/v1/intake/entries/{name}", {"entry_ids": entry_ids, **extra}
    )
    assert response.status_code == 200, (name, response.content)
    return response.json()


def test_a_rural_pupil_goes_from_entry_to_an_accepted_record(cast, client_for, school_year):
    school = client_for(cast.a1_registrar)
    entry = enter(school, cast.school_a1)
    assert entry["state"] == EntryState.ENTERED and entry["school_id"] == cast.school_a1.pk
    assert entry["grade"] == 1 and entry["class_name"] == "1"
    ids = [entry["id"]]
    assert step(school, "send-for-review", ids)["entries"][0]["state"] == "awaiting_review"

    central = client_for(cast.central_a_registrar)
    assert step(central, "review", ids, admit=True)["entries"][0]["state"] == "admitted"
    photo = put_photo(central, entry["id"], light_blue_jpeg())
    assert photo.status_code == 200, photo.content
    numbered = step(central, "number", ids)
    assert numbered["count"] == 1
    assert numbered["entries"][0]["state"] == "numbered"
    assert numbered["entries"][0]["provincial_number"]
    assert numbered["entries"][0]["has_photo"] is True

    school = client_for(cast.a1_registrar)
    assert step(school, "submit", ids)["entries"][0]["locked"] is True
    bureau = client_for(cast.bureau_registrar)
    early = send(bureau, "post", "/api/v1/intake/entries/accept", {"entry_ids": ids})
    assert early.status_code == 400 and early.json()["detail"]  # the central school first
    central = client_for(cast.central_a_registrar)
    assert step(central, "forward", ids)["entries"][0]["state"] == "forwarded"
    bureau = client_for(cast.bureau_registrar)
    assert step(bureau, "accept", ids)["entries"][0]["state"] == "accepted"
    assert IntakeEntry.objects.get(pk=entry["id"]).record.status == Status.ENROLLED

    summary = {row["school_id"]: row for row in bureau.get("/api/v1/intake").json()}
    assert summary[cast.school_a1.pk]["counts"]["accepted"] == 1
    assert summary[cast.school_a1.pk]["total"] == 1
    listed = bureau.get(f"/api/v1/intake/entries?school={cast.school_a1.pk}&state=accepted")
    assert [row["id"] for row in listed.json()["items"]] == ids


def test_a_county_direct_pupil_is_reviewed_by_the_bureau(cast, client_for, school_year):
    school = client_for(cast.c_registrar)
    entry = enter(school, cast.school_c)
    ids = [entry["id"]]
    step(school, "send-for-review", ids)
    central = client_for(cast.central_a_registrar)
    refused = send(
        central, "post", "/api/v1/intake/entries/review", {"entry_ids": ids, "admit": True}
    )
    assert refused.status_code == 404  # the county-direct school is outside its scope
    bureau = client_for(cast.bureau_registrar)
    step(bureau, "review", ids, admit=True)
    step(bureau, "number", ids, identity_confirmed=False)
    school = client_for(cast.c_registrar)
    step(school, "submit", ids)
    bureau = client_for(cast.bureau_registrar)
    accepted = step(bureau, "accept", ids)["entries"][0]
    assert accepted["state"] == "accepted"
    assert accepted["national_number"].startswith("L")


def test_a_returned_pupil_carries_the_reason_and_a_return_needs_one(cast, client_for, school_year):
    school = client_for(cast.a1_registrar)
    ids = [enter(school, cast.school_a1)["id"]]
    step(school, "send-for-review", ids)
    central = client_for(cast.central_a_registrar)
    missing = send(
        central, "post", "/api/v1/intake/entries/review", {"entry_ids": ids, "admit": False}
    )
    assert missing.status_code == 400 and missing.json()["field"] == "reason"
    returned = step(central, "review", ids, admit=False, reason="户口本页缺失")["entries"][0]
    assert returned["state"] == "returned" and returned["returned_reason"] == "户口本页缺失"


def test_an_entry_is_checked_as_the_form_checks_it(cast, client_for, school_year):
    response = send(
        client_for(cast.a1_registrar),
        "post",
        "/api/v1/intake/entries",
        raw_student(name="张3") | {"school_id": cast.school_a1.pk},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "name" and body["errors"][0]["field"] == "name"
    assert not IntakeEntry.objects.exists()


def test_a_young_pupil_is_entered_with_the_problem_and_an_exception_can_be_recorded(
    cast, client_for, school_year
):
    import datetime

    school = client_for(cast.a1_registrar)
    entry = enter(school, cast.school_a1, birth=datetime.date(2021, 10, 1))
    assert entry["eligibility_problems"]
    response = send(
        school,
        "post",
        f"/api/v1/intake/entries/{entry['id']}/exception",
        {"kind": "deferral", "note": ""},
    )
    assert response.status_code == 400 and response.json()["field"] == "exception_note"
    response = send(
        school,
        "post",
        f"/api/v1/intake/entries/{entry['id']}/exception",
        {"kind": "deferral", "note": "县医院证明"},
    )
    assert response.status_code == 200 and response.json()["exception_kind"] == "deferral"


def test_another_school_cannot_reach_a1s_entries(cast, client_for, school_year):
    entry_id = enter(client_for(cast.a1_registrar), cast.school_a1)["id"]
    other = client_for(cast.b1_registrar)
    assert other.get("/api/v1/intake/entries").json()["items"] == []
    for name in ("send-for-review", "submit", "number"):
        response = send(other, "post", f"/api/v1/intake/entries/{name}", {"entry_ids": [entry_id]})
        assert response.status_code == 404, name
    exception = send(
        other,
        "post",
        f"/api/v1/intake/entries/{entry_id}/exception",
        {"kind": "migrant", "note": "务工证明"},
    )
    assert exception.status_code == 404
    assert put_photo(other, entry_id, light_blue_jpeg()).status_code == 404
    assert IntakeEntry.objects.get(pk=entry_id).state == EntryState.ENTERED


def test_the_bureau_prints_the_photo_sheet_and_a_school_may_not(cast, client_for, school_year):
    school = client_for(cast.a1_registrar)
    entry = enter(school, cast.school_a1)
    ids = [entry["id"]]
    step(school, "send-for-review", ids)
    central = client_for(cast.central_a_registrar)
    step(central, "review", ids, admit=True)
    put_photo(central, entry["id"], light_blue_jpeg())
    number = step(central, "number", ids)["entries"][0]["provincial_number"]
    url = f"/api/v1/intake/photo-sheet/{cast.school_a1.pk}?class_name=1&grade=1"
    assert client_for(cast.a1_registrar).get(url).status_code == 403
    response = client_for(cast.bureau_registrar).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    assert "张小明" in page.extract_text() and number in page.extract_text()
    assert len(page.images) == 1
    unchosen = client_for(cast.bureau_registrar).get(
        f"/api/v1/intake/photo-sheet/{cast.school_a1.pk}"
    )
    assert unchosen.status_code == 400 and unchosen.json()["field"] == "class_name"


def test_junior_candidates_are_collected_listed_and_converted(cast, client_for, school_year):
    from xueji.orgs import services as org_services
    from xueji.orgs.models import Role

    junior = org_services.do_create_school(
        actor=None,
        township=cast.township_b,
        name="羊山镇中学",
        school_code="3708280510",
        stage="junior",
        ordinal=10,
        county_ordinal=5,
    )
    registrar = org_services.do_create_user(
        actor=None,
        unit=junior,
        username="ysz",
        password="long-enough-password-1",
        role=Role.SCHOOL_REGISTRAR,
        must_change_password=False,
    )
    school = client_for(registrar)
    response = send(
        school,
        "post",
        "/api/v1/intake/junior",
        {
            "school_id": junior.pk,
            "rows": [{"typed": "1269999999999", "document_shown": "certificate"}],
        },
    )
    assert response.status_code == 201, response.content
    [candidate] = response.json()
    assert candidate["problem"] == "not_found" and candidate["school_id"] == junior.pk
    listed = school.get("/api/v1/intake/junior?problem=not_found").json()["items"]
    assert [row["id"] for row in listed] == [candidate["id"]]
    assert client_for(cast.a1_registrar).get("/api/v1/intake/junior").json()["items"] == []
    bureau = client_for(cast.bureau_registrar)
    converted = send(
        bureau, "post", "/api/v1/intake/junior/convert", {"candidate_ids": [candidate["id"]]}
    )
    assert converted.status_code == 200 and converted.json()["count"] == 0
    outside = send(
        client_for(cast.a1_registrar),
        "post",
        "/api/v1/intake/junior/convert",
        {"candidate_ids": [candidate["id"]]},
    )
    assert outside.status_code == 404


@pytest.fixture
def next_year(cast, school_year):
    import datetime

    from xueji.core import services as calendar_services

    return calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2027,
        autumn_start=datetime.date(2027, 9, 1),
        spring_start=datetime.date(2028, 2, 21),
    )


def test_the_year_end_is_previewed_then_run_by_the_bureau_only(
    cast, client_for, register, next_year
):
    register(sequence=1)
    preview = client_for(cast.bureau_registrar).get(
        "/api/v1/year-end/preview?from_year=2026&to_year=2027"
    )
    assert preview.status_code == 200, preview.content
    assert preview.json() | {"blocked": []} == {
        "from_year": 2026,
        "to_year": 2027,
        "promote": 1,
        "graduate": 0,
        "blocked": [],
    }
    missing = client_for(cast.bureau_registrar).get(
        "/api/v1/year-end/preview?from_year=2026&to_year=2030"
    )
    assert missing.status_code == 400 and missing.json()["field"] == "to_year"
    body = {"from_year": 2026, "to_year": 2027}
    assert send(client_for(cast.a1_registrar), "post", "/api/v1/year-end", body).status_code == 403
    ran = send(client_for(cast.bureau_registrar), "post", "/api/v1/year-end", body)
    assert ran.status_code == 200 and ran.json() == {"promoted": 1, "graduated": 0, "blocked": 0}
    again = send(client_for(cast.bureau_registrar), "post", "/api/v1/year-end", body)
    assert again.json() == {"promoted": 0, "graduated": 0, "blocked": 0}


def test_the_bureau_keeps_the_catchments(cast, client_for, db):
    url = f"/api/v1/catchments/{cast.school_a1.pk}"
    bureau = client_for(cast.bureau_registrar)
    saved = send(bureau, "put", url, {"codes": ["370828102001", "370828102002"]})
    assert saved.status_code == 200, saved.content
    assert saved.json()["codes"] == ["370828102001", "370828102002"]
    assert bureau.get(url).json()["codes"] == ["370828102001", "370828102002"]
    school = client_for(cast.a1_registrar)
    assert school.get(url).json()["codes"] == ["370828102001", "370828102002"]
    assert send(school, "put", url, {"codes": []}).status_code == 403
    assert client_for(cast.b1_registrar).get(url).status_code == 404
    assert Catchment.objects.filter(school=cast.school_a1).count() == 2


def test_the_openapi_document_lists_the_intake_operations(client, db):
    document = json.loads(client.get("/api/v1/openapi.json").content)
    intake = {
        (method, path): operation["operationId"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "intake" in operation["tags"]
    }
    assert len(intake) == 20
    assert intake.items() <= EXPECTED_OPERATIONS.items()
