"""N11: the bureau scans its county for double registrations the registration did not hold
(a name or birth date corrected later, one ID number under two document types), from the
page (a background job), the API and the command line; the new pairs join the queue,
audited, and a second scan adds nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.students.conftest import id_number
from xueji.audit.models import AuditEvent
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.students import services
from xueji.students.duplicates import do_scan_duplicates
from xueji.students.models import DuplicateCandidate, Status, StudentRecord

GUARDIAN = {"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)}


@pytest.fixture
def corrected(cast, register):
    """张小明 at A1 with an ID number; a pupil without one at B1, registered as 李小明 and
    corrected afterwards to 张小明 (the correction does not look for duplicates)."""
    first = register()
    second = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        name="李小明",
        id_type="Z",
        id_number="",
        **GUARDIAN,
    )
    assert second.duplicates == []
    services.do_update_student(second.student, {"name": "张小明"}, actor=cast.b1_registrar)
    return first.student, second.student


def pairs() -> set[tuple[int, int, str]]:
    return set(DuplicateCandidate.objects.values_list("existing_id", "newer_id", "reason"))


def test_the_scan_holds_a_pair_the_registration_could_not_see(cast, corrected):
    first, second = corrected
    result = do_scan_duplicates(actor=cast.bureau_registrar)

    assert (result.found, result.added) == (1, 1)
    assert pairs() == {(first.pk, second.pk, "name")}
    candidate = DuplicateCandidate.objects.get()
    assert candidate.state == DuplicateCandidate.State.OPEN
    event = AuditEvent.objects.get(action="duplicates.scanned")
    assert event.actor == cast.bureau_registrar
    assert event.data == {"found": 1, "added": 1, "pairs": [[first.pk, second.pk, "name"]]}
    # The bureau decides it like any held registration.
    services.do_decide_duplicate(candidate, "withdraw", actor=cast.bureau_registrar)
    assert second.records.get().status == Status.LEFT_OTHER


def test_a_second_scan_adds_nothing_and_a_decided_pair_stays_decided(cast, corrected):
    do_scan_duplicates(actor=cast.bureau_registrar)
    candidate = DuplicateCandidate.objects.get()
    services.do_decide_duplicate(candidate, "different", actor=cast.bureau_registrar)

    again = do_scan_duplicates(actor=cast.bureau_registrar)

    assert (again.found, again.added) == (1, 0)
    assert DuplicateCandidate.objects.get().state == DuplicateCandidate.State.DIFFERENT


def test_a_homophone_without_an_id_number_is_a_pinyin_pair(cast, register):
    first = register()
    second = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        name="李晓明",
        id_type="Z",
        id_number="",
        **GUARDIAN,
    )
    services.do_update_student(second.student, {"name": "张晓明"}, actor=cast.b1_registrar)
    do_scan_duplicates(actor=cast.bureau_registrar)
    assert pairs() == {(first.student.pk, second.student.pk, "pinyin")}


def test_two_different_id_numbers_are_two_people(cast, register):
    register(sequence=1)
    register(sequence=2, school=cast.school_b1, actor=cast.b1_registrar)
    result = do_scan_duplicates(actor=cast.bureau_registrar)
    assert (result.found, result.added) == (0, 0) and pairs() == set()


def test_one_id_number_under_two_document_types_is_a_pair(cast, register):
    first = register()
    second = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        name="张晓明",
        id_type="A",  # typed as a passport number
        id_number=first.student.id_number,
    )
    assert second.duplicates == []  # registration compares numbers of one type only
    do_scan_duplicates(actor=cast.bureau_registrar)
    assert pairs() == {(first.student.pk, second.student.pk, "id_number")}


def test_a_closed_record_is_no_double_registration(cast, corrected):
    first, _second = corrected
    StudentRecord.objects.filter(student=first).update(
        status=Status.GRADUATED, exit_date=datetime.date(2026, 7, 1), exit_change="21"
    )
    assert do_scan_duplicates(actor=cast.bureau_registrar).found == 0


def test_the_scan_holds_pairs_of_its_county_only(cast, register):
    """Two registrations of one person in another county are that county's to scan."""
    county, bureau = org_services.do_create_county(
        actor=None, division_code="370811", name="任城区", bureau_name="任城区教育局"
    )
    township = org_services.do_create_township(
        actor=None, bureau=bureau, name="李营街道", division_code="370811001", ordinal=1
    )
    schools = [
        org_services.do_create_school(
            actor=None,
            township=township,
            name=f"李营第{n}小学",
            school_code=f"370811000{n}",
            stage="primary",
            ordinal=n,
        )
        for n in (1, 2)
    ]
    other_bureau = org_services.do_create_user(
        actor=None,
        unit=bureau,
        username="rc-jyj",
        password="long-enough-password-1",
        role=Role.BUREAU_REGISTRAR,
        must_change_password=False,
    )
    register(school=schools[0], actor=other_bureau, name="赵小明")
    other = register(
        school=schools[1], actor=other_bureau, name="钱小明", id_type="Z", id_number="", **GUARDIAN
    )
    services.do_update_student(other.student, {"name": "赵小明"}, actor=other_bureau)

    assert do_scan_duplicates(actor=cast.bureau_registrar).found == 0
    assert do_scan_duplicates(actor=other_bureau).found == 1
    assert county.pk != cast.county.pk


def test_only_the_bureau_scans(cast, corrected):
    for user in (cast.a1_registrar, cast.central_a_registrar, cast.bureau_leader):
        with pytest.raises(PermissionDenied):
            do_scan_duplicates(actor=user)
    assert not DuplicateCandidate.objects.exists()


# --- The page, the API, the command line ----------------------------------------------------


def test_the_page_starts_the_scan_as_a_job_and_shows_its_outcome(cast, client_for, corrected):
    client = client_for(cast.bureau_registrar)
    client.cookies["django_language"] = "en"
    page = client.get("/students/duplicates/")
    assert 'action="/students/duplicates/scan/"' in page.text
    assert "The county has not been scanned yet." in page.text

    answer = client.post("/students/duplicates/scan/")
    job = Job.objects.get(kind="students.scan_duplicates")
    assert answer.status_code == 302 and answer["Location"] == f"/jobs/{job.pk}/"
    assert run_pending() == 1

    job.refresh_from_db()
    assert job.status == Job.Status.DONE and (job.progress, job.total) == (3, 3)
    assert "found 1 candidate pairs; 1 of them were new" in job.message
    page = client.get("/students/duplicates/")
    assert "1 candidate pairs, 1 new." in page.text
    assert page.text.count("张小明") >= 2


def test_schools_cannot_start_the_scan(cast, client_for):
    answer = client_for(cast.a1_registrar).post("/students/duplicates/scan/")
    assert answer.status_code == 403
    assert not Job.objects.exists()


def test_the_api_starts_the_scan_and_the_job_reports_it(cast, client_for, corrected):
    client = client_for(cast.bureau_registrar)
    answer = client.post("/api/v1/duplicates/scan", content_type="application/json")
    assert answer.status_code == 202
    job_id = answer.json()["id"]
    run_pending()
    assert client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "done"
    listed = client.get("/api/v1/duplicates").json()
    assert [(pair["existing"]["id"], pair["newer"]["id"]) for pair in listed] == [
        (corrected[0].pk, corrected[1].pk)
    ]
    refused = client_for(cast.a1_registrar).post(
        "/api/v1/duplicates/scan", content_type="application/json"
    )
    assert refused.status_code == 403


def test_the_command_scans_as_the_named_user(cast, corrected, capsys):
    call_command("scan-duplicates", "--user", cast.bureau_registrar.username)
    assert "found 1 candidate pair(s), 1 new" in capsys.readouterr().out
    call_command("scan-duplicates", "--user", cast.bureau_registrar.username)
    assert "found 1 candidate pair(s), 0 new" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("scan-duplicates", "--user", cast.a1_registrar.username)
    with pytest.raises(CommandError):
        call_command("scan-duplicates", "--user", "nobody")
