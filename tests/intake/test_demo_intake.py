"""The demo county's intake: pupils in every state where the scenarios put them, a junior
intake in progress, idempotent, and all in the audit chain.

Each test loads the county with a small student target (a few seconds), so the file keeps
to a few tests that each check several facts of the one demo."""

import pytest

from xueji.audit.services import verify_chain
from xueji.core.demo import load_demo_county
from xueji.intake.demo_intake import DEFERRAL_NOTE, RETURN_REASON, load_demo_intake
from xueji.intake.models import EntryState, ExceptionKind, IntakeEntry, JuniorCandidate
from xueji.students.models import Status

STUDENTS = 600


@pytest.fixture
def loaded(db):
    return load_demo_county(students=STUDENTS)


def test_the_demo_holds_pupils_in_every_state_but_withdrawn(loaded):
    entries = IntakeEntry.objects.all()
    assert loaded.created_intake == entries.count() + JuniorCandidate.objects.count()
    states = set(entries.values_list("state", flat=True))
    assert states == set(EntryState.values)
    returned = entries.get(state=EntryState.RETURNED)
    assert returned.returned_reason == RETURN_REASON
    assert returned.record.student.name == "张子萱"
    assert returned.school.name == "胡集镇第三小学"


def test_one_five_year_old_is_a_documented_exception_and_the_other_not_admitted(loaded):
    too_young = IntakeEntry.objects.exclude(eligibility_problems=[])
    assert too_young.count() == 2
    admitted = too_young.get(state=EntryState.ADMITTED)
    assert admitted.exception_kind == ExceptionKind.DEFERRAL
    assert admitted.exception_note == DEFERRAL_NOTE
    refused = too_young.get(state=EntryState.WITHDRAWN)
    assert refused.exception_kind == "" and not refused.record.is_open


def test_the_rural_and_county_direct_pupils_go_their_ways(loaded):
    rural = IntakeEntry.objects.filter(school__name="胡集镇第三小学")
    assert rural.count() == 12
    forwarded = rural.get(state=EntryState.FORWARDED)
    assert forwarded.record.is_locked and forwarded.record.student.photo
    twins = rural.filter(state=EntryState.NUMBERED)
    assert twins.count() == 2
    assert len({entry.record.student.birth_date for entry in twins}) == 1
    assert all(entry.record.provincial_number for entry in twins)
    direct = IntakeEntry.objects.filter(school__name="金乡县实验小学")
    assert set(direct.values_list("state", flat=True)) == {
        EntryState.NUMBERED,
        EntryState.SUBMITTED,
        EntryState.ACCEPTED,
    }
    for entry in direct.filter(state=EntryState.ACCEPTED):
        assert entry.record.status == Status.ENROLLED and entry.reviewed_by.username == "jyj"


def test_the_junior_intake_is_in_progress(loaded):
    candidates = JuniorCandidate.objects.filter(school__name="金乡县第二中学")
    problems = list(candidates.values_list("problem", flat=True))
    assert JuniorCandidate.Problem.OPEN_ELSEWHERE in problems
    assert problems.count(JuniorCandidate.Problem.NOT_FOUND) == 1
    assert not candidates.filter(junior_record__isnull=False).exists()  # for the bureau
    still_open = candidates.filter(problem=JuniorCandidate.Problem.OPEN_ELSEWHERE)
    assert all(c.primary_record.status == Status.ENROLLED for c in still_open)


def test_loading_again_adds_nothing_and_the_audit_chain_verifies(loaded):
    counts = (IntakeEntry.objects.count(), JuniorCandidate.objects.count())
    assert load_demo_intake() == 0
    assert load_demo_county(students=STUDENTS).created_intake == 0
    assert (IntakeEntry.objects.count(), JuniorCandidate.objects.count()) == counts
    result = verify_chain()
    assert result.ok, result
