"""Issue 8, nothing lost: on PostgreSQL, with real parallel connections (N3, C6, N11, B6).

Each worker is a thread with its own database connection, released at the same instant by
a barrier, as browsers and scripts hitting one server would be:

- 8 workers assigning numbers at once give no duplicate (through do_assign_numbers, the
  service the intake and the API call; tests/students/test_numbers.py proves the same of
  next_sequence itself);
- two bureau users deciding one request give one decision (both approving, or one
  approving while the other approves a batch with it: do_decide against do_approve_many;
  tests/changes/test_concurrent_decisions.py races two do_decide calls);
- two schools registering one person give one open record
  (tests/students/test_registration.py races the same by ID number; here also a person
  without one, matched on name, sex and birth date, who must be held, not doubled);
- the audit chain stays linear: after every race, and after all of them at once, every
  event follows the one before it with no gap and no fork (verify_chain), which
  tests/audit/test_audit_chain.py proves for bare record_event calls.

On SQLite the tests skip, visibly: parallel connections to one in-memory database are not
real (CI runs this file on PostgreSQL).
"""

import datetime
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from tests.changes.test_concurrent_decisions import a_submitted_request
from tests.students.conftest import TODAY, raw_student
from xueji.audit.models import AuditEvent
from xueji.audit.services import verify_chain
from xueji.changes import services as change_services
from xueji.changes.models import ChangeRequest, State
from xueji.core import services as calendar_services
from xueji.core.errors import RuleViolation
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.students.models import NumberKind, StudentNumber, StudentRecord
from xueji.students.services import do_assign_numbers, do_register_student
from xueji.students.validation import validate_student

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def county(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: parallel connections on one in-memory SQLite are not real")
    from tests.conftest import make_cast

    cast = make_cast()
    cast.year = calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    return cast


def race(*work: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    """Run each callable in its own thread (its own connection), all released together.
    Returns what they returned (RuleViolation counts as an answer) and what crashed."""
    barrier = threading.Barrier(len(work))
    answers: list[object] = []
    crashes: list[BaseException] = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait()
            answer = call()
        except RuleViolation as refused:
            answer = refused
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            with lock:
                crashes.append(error)
            return
        finally:
            connections.close_all()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run, args=(call,)) for call in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, crashes


def assert_chain_linear() -> None:
    result = verify_chain()
    assert result.ok, result.message
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def registered(cast, sequence: int, **overrides):
    checked = validate_student(raw_student(sequence=sequence, **overrides), today=TODAY)
    assert checked.ok, [p.message for p in checked.errors]
    return do_register_student(
        checked.values,
        actor=overrides.get("actor", cast.a1_registrar),
        school=cast.school_a1,
        school_year=cast.year,
    )


NAMES = "明红刚强丽华军芳"


def test_eight_workers_assigning_numbers_at_once_give_no_duplicate(county):
    records = [
        registered(county, n, name=f"张{NAMES[n % 8]}{NAMES[n // 8 % 8]}").record
        for n in range(1, 25)
    ]
    per_worker = [records[start::8] for start in range(8)]

    def assign(mine):
        return [
            do_assign_numbers(record, actor=county.central_a_registrar).provincial_number
            for record in mine
        ]

    answers, crashes = race(*[lambda mine=mine: assign(mine) for mine in per_worker])
    assert crashes == []
    given = [number for answer in answers for number in answer]
    assert len(given) == 24 and len(set(given)) == 24
    # Consecutive under one prefix: no number lost, none given twice.
    sequences = sorted(int(number[-4:]) for number in given)
    assert sequences == list(range(1, 25))
    national = StudentNumber.objects.filter(kind=NumberKind.NATIONAL, retired_at__isnull=True)
    assert national.count() == 24 and national.values("value").distinct().count() == 24
    assert_chain_linear()


@pytest.mark.parametrize("second", ["decide", "approve_many"])
def test_two_decisions_on_one_request_give_one(county, second):
    other = org_services.do_create_user(
        actor=None,
        unit=county.bureau,
        username="bureau-2",
        password="long-enough-password-1",
        role=Role.BUREAU_REGISTRAR,
        designated=False,
        must_change_password=False,
    )
    request = a_submitted_request(county)

    def first():
        return change_services.do_decide(
            ChangeRequest.objects.get(pk=request.pk), actor=county.bureau_registrar, approve=True
        )

    def then():
        mine = ChangeRequest.objects.get(pk=request.pk)
        if second == "decide":
            return change_services.do_decide(mine, actor=other, approve=False, reason="材料不全")
        return change_services.do_approve_many([mine], actor=other)

    answers, crashes = race(first, then)
    assert crashes == []
    refused = [answer for answer in answers if isinstance(answer, RuleViolation)]
    assert len(refused) == 1
    request.refresh_from_db()
    assert request.state in (State.APPROVED, State.REFUSED)
    decided = request.steps.filter(action__in=["approved", "refused"])
    assert decided.count() == 1
    events = AuditEvent.objects.filter(
        action__in=["change.approved", "change.refused"], target_id=str(request.pk)
    )
    assert events.count() == 1
    assert_chain_linear()


@pytest.mark.parametrize("identity", ["id_number", "name_sex_birth"])
def test_two_registrations_of_one_person_give_one_open_record(county, identity):
    overrides = {} if identity == "id_number" else {"id_type": "Z", "id_number": ""}
    values = validate_student(raw_student(**overrides), today=TODAY).values

    def at(school, actor):
        return lambda: do_register_student(
            values, actor=actor, school=school, school_year=county.year
        )

    answers, crashes = race(
        at(county.school_a1, county.a1_registrar), at(county.school_b1, county.b1_registrar)
    )
    assert crashes == []
    if identity == "id_number":
        # One registered; the other refused, naming the school that holds the person.
        assert StudentRecord.objects.count() == 1
        assert sum(isinstance(answer, RuleViolation) for answer in answers) == 1
    else:
        # Without an ID number the second is a candidate double registration: held for the
        # bureau, never silently a second open record of an unheld person.
        from xueji.students.models import DuplicateCandidate

        records = StudentRecord.objects.count()
        held = DuplicateCandidate.objects.count()
        assert records == 1 or held >= 1, (records, held)
    assert_chain_linear()


def test_the_audit_chain_stays_linear_under_everything_at_once(county):
    """Registrations, number assignments, decisions and plain events, in parallel."""
    # a_submitted_request registers raw_student() (sequence 1) at the county-direct school.
    request = a_submitted_request(county)
    records = [registered(county, n, name=f"李{NAMES[n]}").record for n in range(2, 6)]
    from xueji.audit.services import record_event

    work = [
        lambda r=record: do_assign_numbers(r, actor=county.central_a_registrar)
        for record in records
    ]
    work += [lambda n=n: registered(county, 10 + n, name=f"王{NAMES[n]}") for n in range(2)]
    work.append(
        lambda: change_services.do_decide(
            ChangeRequest.objects.get(pk=request.pk), actor=county.bureau_registrar, approve=True
        )
    )
    work.append(
        lambda: [record_event("test.parallel", actor=county.bureau_leader) for _ in range(10)]
    )
    answers, crashes = race(*work)
    assert crashes == []
    assert_chain_linear()
