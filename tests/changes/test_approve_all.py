"""C4, C6: the bureau approves a whole session's queue at once: every transfer gets its new
stay and a new number, each request its step and audit event, in one transaction, and the
session page stays usable with a thousand requests (a fixed number of queries; an
"approve all listed" form of a few fields, where a thousand ticked boxes would pass
Django's limit of 1,000 form fields)."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.students.conftest import TODAY, id_number, raw_student
from xueji.audit.models import AuditEvent
from xueji.audit.services import verify_chain
from xueji.changes import services
from xueji.changes.models import ChangeRequest, Kind, RequestStep, State
from xueji.changes.session_views import listing_digest
from xueji.core.errors import RuleViolation
from xueji.students.bulk import register_many
from xueji.students.models import NumberKind, NumberSequence, Status, StudentNumber, StudentRecord
from xueji.students.validation import validate_student

from .helpers import DAY

# The default primary template at 羊山镇第一小学 (township 05, school 02), entry year 2026.
PREFIX_B1 = "126280502"
NAMES = "明红刚强丽华军芳梅兰竹菊松柏山川海河云雨"


def pupils(cast, school_year, count: int, *, school=None, actor=None, first: int = 0):
    """`count` enrolled pupils registered at once (the import's bulk path), each with an
    ID number of their own."""
    rows = []
    for index in range(first, first + count):
        birth = datetime.date(2019, 1, 1) + datetime.timedelta(days=index // 400)
        raw = raw_student(
            birth=birth, name="王" + "".join(NAMES[index // 20**n % 20] for n in range(3))
        )
        raw["id_number"] = id_number(birth, index % 400)
        checked = validate_student(raw, today=TODAY)
        assert checked.ok, [problem.message for problem in checked.errors]
        rows.append(checked.values)
    result = register_many(
        rows,
        actor=actor or cast.a1_registrar,
        school=school or cast.school_a1,
        school_year=school_year,
        status=Status.ENROLLED,
    )
    assert result.ok
    return list(StudentRecord.objects.filter(pk__in=result.records).order_by("pk"))


def queue(cast, records, session, *, to_school=None) -> list[ChangeRequest]:
    """Transfers to another township's school, signed, confirmed and submitted to the
    session. Written straight into the table: walking a thousand requests through the
    five steps would make this test about the steps (tests/changes/test_transfer_flow.py
    walks one)."""
    now = timezone.now()
    to_school = to_school or cast.school_b1
    made = ChangeRequest.objects.bulk_create(
        [
            ChangeRequest(
                kind=Kind.TRANSFER,
                state=State.SUBMITTED,
                student_id=record.student_id,
                record=record,
                from_school_id=record.school_id,
                to_school=to_school,
                reason="moved",
                effective_date=DAY,
                to_grade=1,
                to_class="2",
                signed_scan="changes/signed/test.pdf",
                receiving_confirmed_at=now,
                session=session,
                submitted_at=now,
                waiting_since=now,
            )
            for record in records
        ]
    )
    return list(ChangeRequest.objects.filter(pk__in=[r.pk for r in made]).order_by("pk"))


@pytest.fixture
def session(cast, school_year):
    return services.do_open_session(cast.county, actor=cast.bureau_registrar)


@pytest.fixture
def english(client_for):
    def login(user):
        client = client_for(user)
        client.cookies["django_language"] = "en"
        return client

    return login


def messages_of(answer) -> str:
    return " ".join(str(message) for message in answer.context["messages"])


# --- The service -------------------------------------------------------------------------


def test_approving_many_transfers_opens_each_stay_with_consecutive_numbers(
    cast, school_year, session
):
    requests = queue(cast, pupils(cast, school_year, 30), session)
    old = {request.pk: request.record_id for request in requests}

    assert services.do_approve_many(requests, actor=cast.bureau_registrar) == 30

    for request in ChangeRequest.objects.filter(pk__in=old).select_related("new_record"):
        assert request.state == State.APPROVED and request.decided_by == cast.bureau_registrar
        before = StudentRecord.objects.get(pk=old[request.pk])
        assert (before.status, before.exit_date, before.exit_change) == (
            Status.TRANSFERRED_OUT,
            DAY,
            "27",
        )
        new = request.new_record
        assert (new.school_id, new.status, new.entry_change, new.student_id) == (
            cast.school_b1.pk,
            Status.PENDING,
            "13",
            before.student_id,
        )
        assert new.placements.get(school_year=school_year).class_name == "2"
        assert StudentNumber.objects.get(record=new, kind=NumberKind.PROVINCIAL).value == (
            new.provincial_number
        )
    # The school's numbers were taken as one block: consecutive, in the requests' order.
    given = list(
        ChangeRequest.objects.filter(pk__in=old)
        .order_by("pk")
        .values_list("new_record__provincial_number", flat=True)
    )
    assert given == [f"{PREFIX_B1}{sequence:04d}" for sequence in range(1, 31)]
    assert NumberSequence.objects.get(prefix=PREFIX_B1).last == 30
    # Each request has its own step and its own audit event, in one unbroken chain.
    assert RequestStep.objects.filter(request__in=requests, action="approved").count() == 30
    events = AuditEvent.objects.filter(action="change.approved")
    assert sorted(int(event.target_id) for event in events) == sorted(old)
    assert all(event.actor == cast.bureau_registrar for event in events)
    assert verify_chain().ok


def test_one_request_that_cannot_be_approved_refuses_the_whole_selection(
    cast, school_year, session
):
    requests = queue(cast, pupils(cast, school_year, 5), session)
    services.do_decide(requests[2], actor=cast.bureau_registrar, approve=False, reason="材料不全")
    events = AuditEvent.objects.count()

    with pytest.raises(RuleViolation) as refused:
        services.do_approve_many(requests, actor=cast.bureau_registrar)

    # The message names the student whose request stopped the selection.
    assert requests[2].student.name in refused.value.message
    states = ChangeRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list(
        "state", flat=True
    )
    assert sorted(states) == [State.REFUSED] + [State.SUBMITTED] * 4
    assert not StudentRecord.objects.filter(school=cast.school_b1).exists()
    assert not NumberSequence.objects.filter(prefix=PREFIX_B1, last__gt=0).exists()
    assert AuditEvent.objects.count() == events


def test_a_closed_session_approves_nothing(cast, school_year, session):
    requests = queue(cast, pupils(cast, school_year, 2), session)
    services.do_close_session(session, actor=cast.bureau_registrar)
    with pytest.raises(RuleViolation):
        services.do_approve_many(requests, actor=cast.bureau_registrar)
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == {State.SUBMITTED}


# --- The session page ----------------------------------------------------------------------


def _queries_of_the_page(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/approvals/").status_code == 200
    return len(queries)


def test_the_session_page_runs_the_same_queries_for_5_or_60_requests(
    cast, school_year, session, english
):
    client = english(cast.bureau_registrar)
    records = pupils(cast, school_year, 65)
    queue(cast, records[:5], session)
    _queries_of_the_page(client)  # the first request of the minute also moves the session's end
    few = _queries_of_the_page(client)
    queue(cast, records[5:], session)
    many = _queries_of_the_page(client)
    assert many == few, f"{few} queries for 5 requests, {many} for 60"


def test_approving_all_1100_listed_requests_but_the_ticked_takes_one_small_form(
    cast, school_year, session, english
):
    requests = queue(cast, pupils(cast, school_year, 1100), session)
    client = english(cast.bureau_registrar)
    page = client.get("/approvals/")
    assert len(page.context["queued"]) == 1100
    assert 'id="approve-all"' in page.content.decode()
    left_out = [requests[7].pk, requests[800].pk]

    answer = client.post(
        f"/approvals/sessions/{session.pk}/approve-all/",
        {"listed": page.context["listed"], "request": left_out},
        follow=True,
    )

    assert answer.status_code == 200
    assert "1098 requests approved." in messages_of(answer)
    states = dict(ChangeRequest.objects.values_list("pk", "state"))
    assert [states[pk] for pk in left_out] == [State.SUBMITTED, State.SUBMITTED]
    assert sum(state == State.APPROVED for state in states.values()) == 1098
    numbers = StudentRecord.objects.filter(school=cast.school_b1).values_list(
        "provincial_number", flat=True
    )
    assert len(set(numbers)) == 1098
    assert AuditEvent.objects.filter(action="change.approved").count() == 1098


def test_ticking_1100_boxes_would_pass_djangos_limit_of_form_fields(
    cast, school_year, session, english
):
    """Why "approve all listed" exists: the plain selection of a long queue is refused by
    Django (400) before any view runs."""
    requests = queue(cast, pupils(cast, school_year, 1100), session)
    answer = english(cast.bureau_registrar).post(
        f"/approvals/sessions/{session.pk}/approve-selected/",
        {"request": [request.pk for request in requests]},
    )
    assert answer.status_code == 400
    assert not ChangeRequest.objects.filter(state=State.APPROVED).exists()


def test_approve_all_refuses_when_the_queue_changed_since_the_page_was_shown(
    cast, school_year, session, english
):
    records = pupils(cast, school_year, 4)
    queue(cast, records[:3], session)
    client = english(cast.bureau_registrar)
    listed = client.get("/approvals/").context["listed"]
    # Meanwhile a school submits one more: the bureau has not seen it.
    late = queue(cast, records[3:], session)[0]

    answer = client.post(
        f"/approvals/sessions/{session.pk}/approve-all/", {"listed": listed}, follow=True
    )

    assert "the queued requests changed since the page was shown" in messages_of(answer)
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == {State.SUBMITTED}
    # Shown again, the list includes the late request and can be approved as a whole.
    page = client.get("/approvals/")
    assert late.pk in [row["request"].pk for row in page.context["queued"]]
    client.post(
        f"/approvals/sessions/{session.pk}/approve-all/", {"listed": page.context["listed"]}
    )
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == {State.APPROVED}


def test_the_page_narrowed_to_a_township_approves_only_that_township(
    cast, school_year, session, english
):
    from_a = queue(cast, pupils(cast, school_year, 3), session)
    from_b = queue(
        cast,
        pupils(cast, school_year, 2, school=cast.school_b1, actor=cast.b1_registrar, first=10),
        session,
        to_school=cast.school_a1,
    )
    client = english(cast.bureau_registrar)
    page = client.get(f"/approvals/?township={cast.township_b.pk}")
    assert [row["request"].pk for row in page.context["queued"]] == [r.pk for r in from_b]
    assert page.context["listed"] == listing_digest(r.pk for r in from_b)

    client.post(
        f"/approvals/sessions/{session.pk}/approve-all/",
        {"listed": page.context["listed"], "township": cast.township_b.pk},
    )

    states = dict(ChangeRequest.objects.values_list("pk", "state"))
    assert [states[r.pk] for r in from_b] == [State.APPROVED] * 2
    assert [states[r.pk] for r in from_a] == [State.SUBMITTED] * 3


def test_the_leader_and_schools_cannot_approve_all(cast, school_year, session, english):
    queue(cast, pupils(cast, school_year, 2), session)
    listed = english(cast.bureau_registrar).get("/approvals/").context["listed"]
    url = f"/approvals/sessions/{session.pk}/approve-all/"
    assert english(cast.a1_registrar).post(url, {"listed": listed}).status_code == 403
    # The leader reads the session and signs it off; deciding is the registrar's.
    assert english(cast.bureau_leader).post(url, {"listed": listed}).status_code == 403
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == {State.SUBMITTED}


# --- Two sessions' worth at once (PostgreSQL) ---------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_bureau_users_approving_into_one_school_at_once_never_share_a_number():
    """Each batch takes its block of numbers under the school's prefix with the row
    locked: the second waits for the first's block and takes the numbers after it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: parallel connections on one in-memory SQLite are not real")
    from tests.conftest import CAST_PASSWORD, make_cast
    from xueji.core import services as calendar_services
    from xueji.orgs import services as org_services
    from xueji.orgs.models import Role

    cast = make_cast()
    year = calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    second = org_services.do_create_user(
        actor=None,
        unit=cast.bureau,
        username="bureau-2",
        password=CAST_PASSWORD,
        role=Role.BUREAU_REGISTRAR,
        designated=False,
        must_change_password=False,
    )
    session = services.do_open_session(cast.county, actor=cast.bureau_registrar)
    requests = queue(cast, pupils(cast, year, 40), session)
    halves = [requests[0::2], requests[1::2]]
    barrier = threading.Barrier(2)
    answers: list[int] = []
    errors: list[BaseException] = []

    def approve(actor, mine) -> None:
        try:
            barrier.wait()
            answers.append(services.do_approve_many(mine, actor=actor))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=approve, args=(actor, half))
        for actor, half in zip((cast.bureau_registrar, second), halves, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and sorted(answers) == [20, 20]
    numbers = sorted(
        StudentRecord.objects.filter(school=cast.school_b1).values_list(
            "provincial_number", flat=True
        )
    )
    assert numbers == [f"{PREFIX_B1}{sequence:04d}" for sequence in range(1, 41)]
    assert verify_chain().ok
