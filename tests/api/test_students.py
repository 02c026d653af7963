"""Students through the API (B1, B3, N5, N11): registration and edits with the forms'
checks and messages, the student file, reveal, placements, the lock, numbers, photos, the
national form, scope, and the OpenAPI document."""

import datetime
import json
import re

import pytest
from django.test import Client
from django.test.client import MULTIPART_CONTENT, encode_multipart
from django.utils import translation
from django.utils.translation import gettext

from tests.students import conftest as students
from tests.students.conftest import TODAY, id_number, raw_student
from tests.students.test_photos import encode, portrait
from xueji.audit.models import AuditEvent
from xueji.students.form_items import BY_KEY, ITEMS
from xueji.students.models import Student, StudentRecord
from xueji.students.services import do_lock_record
from xueji.students.validation import validate_student

# The students' fixtures: a school year and `register(school, actor, **row overrides)`.
school_year = students.school_year
register = students.register

BOUNDARY = "XuejiBoundary"

# Every operation of the students router, with the ids filled in by `concrete`.
NEW_OPERATIONS = {
    ("get", "/api/v1/students"): "list_students",
    ("post", "/api/v1/students"): "register_student",
    ("get", "/api/v1/students/{student_id}"): "get_student",
    ("patch", "/api/v1/students/{student_id}"): "update_student",
    ("post", "/api/v1/students/{student_id}/reveal"): "reveal_student",
    ("put", "/api/v1/students/{student_id}/photo"): "set_photo",
    ("get", "/api/v1/students/{student_id}/photo"): "get_photo",
    ("put", "/api/v1/records/{record_id}/placement"): "set_placement",
    ("post", "/api/v1/records/{record_id}/lock"): "lock_record",
    ("post", "/api/v1/records/{record_id}/reopen"): "reopen_record",
    ("post", "/api/v1/records/{record_id}/numbers"): "assign_numbers",
    ("get", "/api/v1/duplicates"): "list_duplicates",
    ("post", "/api/v1/duplicates/{candidate_id}/decision"): "decide_duplicate",
    ("post", "/api/v1/duplicates/scan"): "scan_duplicates",
    ("get", "/api/v1/items"): "list_items",
    ("get", "/api/v1/codes/{table}"): "list_codes",
}


def send(client, method, path, data=None):
    return client.generic(
        method.upper(), path, json.dumps(data or {}), content_type="application/json"
    )


def payload(school, **overrides) -> dict:
    return raw_student(**overrides) | {"school_id": school.pk, "status": "enrolled"}


def put_photo(client, student_id, data: bytes):
    body = encode_multipart(BOUNDARY, {"file": _named(data)})
    return client.put(
        f"/api/v1/students/{student_id}/photo",
        body,
        content_type=f"{MULTIPART_CONTENT[: MULTIPART_CONTENT.index(';')]}; boundary={BOUNDARY}",
    )


def _named(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")


def locked_message() -> str:
    return gettext(
        "%(label)s: the record has been submitted and is locked; only a correction "
        "request can change it."
    )


@pytest.fixture
def chinese():
    with translation.override("zh-hans"):
        yield


# --- Registration --------------------------------------------------------------------------


def test_registering_creates_the_student_with_the_caller_as_creator_and_an_audit_event(
    cast, client_for, school_year
):
    response = send(
        client_for(cast.a1_registrar), "post", "/api/v1/students", payload(cast.school_a1)
    )
    assert response.status_code == 201, response.content
    body = response.json()
    student = Student.objects.get(pk=body["student"]["id"])
    assert student.created_by == cast.a1_registrar
    assert student.name == "张小明" and student.family.count() == 2
    record = StudentRecord.objects.get(pk=body["record_id"])
    assert record.school == cast.school_a1 and record.created_by == cast.a1_registrar
    assert record.status == "enrolled"
    event = AuditEvent.objects.get(action="student.registered", target_id=str(student.pk))
    assert event.actor == cast.a1_registrar
    assert body["known_person"] is False and body["held_for_bureau"] == []


def test_a_bad_id_number_answers_400_with_the_field_and_the_message_of_the_validation(
    cast, client_for, school_year, chinese
):
    raw = raw_student(id_number="370828201903150010")  # the check character is wrong
    expected = [p.message for p in validate_student(raw, today=TODAY).errors]
    assert expected
    response = send(
        client_for(cast.a1_registrar), "post", "/api/v1/students", payload(cast.school_a1, **raw)
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == "id_number"
    assert body["detail"] == expected[0]
    assert [e["message"] for e in body["errors"]] == expected
    assert Student.objects.count() == 0


def test_every_problem_is_listed_with_its_item_key(cast, client_for, school_year):
    raw = payload(cast.school_a1, phone="12345", postal_code="2722", **{"family2.name": "Li 2"})
    response = send(client_for(cast.a1_registrar), "post", "/api/v1/students", raw)
    assert response.status_code == 400
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["phone", "postal_code", "family2.name"]


def test_a_second_registration_names_the_school_that_holds_the_record(
    cast, client_for, register, chinese
):
    register()
    response = send(
        client_for(cast.b1_registrar), "post", "/api/v1/students", payload(cast.school_b1)
    )
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "id_number" and "胡集镇第三小学" in body["detail"]
    assert body["errors"] == [{"field": "id_number", "message": body["detail"]}]


def test_a_misspelt_item_key_is_refused_not_ignored(cast, client_for, school_year):
    response = send(
        client_for(cast.a1_registrar),
        "post",
        "/api/v1/students",
        payload(cast.school_a1) | {"family1_name": "张建国"},
    )
    assert response.status_code == 422


def test_a_school_leader_may_not_register(cast, client_for, school_year):
    response = send(client_for(cast.a1_leader), "post", "/api/v1/students", payload(cast.school_a1))
    assert response.status_code == 403
    assert Student.objects.count() == 0


# --- The student file ----------------------------------------------------------------------


def test_the_student_file_has_every_item_with_codes_named_and_private_values_masked(
    cast, client_for, register, chinese
):
    done = register()
    response = client_for(cast.a1_leader).get(f"/api/v1/students/{done.student.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    items = body["items"]
    assert set(items) == {item.key for item in ITEMS}
    assert items["ethnicity"] == {"value": "01", "name": "汉族", "masked": False}
    assert items["only_child"]["value"] is False and items["only_child"]["name"] == "否"
    assert items["grade"]["value"] == 1 and items["class_name"]["value"] == "1"
    assert items["birth_date"]["value"] == "2019-03-15"
    full = done.student.id_number
    assert items["id_number"]["masked"] and items["id_number"]["value"] != full
    assert items["id_number"]["value"].endswith(full[-4:])
    for key in ("current_address", "mailing_address", "home_address"):
        assert items[key]["masked"] and "张庄村" not in items[key]["value"], key
    assert full not in response.content.decode()
    assert [r["id"] for r in body["records"]] == [done.record.pk]
    assert body["records"][0]["placements"][0]["grade"] == 1
    assert body["open_record_id"] == done.record.pk and body["locked"] is False


def test_the_family_members_id_numbers_and_addresses_are_masked(cast, client_for, register):
    father = id_number(datetime.date(1985, 6, 1), 7)
    done = register(
        **{"family1.id_number": father, "family1.current_address": "金乡县胡集镇张庄村"}
    )
    items = client_for(cast.a1_registrar).get(f"/api/v1/students/{done.student.pk}").json()["items"]
    assert items["family1.id_number"]["masked"] and items["family1.id_number"]["value"] != father
    assert items["family1.current_address"]["masked"]
    assert items["family1.name"]["value"] == "张建国"


def test_reveal_returns_the_full_id_number_and_writes_student_revealed(cast, client_for, register):
    done = register()
    response = send(
        client_for(cast.a1_registrar),
        "post",
        f"/api/v1/students/{done.student.pk}/reveal",
        {"what": "id_number"},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"id_number": done.student.id_number}
    event = AuditEvent.objects.get(action="student.revealed", target_id=str(done.student.pk))
    assert event.actor == cast.a1_registrar and event.data["what"] == "id_number"


def test_a_school_leader_may_not_reveal(cast, client_for, register):
    done = register()
    response = send(
        client_for(cast.a1_leader),
        "post",
        f"/api/v1/students/{done.student.pk}/reveal",
        {"what": "address"},
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="student.revealed").exists()


# --- Edits and the lock (N5) ---------------------------------------------------------------


def test_a_patch_changes_only_the_items_sent(cast, client_for, register):
    done = register()
    response = send(
        client_for(cast.a1_registrar),
        "patch",
        f"/api/v1/students/{done.student.pk}",
        {"phone": "13953700000", "family2.phone": "13953700001"},
    )
    assert response.status_code == 200, response.content
    student = Student.objects.get(pk=done.student.pk)
    assert student.phone == "13953700000" and student.name == "张小明"
    assert student.family.get(position=2).phone == "13953700001"
    assert AuditEvent.objects.filter(action="student.updated").count() == 1


def test_a_patch_cannot_change_grade_or_record_items(cast, client_for, register):
    # Grade and class are a placement (PUT /records/{id}/placement); record items change
    # only by a change request. Sending them is an error, never silently ignored.
    done = register()
    client = client_for(cast.a1_registrar)
    for item in ({"grade": "2"}, {"entry_method": "11"}, {"provincial_number": "1262806040001"}):
        response = send(client, "patch", f"/api/v1/students/{done.student.pk}", item)
        assert response.status_code == 422, item


def test_a_patch_with_a_bad_value_answers_the_validation_message(
    cast, client_for, register, chinese
):
    done = register()
    expected = validate_student({"postal_code": "27"}, today=TODAY, partial=True).errors[0]
    response = send(
        client_for(cast.a1_registrar),
        "patch",
        f"/api/v1/students/{done.student.pk}",
        {"postal_code": "27"},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "postal_code"
    assert response.json()["detail"] == expected.message


def test_a_patch_of_a_locked_field_answers_400_and_changes_nothing(
    cast, client_for, register, chinese
):
    done = register()
    do_lock_record(done.record, actor=cast.a1_registrar)
    client = client_for(cast.a1_registrar)
    response = send(
        client,
        "patch",
        f"/api/v1/students/{done.student.pk}",
        {"name": "张大明", "phone": "13953700000"},
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == "name"
    assert body["detail"] == locked_message() % {"label": str(BY_KEY["name"].label)}
    student = Student.objects.get(pk=done.student.pk)
    assert (student.name, student.phone) == ("张小明", "13853712345")
    assert not AuditEvent.objects.filter(action="student.updated").exists()
    family = send(
        client, "patch", f"/api/v1/students/{done.student.pk}", {"family1.name": "张建华"}
    )
    assert family.status_code == 400 and family.json()["field"] == "family1.name"


def test_the_api_locks_and_a_reviewer_reopens_with_a_reason(cast, client_for, register):
    done = register()
    school = client_for(cast.a1_registrar)
    locked = send(school, "post", f"/api/v1/records/{done.record.pk}/lock")
    assert locked.status_code == 200, locked.content
    assert locked.json()["locked"] is True
    refused = send(school, "patch", f"/api/v1/students/{done.student.pk}", {"sex": "2"})
    assert refused.status_code == 400 and refused.json()["field"] == "sex"
    no_reason = send(school, "post", f"/api/v1/records/{done.record.pk}/reopen", {"reason": " "})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    reopened = send(
        client_for(cast.bureau_registrar),
        "post",
        f"/api/v1/records/{done.record.pk}/reopen",
        {"reason": "出生地有误"},
    )
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["locked"] is False
    event = AuditEvent.objects.get(action="record.reopened")
    assert event.data["reason"] == "出生地有误"


def test_a_central_school_may_see_but_not_lock_a_rural_schools_record(cast, client_for, register):
    done = register()
    client = client_for(cast.central_a_registrar)
    assert client.get(f"/api/v1/students/{done.student.pk}").status_code == 200
    assert send(client, "post", f"/api/v1/records/{done.record.pk}/lock").status_code == 403
    assert StudentRecord.objects.get(pk=done.record.pk).locked_at is None


def test_a_placement_sets_grade_and_class_for_the_school_year(cast, client_for, register):
    done = register()
    response = send(
        client_for(cast.a1_registrar),
        "put",
        f"/api/v1/records/{done.record.pk}/placement",
        {"school_year": 2026, "grade": 2, "class_name": "3", "seat_number": "12"},
    )
    assert response.status_code == 200, response.content
    placements = response.json()["placements"]
    assert [(p["school_year"], p["grade"], p["class_name"]) for p in placements] == [(2026, 2, "3")]
    unknown = send(
        client_for(cast.a1_registrar),
        "put",
        f"/api/v1/records/{done.record.pk}/placement",
        {"school_year": 2030, "grade": 2, "class_name": "3"},
    )
    assert unknown.status_code == 400 and unknown.json()["field"] == "school_year"


# --- Numbers -------------------------------------------------------------------------------


def test_the_numbers_endpoint_assigns_a_13_digit_provincial_number_and_a_g_number(
    cast, client_for, register
):
    done = register()
    response = send(
        client_for(cast.a1_registrar),
        "post",
        f"/api/v1/records/{done.record.pk}/numbers",
        {"identity_confirmed": True},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert re.fullmatch(r"\d{13}", body["provincial_number"]), body
    assert body["national_number"] == "G" + done.student.id_number
    assert body["national_number_kind"] == "G"
    assert AuditEvent.objects.filter(action="record.numbered").count() == 1


def test_without_confirmed_identity_the_number_is_a_temporary_l(cast, client_for, register):
    done = register()
    response = send(
        client_for(cast.a1_registrar),
        "post",
        f"/api/v1/records/{done.record.pk}/numbers",
        {"identity_confirmed": False},
    )
    assert response.status_code == 200
    assert response.json()["national_number_kind"] == "L"


# --- Photos --------------------------------------------------------------------------------


def test_a_photo_is_uploaded_normalised_and_read_back_as_jpeg(cast, client_for, register):
    done = register()
    client = client_for(cast.a1_registrar)
    response = put_photo(client, done.student.pk, encode(portrait()))
    assert response.status_code == 200, response.content
    assert response.json() == {"warnings": []}
    photo = client.get(f"/api/v1/students/{done.student.pk}/photo")
    assert photo.status_code == 200
    assert photo["Content-Type"] == "image/jpeg" and photo.content[:2] == b"\xff\xd8"
    assert "no-store" in photo["Cache-Control"]
    assert AuditEvent.objects.filter(action="student.photo_set").count() == 1


def test_a_file_that_is_not_an_image_is_refused_with_the_field(cast, client_for, register):
    done = register()
    response = put_photo(client_for(cast.a1_registrar), done.student.pk, b"not an image")
    assert response.status_code == 400
    assert response.json()["field"] == "photo"


def test_a_student_without_a_photo_answers_404(cast, client_for, register):
    done = register()
    response = client_for(cast.a1_registrar).get(f"/api/v1/students/{done.student.pk}/photo")
    assert response.status_code == 404


# --- Scope ---------------------------------------------------------------------------------


def test_a1_registrar_gets_404_on_b1s_student_its_record_actions_and_its_photo(
    cast, client_for, register
):
    done = register(school=cast.school_b1, actor=cast.b1_registrar)
    put_photo(client_for(cast.b1_registrar), done.student.pk, encode(portrait()))
    student, record = done.student.pk, done.record.pk
    missing_student, missing_record = student + 1000, record + 1000
    client = client_for(cast.a1_registrar)
    for s, r in ((student, record), (missing_student, missing_record)):
        answers = {
            "file": client.get(f"/api/v1/students/{s}"),
            "patch": send(client, "patch", f"/api/v1/students/{s}", {"phone": "13953700000"}),
            "reveal": send(client, "post", f"/api/v1/students/{s}/reveal", {"what": "id_number"}),
            "photo": client.get(f"/api/v1/students/{s}/photo"),
            "upload": put_photo(client, s, encode(portrait())),
            "placement": send(
                client,
                "put",
                f"/api/v1/records/{r}/placement",
                {"school_year": 2026, "grade": 2, "class_name": "1"},
            ),
            "lock": send(client, "post", f"/api/v1/records/{r}/lock"),
            "reopen": send(client, "post", f"/api/v1/records/{r}/reopen", {"reason": "x"}),
            "numbers": send(
                client, "post", f"/api/v1/records/{r}/numbers", {"identity_confirmed": True}
            ),
        }
        for name, response in answers.items():
            assert response.status_code == 404, (name, s, response.content)
        bodies = {name: response.json() for name, response in answers.items()}
        if s == student:
            inside = bodies
        else:
            # The same answer as for an id that does not exist: ids cannot be probed.
            assert bodies == inside
    assert not AuditEvent.objects.filter(action="student.revealed").exists()
    unchanged = Student.objects.get(pk=student)
    assert unchanged.phone == "13853712345" and unchanged.national_number is None


# --- The national form ---------------------------------------------------------------------


def test_the_items_list_all_72_in_the_forms_order(cast, client_for, chinese):
    response = client_for(cast.a1_leader).get("/api/v1/items")
    assert response.status_code == 200
    items = response.json()
    assert [item["key"] for item in items] == [item.key for item in ITEMS]
    ethnicity = next(item for item in items if item["key"] == "ethnicity")
    assert ethnicity["header"] == "民族" and ethnicity["table"] == "ethnicity"
    assert ethnicity["required"] is True and ethnicity["kind"] == "code"


def test_a_code_table_lists_its_codes_in_order(cast, client_for):
    client = client_for(cast.a1_leader)
    ethnicities = client.get("/api/v1/codes/ethnicity").json()
    assert ethnicities[0] == {"code": "01", "name": "汉族"}
    assert ethnicities[55] == {"code": "56", "name": "基诺族"}
    assert client.get("/api/v1/codes/no-such-table").status_code == 404


# --- The document and the way in -----------------------------------------------------------


def test_the_openapi_document_lists_every_new_operation(client, db):
    document = json.loads(client.get("/api/v1/openapi.json").content)
    found = {
        (method, path): operation["operationId"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert NEW_OPERATIONS.items() <= found.items()
    registration = document["components"]["schemas"]["StudentIn"]["properties"]
    assert {item.key for item in ITEMS if item.key != "photo"} <= set(registration)
    assert {"school_id", "status"} <= set(registration)


def concrete(path: str) -> str:
    for name in ("student_id", "record_id", "candidate_id"):
        path = path.replace("{" + name + "}", "1")
    return path.replace("{table}", "ethnicity")


def test_anonymous_gets_401_on_every_new_operation(cast):
    client = Client(enforce_csrf_checks=True)
    for method, path in NEW_OPERATIONS:
        response = client.generic(
            method.upper(), concrete(path), "{}", content_type="application/json"
        )
        assert response.status_code == 401, (method, path, response.content)
