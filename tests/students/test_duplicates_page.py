"""N11: the bureau's page of candidate double registrations, decided both ways, audited."""

import datetime

import pytest

from tests.students.conftest import id_number
from xueji.audit.models import AuditEvent
from xueji.students.models import DuplicateCandidate, Status


@pytest.fixture
def candidate(cast, register):
    """张小明 at A1 with an ID number, and a pupil at B1 without one who may be him."""
    register()
    held = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        id_type="Z",
        id_number="",
        **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)},
    )
    return held.duplicates[0]


def test_the_bureau_sees_the_pair_side_by_side(cast, client_for, candidate):
    page = client_for(cast.bureau_registrar).get("/students/duplicates/")

    assert page.status_code == 200
    assert page.text.count("张小明") >= 2
    assert "胡集镇第三小学" in page.text and "羊山镇第一小学" in page.text
    assert "张建国" in page.text  # family members, to tell people apart
    assert candidate.existing.id_number not in page.text  # masked
    assert f'action="/students/duplicates/{candidate.pk}/decide/"' in page.text


def test_the_bureau_decides_not_the_same_person(cast, client_for, candidate):
    response = client_for(cast.bureau_registrar).post(
        f"/students/duplicates/{candidate.pk}/decide/", {"decision": "different"}
    )

    assert response.status_code == 302 and response["Location"] == "/students/duplicates/"
    candidate.refresh_from_db()
    assert candidate.state == DuplicateCandidate.State.DIFFERENT
    assert candidate.decided_by == cast.bureau_registrar
    assert candidate.newer.records.get().status == Status.ENROLLED
    event = AuditEvent.objects.get(action="duplicate.decided")
    assert event.actor == cast.bureau_registrar and event.data["decision"] == "different"


def test_the_bureau_withdraws_the_newer_registration(cast, client_for, candidate):
    client = client_for(cast.bureau_registrar)

    client.post(f"/students/duplicates/{candidate.pk}/decide/", {"decision": "withdraw"})

    candidate.refresh_from_db()
    assert candidate.state == DuplicateCandidate.State.WITHDRAWN
    record = candidate.newer.records.get()
    assert record.status == Status.LEFT_OTHER and record.exit_date is not None
    event = AuditEvent.objects.get(action="duplicate.decided")
    assert event.actor == cast.bureau_registrar and event.data["decision"] == "withdraw"
    page = client.get("/students/duplicates/")
    assert f"/students/duplicates/{candidate.pk}/decide/" not in page.text  # listed as decided


def test_a_pair_is_decided_only_once(cast, client_for, candidate):
    client = client_for(cast.bureau_registrar)
    client.post(f"/students/duplicates/{candidate.pk}/decide/", {"decision": "different"})

    client.post(f"/students/duplicates/{candidate.pk}/decide/", {"decision": "withdraw"})

    candidate.refresh_from_db()
    assert candidate.state == DuplicateCandidate.State.DIFFERENT
    assert AuditEvent.objects.filter(action="duplicate.decided").count() == 1


@pytest.mark.parametrize(
    "who", ["a1_registrar", "b1_registrar", "central_a_registrar", "bureau_leader"]
)
def test_others_get_403_on_the_duplicates_page(cast, client_for, candidate, who):
    client = client_for(getattr(cast, who))

    assert client.get("/students/duplicates/").status_code == 403
    decide = client.post(f"/students/duplicates/{candidate.pk}/decide/", {"decision": "withdraw"})
    assert decide.status_code == 403
    candidate.refresh_from_db()
    assert candidate.state == DuplicateCandidate.State.OPEN


def test_the_decision_page_is_post_only(cast, client_for, candidate):
    client = client_for(cast.bureau_registrar)

    assert client.get(f"/students/duplicates/{candidate.pk}/decide/").status_code == 405
