"""Issue 8, nothing lost: a failure in the middle of an import, an approval session or a
year-end run leaves the data exactly as it was (B2, C6, B6; the year's end).

Every row of every table (the audit chain and its head included) is read before; the
operation runs in a real transaction (transactional_db: the service's own transaction is
the outermost one, as in production) and a failure is injected at the k-th write through
one of two real seams, neither of them our own code:

- a database trigger that raises on the k-th row inserted into a table (PostgreSQL:
  PL/pgSQL; SQLite: RAISE(ABORT)), so the failure comes from the database itself, in the
  middle of a bulk insert;
- Django's `connection.execute_wrapper`, which fails the k-th INSERT statement into a
  table as a lost connection or a full disk would (OperationalError).

Afterwards every row of every table is read again and must equal what was read before.
"""

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.db import DatabaseError, OperationalError, connection

from tests.changes.helpers import DAY, signed, with_documents
from tests.students.conftest import TODAY, raw_student
from xueji.changes import services as change_services
from xueji.changes.models import Kind, RequestStep, State
from xueji.core import services as calendar_services
from xueji.core.errors import RuleViolation
from xueji.exchange.services import import_students
from xueji.intake import services as intake_services
from xueji.students.models import Placement, Student, StudentRecord
from xueji.students.services import do_register_student
from xueji.students.validation import validate_student

pytestmark = pytest.mark.django_db(transaction=True)

COUNTER = "xueji_test_failure_counter"
TRIGGER = "xueji_test_failure"


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table Xueji's models (and Django's auth) keep."""
    rows = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        rows[model._meta.label] = list(model._base_manager.order_by("pk").values())
    return rows


def assert_unchanged(before: dict[str, list[dict]]) -> None:
    after = snapshot()
    changed = [label for label in before if before[label] != after[label]]
    assert changed == [], f"tables changed by a failed operation: {changed}"


# --- The seams -------------------------------------------------------------------------------


@contextmanager
def trigger_failing_at_row(table: str, k: int) -> Iterator[None]:
    """The database raises when the k-th row is inserted into `table`."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {COUNTER} (n integer NOT NULL)")
        cursor.execute(f"INSERT INTO {COUNTER} (n) VALUES (0)")
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    UPDATE {COUNTER} SET n = n + 1;
                    IF (SELECT n FROM {COUNTER}) >= TG_ARGV[0]::integer THEN
                        RAISE EXCEPTION 'injected failure at row %', TG_ARGV[0];
                    END IF;
                    RETURN NEW;
                END $$"""
            )
            cursor.execute(
                f"CREATE TRIGGER {TRIGGER} BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}('{k}')"
            )
        else:
            cursor.execute(
                f"""
                CREATE TRIGGER {TRIGGER} BEFORE INSERT ON {table}
                BEGIN
                    UPDATE {COUNTER} SET n = n + 1;
                    SELECT RAISE(ABORT, 'injected failure')
                    WHERE (SELECT n FROM {COUNTER}) >= {k};
                END"""
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
            cursor.execute(f"DROP TABLE IF EXISTS {COUNTER}")


@contextmanager
def statement_failing_at(table: str, k: int) -> Iterator[None]:
    """Django's execute_wrapper fails the k-th statement writing into `table`: an INSERT,
    or the COPY the import's fast path sends on PostgreSQL."""
    seen = 0

    def wrapper(execute, sql, params, many, context):
        nonlocal seen
        if sql.lstrip().upper().startswith(("INSERT", "COPY")) and f'"{table}"' in sql:
            seen += 1
            if seen >= k:
                raise OperationalError("injected failure: the disk is full")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


SEAMS: dict[str, Callable] = {"trigger": trigger_failing_at_row, "statement": statement_failing_at}
# What a failed operation may raise: the database's error, or the refusal a service makes
# of an integrity error (SQLite's trigger raises one).
FAILURES = (DatabaseError, RuleViolation)


def table(model) -> str:
    return model._meta.db_table


# --- A county to work in ---------------------------------------------------------------------


@pytest.fixture
def county(transactional_db, settings, tmp_path):
    from tests.conftest import make_cast

    settings.MEDIA_ROOT = tmp_path
    cast = make_cast()
    cast.year = calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    return cast


def register(cast, sequence: int, **overrides):
    school = overrides.pop("school", cast.school_a1)
    actor = overrides.pop("actor", cast.a1_registrar)
    checked = validate_student(raw_student(sequence=sequence, **overrides), today=TODAY)
    assert checked.ok, [p.message for p in checked.errors]
    return do_register_student(
        checked.values, actor=actor, school=school, school_year=cast.year, status="enrolled"
    )


# --- An import -------------------------------------------------------------------------------


def workbook(count: int) -> bytes:
    from tests.exchange.helpers import workbook_bytes

    names = "明红刚强丽华军芳"
    return workbook_bytes(
        [
            raw_student(sequence=n, name=f"张小{names[n % 8]}{names[n // 8 % 8]}")
            for n in range(1, count + 1)
        ]
    )


@pytest.mark.parametrize(
    "seam, model, k",
    [
        ("trigger", Student, 17),  # in the middle of the bulk insert of the people
        ("trigger", StudentRecord, 30),  # the last record
        ("trigger", Placement, 1),
        ("statement", RequestStep, 1),  # never reached: the import writes no step
        ("statement", Student, 1),
    ],
    ids=["person-17", "record-30", "placement-1", "unrelated-table", "people-statement"],
)
def test_a_failure_in_the_middle_of_an_import_leaves_everything_as_it_was(county, seam, model, k):
    data = workbook(30)
    before = snapshot()
    with SEAMS[seam](table(model), k):
        try:
            report = import_students(
                data,
                "students.xlsx",
                actor=county.a1_registrar,
                school=county.school_a1,
                school_year=county.year,
            )
        except FAILURES:
            report = None
    if model is RequestStep:
        # The control: the seam was never hit, so the import went through.
        assert report is not None and report.imported == 30
        return
    assert report is None
    assert_unchanged(before)


def test_the_same_import_without_a_failure_writes_everything(county):
    report = import_students(
        workbook(30),
        "students.xlsx",
        actor=county.a1_registrar,
        school=county.school_a1,
        school_year=county.year,
    )
    assert report.imported == 30 and Student.objects.count() == 30


# --- An approval session ---------------------------------------------------------------------


def submitted_requests(cast, count: int):
    """`count` dropouts of the county-direct school, submitted, in an open session."""
    from xueji.orgs import services as org_services
    from xueji.orgs.models import Role

    leader = org_services.do_create_user(
        actor=None,
        unit=cast.school_c,
        username="c-leader",
        password="long-enough-password-1",
        role=Role.SCHOOL_LEADER,
        must_change_password=False,
    )
    requests = []
    for sequence in range(1, count + 1):
        done = register(
            cast,
            sequence,
            name=f"王小{'一二三四五六七八'[sequence]}",
            school=cast.school_c,
            actor=cast.c_registrar,
        )
        request = change_services.do_create_request(
            done.record,
            Kind.DROPOUT,
            actor=cast.c_registrar,
            reason="dropout",
            effective_date=DAY,
        )
        request = signed(with_documents(request, cast.c_registrar), cast.c_registrar, leader)
        requests.append(change_services.do_submit(request, actor=cast.c_registrar))
    change_services.do_open_session(cast.county, actor=cast.bureau_registrar)
    return requests


@pytest.mark.parametrize(
    "seam, model, k",
    [
        ("trigger", RequestStep, 3),  # the third decision's step
        ("trigger", "audit.AuditEvent", 4),  # the last decision's audit event
        # After every request was updated: the first statement writing steps (one per
        # decision, or one for the whole selection: the seam holds either way).
        ("statement", RequestStep, 1),
    ],
    ids=["third-step", "last-event", "steps-statement"],
)
def test_a_failure_in_an_approval_session_leaves_every_request_as_it_was(county, seam, model, k):
    requests = submitted_requests(county, 4)
    model = apps.get_model(model) if isinstance(model, str) else model
    before = snapshot()
    with SEAMS[seam](table(model), k), pytest.raises(FAILURES):
        change_services.do_approve_many(requests, actor=county.bureau_registrar)
    assert_unchanged(before)
    assert {r.state for r in type(requests[0]).objects.all()} == {State.SUBMITTED}
    # And the session goes on once the failure is gone.
    assert change_services.do_approve_many(requests, actor=county.bureau_registrar) == 4


# --- The year's end --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seam, model, k",
    [
        ("trigger", Placement, 5),  # in the middle of the promotions
        ("trigger", "audit.AuditEvent", 1),  # after promotions and graduations, at the event
        ("statement", Placement, 1),
    ],
    ids=["fifth-promotion", "the-event", "placement-statement"],
)
def test_a_failure_in_the_year_end_run_promotes_and_graduates_nobody(county, seam, model, k):
    for sequence in range(1, 9):
        register(
            county,
            sequence,
            name=f"李小{'一二三四五六七八'[sequence - 1]}",
            grade=str(1 + sequence % 5),
        )
    for sequence in range(9, 12):
        register(
            county,
            sequence,
            name=f"赵小{'一二三'[sequence - 9]}",
            grade="6",
            birth=datetime.date(2014, 3, 1),
            entry_year_month="202109",
        )
    next_year = calendar_services.do_save_school_year(
        actor=None,
        county=county.county,
        start_year=2027,
        autumn_start=datetime.date(2027, 9, 1),
        spring_start=datetime.date(2028, 2, 21),
    )
    model = apps.get_model(model) if isinstance(model, str) else model
    before = snapshot()
    with SEAMS[seam](table(model), k), pytest.raises(FAILURES):
        intake_services.do_year_end(
            county.county, county.year, next_year, actor=county.bureau_registrar
        )
    assert_unchanged(before)
    counts = intake_services.do_year_end(
        county.county, county.year, next_year, actor=county.bureau_registrar
    )
    assert counts == {"promoted": 8, "graduated": 3, "blocked": 0}
