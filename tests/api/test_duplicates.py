"""Candidate double registrations through the API (N11): the bureau's list of pairs side
by side, its two decisions, both audited, and nobody else's access."""

import datetime
import json

import pytest

from tests.students import conftest as students
from tests.students.conftest import id_number
from xueji.audit.models import AuditEvent
from xueji.students.models import DuplicateCandidate, Status

school_year = students.school_year
register = students.register


def decide(client, candidate_id, decision):
    return client.post(
        f"/api/v1/duplicates/{candidate_id}/decision",
        json.dumps({"decision": decision}),
        content_type="application/json",
    )


@pytest.fixture
def pair(cast, register):
    """张小明 registered at A1 with an ID number, and again at B1 without one."""
    first = register()
    second = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        id_type="Z",
        id_number="",
        **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)},
    )
    assert len(second.duplicates) == 1
    return first, second, second.duplicates[0]


def test_the_bureau_sees_the_open_pairs_side_by_side(cast, client_for, pair):
    first, second, candidate = pair
    response = client_for(cast.bureau_registrar).get("/api/v1/duplicates")
    assert response.status_code == 200, response.content
    [row] = response.json()
    assert row["id"] == candidate.pk and row["reason"] == "name" and row["state"] == "open"
    assert row["existing"]["id"] == first.student.pk
    assert row["existing"]["school_name"] == "胡集镇第三小学"
    assert row["newer"]["id"] == second.student.pk
    assert row["newer"]["school_name"] == "羊山镇第一小学"
    assert row["newer"]["created_by_id"] == cast.b1_registrar.pk
    # Even on the bureau's page, ID numbers are masked.
    assert row["existing"]["id_number"] != first.student.id_number
    assert first.student.id_number not in response.content.decode()


def test_not_the_same_person_closes_the_pair_and_is_audited(cast, client_for, pair):
    _first, second, candidate = pair
    client = client_for(cast.bureau_registrar)
    response = decide(client, candidate.pk, "different")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "different"
    second.record.refresh_from_db()
    assert second.record.status == Status.ENROLLED
    event = AuditEvent.objects.get(action="duplicate.decided")
    assert event.actor == cast.bureau_registrar and event.data["decision"] == "different"
    assert client.get("/api/v1/duplicates").json() == []


def test_withdrawing_closes_the_newer_record(cast, client_for, pair):
    _first, second, candidate = pair
    response = decide(client_for(cast.bureau_registrar), candidate.pk, "withdraw")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "withdrawn"
    second.record.refresh_from_db()
    assert second.record.status == Status.LEFT_OTHER
    assert AuditEvent.objects.get(action="duplicate.decided").data["decision"] == "withdraw"


def test_a_decided_pair_cannot_be_decided_again(cast, client_for, pair):
    _first, _second, candidate = pair
    client = client_for(cast.bureau_registrar)
    assert decide(client, candidate.pk, "different").status_code == 200
    again = decide(client, candidate.pk, "withdraw")
    assert again.status_code == 400
    assert DuplicateCandidate.objects.get(pk=candidate.pk).state == "different"


def test_an_unknown_decision_is_refused(cast, client_for, pair):
    _first, _second, candidate = pair
    assert decide(client_for(cast.bureau_registrar), candidate.pk, "merge").status_code == 422


@pytest.mark.parametrize(
    "member", ["a1_registrar", "b1_registrar", "central_b_registrar", "bureau_leader"]
)
def test_only_the_bureau_registrar_lists_and_decides_pairs(cast, client_for, pair, member):
    _first, _second, candidate = pair
    client = client_for(getattr(cast, member))
    assert client.get("/api/v1/duplicates").status_code == 403
    assert decide(client, candidate.pk, "withdraw").status_code == 403
    assert DuplicateCandidate.objects.get(pk=candidate.pk).state == "open"
    assert not AuditEvent.objects.filter(action="duplicate.decided").exists()


def test_a_pair_that_does_not_exist_answers_404(cast, client_for, pair):
    _first, _second, candidate = pair
    response = decide(client_for(cast.bureau_registrar), candidate.pk + 100, "different")
    assert response.status_code == 404
