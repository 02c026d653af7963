"""C6: two bureau users deciding one request at the same moment produce exactly one
decision (PostgreSQL, real parallel connections)."""

import threading

import pytest
from django.db import connection, connections

from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import ChangeRequest, Kind, State
from xueji.core.errors import RuleViolation

from .helpers import DAY, signed, with_documents


def a_submitted_request(cast):
    """A county-direct school's dropout, submitted, in an open session."""
    import datetime

    from tests.students.conftest import TODAY, raw_student
    from xueji.core import services as calendar_services
    from xueji.orgs import services as org_services
    from xueji.orgs.models import Role
    from xueji.students.services import do_register_student
    from xueji.students.validation import validate_student

    year = calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    checked = validate_student(raw_student(), today=TODAY)
    done = do_register_student(
        checked.values,
        actor=cast.c_registrar,
        school=cast.school_c,
        school_year=year,
        status="enrolled",
    )
    leader = org_services.do_create_user(
        actor=None,
        unit=cast.school_c,
        username="c-leader",
        password="long-enough-password-1",
        role=Role.SCHOOL_LEADER,
        must_change_password=False,
    )
    request = services.do_create_request(
        done.record, Kind.DROPOUT, actor=cast.c_registrar, reason="dropout", effective_date=DAY
    )
    request = signed(with_documents(request, cast.c_registrar), cast.c_registrar, leader)
    request = services.do_submit(request, actor=cast.c_registrar)
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    return request


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second_approves", [True, False], ids=["both-approve", "one-refuses"])
def test_two_bureau_users_deciding_one_request_at_once_give_one_decision(second_approves):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: parallel connections on one in-memory SQLite are not real")
    from tests.conftest import CAST_PASSWORD, make_cast
    from xueji.orgs import services as org_services
    from xueji.orgs.models import Role

    cast = make_cast()
    second = org_services.do_create_user(
        actor=None,
        unit=cast.bureau,
        username="bureau-2",
        password=CAST_PASSWORD,
        role=Role.BUREAU_REGISTRAR,
        designated=False,
        must_change_password=False,
    )
    request = a_submitted_request(cast)
    barrier = threading.Barrier(2)
    decided: list[str] = []
    refused: list[RuleViolation] = []
    errors: list[BaseException] = []

    def decide(actor, approve: bool) -> None:
        try:
            # Each thread loads the request on its own connection, as two browsers would.
            mine = ChangeRequest.objects.get(pk=request.pk)
            barrier.wait()
            done = services.do_decide(mine, actor=actor, approve=approve, reason="材料不全")
            decided.append(done.state)
        except RuleViolation as error:
            refused.append(error)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(cast.bureau_registrar, True)),
        threading.Thread(target=decide, args=(second, second_approves)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(decided) == 1 and len(refused) == 1
    request.refresh_from_db()
    assert request.state == decided[0] and request.state in (State.APPROVED, State.REFUSED)
    events = AuditEvent.objects.filter(
        action__in=["change.approved", "change.refused"], target_id=str(request.pk)
    )
    assert events.count() == 1
    assert request.steps.filter(action__in=["approved", "refused"]).count() == 1
