"""The shared cast every test uses to prove scoping.

A small county: the bureau; township A (胡集镇) with its central school A, the rural
primary school A1 (no printer) and the county-direct school C; township B (羊山镇) with
its central school B and the rural primary school B1. Each school unit has a registrar;
A1 has a leader too; the bureau has its registrar and its leader.
"""

import io
from dataclasses import dataclass, field

import pytest

CAST_PASSWORD = "cast-password-2026"


@dataclass
class Cast:
    county: object
    bureau: object
    township_a: object
    township_b: object
    central_a: object
    central_b: object
    school_a1: object
    school_b1: object
    school_c: object
    bureau_registrar: object
    bureau_leader: object
    central_a_registrar: object
    central_b_registrar: object
    a1_registrar: object
    a1_leader: object
    b1_registrar: object
    c_registrar: object


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 is the production hasher (tests/orgs/test_login.py proves it); tests that
    # create many users use a fast one so the suite stays quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_cast():
    from xueji.orgs import services
    from xueji.orgs.models import Role, Stage

    county, bureau = services.do_create_county(
        actor=None, division_code="370828", name="金乡县", bureau_name="金乡县教育局"
    )
    township_a = services.do_create_township(
        actor=None, bureau=bureau, name="胡集镇", division_code="370828102", ordinal=6
    )
    township_b = services.do_create_township(
        actor=None, bureau=bureau, name="羊山镇", division_code="370828101", ordinal=5
    )

    def school(township, name, code, **facts):
        facts.setdefault("stage", Stage.PRIMARY)
        return services.do_create_school(
            actor=None, township=township, name=name, school_code=code, **facts
        )

    central_a = school(township_a, "胡集镇中心小学", "3708280601", is_central=True, ordinal=1)
    school_a1 = school(township_a, "胡集镇第三小学", "3708280604", has_printer=False, ordinal=4)
    school_c = school(township_a, "金乡县实验小学", "3708280620", county_direct=True, ordinal=20)
    central_b = school(township_b, "羊山镇中心小学", "3708280501", is_central=True, ordinal=1)
    school_b1 = school(township_b, "羊山镇第一小学", "3708280502", ordinal=2)

    def user(unit, username, role, designated=True):
        return services.do_create_user(
            actor=None,
            unit=unit,
            username=username,
            password=CAST_PASSWORD,
            role=role,
            full_name=username,
            designated=designated,
            must_change_password=False,
        )

    return Cast(
        county=county,
        bureau=bureau,
        township_a=township_a,
        township_b=township_b,
        central_a=central_a,
        central_b=central_b,
        school_a1=school_a1,
        school_b1=school_b1,
        school_c=school_c,
        bureau_registrar=user(bureau, "bureau", Role.BUREAU_REGISTRAR),
        bureau_leader=user(bureau, "bureau-leader", Role.BUREAU_LEADER, designated=False),
        central_a_registrar=user(central_a, "central-a", Role.CENTRAL_REGISTRAR),
        central_b_registrar=user(central_b, "central-b", Role.CENTRAL_REGISTRAR),
        a1_registrar=user(school_a1, "a1", Role.SCHOOL_REGISTRAR),
        a1_leader=user(school_a1, "a1-leader", Role.SCHOOL_LEADER, designated=False),
        b1_registrar=user(school_b1, "b1", Role.SCHOOL_REGISTRAR),
        c_registrar=user(school_c, "c", Role.SCHOOL_REGISTRAR),
    )


@pytest.fixture
def cast(db) -> Cast:
    return make_cast()


@pytest.fixture
def client_for(client):
    """Log a cast member in: `client_for(cast.a1_registrar)` returns a logged-in client."""

    def login(user):
        client.force_login(user)
        return client

    return login


# --- `xueji audit verify` over everything the tests wrote (issue 8, B6) ---------------------
#
# Every test that used the database ends by running the real `xueji audit verify` command
# over the audit chain it left (and by checking the search index the database keeps),
# before pytest-django rolls the test back or flushes it: each test's data is gone
# afterwards, so this is the moment that sees all of it. A broken chain fails the test
# that broke it. A test that alters the chain on purpose says so with
# @pytest.mark.audit_tampered.

DB_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "_django_db_helper", "live_server"}
)


@dataclass
class AuditTally:
    tests: int = 0
    events: int = 0
    # Tests whose own transaction was left broken (an error caught without a savepoint):
    # the database refuses every query until the rollback, so nothing can be read.
    unreadable: list[str] = field(default_factory=list)


AUDIT_TALLY = AuditTally()


def _verify_audit_chain(item) -> None:
    from django.core.management import CommandError, call_command
    from django.db import DatabaseError, connection

    from xueji.audit.models import AuditEvent

    if connection.needs_rollback:
        AUDIT_TALLY.unreadable.append(item.nodeid)
        return
    output = io.StringIO()
    try:
        call_command("audit", "verify", stdout=output)
        events = AuditEvent.objects.count()
    except CommandError as error:
        raise AssertionError(
            f"xueji audit verify failed after {item.nodeid}: {error} "
            "(mark the test @pytest.mark.audit_tampered if it alters the chain on purpose)"
        ) from None
    except DatabaseError as error:
        # PostgreSQL: "current transaction is aborted" after an error the test caught.
        if "aborted" not in str(error):
            raise
        AUDIT_TALLY.unreadable.append(item.nodeid)
        return
    AUDIT_TALLY.tests += 1
    AUDIT_TALLY.events += events
    _verify_search_index(item)


def _verify_search_index(item) -> None:
    """The search index (students.models.SearchKey) and the placements' copies of their
    record's school and openness are kept by database triggers: whatever a test wrote, by
    whichever path, they must hold exactly what the registry calls for."""
    from django.db import connection

    from xueji.students.queries import placement_drift
    from xueji.students.search import EXPECTED_KEYS, INDEXED_KEYS, index_drift

    assert placement_drift() == 0, (
        f"after {item.nodeid}, placements disagree with their record's school or status"
    )
    missing, extra = index_drift()
    if (missing, extra) != (0, 0):
        with connection.cursor() as cursor:
            cursor.execute(f"{INDEXED_KEYS} EXCEPT {EXPECTED_KEYS}")
            examples = cursor.fetchmany(5)
        raise AssertionError(
            f"the search index drifted after {item.nodeid}: {missing} keys missing, "
            f"{extra} extra (record, school, key, open, pinyin), e.g. {examples}"
        )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "audit_tampered: the test alters the audit chain on purpose, so the chain is not "
        "verified after it",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    # Reached only when the test itself passed; its fixtures (and its data) still stand.
    uses_database = DB_FIXTURES & set(getattr(item, "funcargs", {})) or item.get_closest_marker(
        "django_db"
    )
    if uses_database and item.get_closest_marker("audit_tampered") is None:
        _verify_audit_chain(item)
    return result


def pytest_terminal_summary(terminalreporter):
    if not AUDIT_TALLY.tests and not AUDIT_TALLY.unreadable:
        return
    terminalreporter.write_line(
        f"xueji audit verify: the chains of {AUDIT_TALLY.tests} tests "
        f"({AUDIT_TALLY.events} events) are intact"
    )
    if AUDIT_TALLY.unreadable:
        terminalreporter.write_line(
            f"xueji audit verify: {len(AUDIT_TALLY.unreadable)} tests left their transaction "
            "broken, so their chain could not be read: " + ", ".join(AUDIT_TALLY.unreadable[:5])
        )


# Under pytest-xdist (`make test` runs the suite in two processes) each worker verifies the
# chains of its own tests; it hands its tally to the controller, which prints the summary.


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["audit_tally"] = {
            "tests": AUDIT_TALLY.tests,
            "events": AUDIT_TALLY.events,
            "unreadable": AUDIT_TALLY.unreadable,
        }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    tally = getattr(node, "workeroutput", {}).get("audit_tally")
    if tally:
        AUDIT_TALLY.tests += tally["tests"]
        AUDIT_TALLY.events += tally["events"]
        AUDIT_TALLY.unreadable += tally["unreadable"]
