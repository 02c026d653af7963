"""Masked ID numbers and addresses, revealed only as an audited act; the bureau's decision
on candidate double registrations (N11)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.students import rules, services
from xueji.students.models import DuplicateCandidate, Status

from .conftest import id_number


def test_masks_keep_enough_to_tell_apart_and_not_enough_to_copy():
    assert rules.mask_id_number("370828201903150013") == "370828********0013"
    assert rules.mask_address("金乡县胡集镇张庄村") == "金乡县胡****"
    assert rules.mask_id_number("") == "" and rules.mask_address("") == ""


def test_revealing_an_id_number_is_audited_with_the_actor(cast, register):
    done = register()
    values = services.do_reveal(done.student, "id_number", actor=cast.a1_registrar)
    assert values == {"id_number": done.student.id_number}
    event = AuditEvent.objects.get(action="student.revealed")
    assert event.actor == cast.a1_registrar and event.data == {"what": "id_number"}


def test_nobody_reveals_outside_their_scope_or_without_the_right(cast, register):
    done = register()
    with pytest.raises(Http404):
        services.do_reveal(done.student, "address", actor=cast.b1_registrar)
    with pytest.raises(PermissionDenied):
        services.do_reveal(done.student, "address", actor=cast.a1_leader)
    assert not AuditEvent.objects.filter(action="student.revealed").exists()


@pytest.fixture
def held_pair(cast, register):
    first = register()
    guardian = id_number(datetime.date(1980, 1, 1), 5)
    second = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        id_type="Z",
        id_number="",
        status="pending",
        **{"family1.id_number": guardian},
    )
    return first, second, second.duplicates[0]


def test_the_bureau_says_not_the_same_person(cast, held_pair):
    _first, second, candidate = held_pair
    assert services.has_open_duplicate(second.student)
    services.do_decide_duplicate(candidate, "different", actor=cast.bureau_registrar)
    candidate.refresh_from_db()
    assert candidate.state == DuplicateCandidate.State.DIFFERENT
    assert not services.has_open_duplicate(second.student)
    assert (
        AuditEvent.objects.filter(action="duplicate.decided").get().actor == cast.bureau_registrar
    )


def test_the_bureau_withdraws_the_newer_registration(cast, held_pair):
    _first, second, candidate = held_pair
    services.do_decide_duplicate(candidate, "withdraw", actor=cast.bureau_registrar)
    second.record.refresh_from_db()
    assert second.record.status == Status.LEFT_OTHER and second.record.exit_date
    with pytest.raises(RuleViolation):
        services.do_decide_duplicate(candidate, "different", actor=cast.bureau_registrar)


def test_schools_and_central_schools_cannot_decide(cast, held_pair):
    candidate = held_pair[2]
    for user in (cast.a1_registrar, cast.central_b_registrar, cast.bureau_leader):
        with pytest.raises(PermissionDenied):
            services.do_decide_duplicate(candidate, "different", actor=user)
