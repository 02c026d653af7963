"""The demo county's change requests: every state, an open Wednesday session with a proxy in
its queue, a name change that keeps the former name, idempotent, and all in the audit chain.

Each test loads the county with a small student target (a few seconds), so the file keeps
to a few tests that each check several facts of the one demo."""

import pytest

from xueji.audit.services import verify_chain
from xueji.changes.demo_changes import load_demo_changes
from xueji.changes.models import ApprovalSession, ChangePlan, ChangeRequest, Kind, State
from xueji.core.demo import load_demo_county
from xueji.orgs.models import Unit
from xueji.students.models import Status

STUDENTS = 600


@pytest.fixture
def loaded(db):
    return load_demo_county(students=STUDENTS)


def test_the_demo_holds_every_state_where_the_scenarios_put_them(loaded):
    # The packages demo adds the offline unit's requests (issue 6); they came by package.
    assert loaded.created_changes == ChangeRequest.objects.filter(package_changes=None).count()
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == set(State.values)
    draft = ChangeRequest.objects.get(state=State.DRAFT)
    assert draft.kind == Kind.SUSPENSION and draft.reason == "sick"
    assert "medical_bills" not in set(draft.evidence.values_list("document", flat=True))
    signed = ChangeRequest.objects.get(state=State.SIGNED)
    assert signed.from_school.name == "鸡黍镇第一小学"
    assert signed.to_school is not None and signed.to_school.name == "金乡街道第二小学"
    approved = ChangeRequest.objects.get(state=State.APPROVED)
    assert approved.new_record is not None and approved.new_record.status == Status.PENDING
    assert ChangeRequest.objects.get(state=State.REFUSED).decision_reason
    resumption = ChangeRequest.objects.get(kind=Kind.RESUMPTION, state=State.RECORDED)
    assert resumption.record.status == Status.ENROLLED
    assert ChangeRequest.objects.filter(
        kind=Kind.TRANSFER, state=State.RECORDED, new_record__status=Status.ENROLLED
    ).exists()
    filed = set(ChangePlan.objects.values_list("unit_id", flat=True))
    units = Unit.objects.filter(kind__in=[Unit.Kind.BUREAU, Unit.Kind.SCHOOL])
    assert filed and filed < set(units.values_list("pk", flat=True))


def test_the_coming_wednesday_session_is_open_with_a_proxy_in_its_queue(loaded):
    session = ApprovalSession.objects.get()
    assert session.is_open and session.date.weekday() == 2
    queued = session.requests.filter(state=State.SUBMITTED)
    assert queued.count() >= 3 and queued.values("from_school").distinct().count() >= 3
    proxy = queued.get(proxy_name__gt="")
    assert proxy.from_school.name == "司马镇第二小学"
    father = proxy.student.family.get(position=1)
    assert (proxy.proxy_name, proxy.proxy_id_number) == (father.name, father.id_number)
    assert proxy.proxy_relation == "父亲"
    assert "电话" in proxy.proxy_call_note and proxy.proxy_call_at is not None


def test_a_recorded_name_change_keeps_the_former_name(loaded):
    request = ChangeRequest.objects.get(
        kind=Kind.CORRECTION, state=State.RECORDED, reason="divorce"
    )
    old, new = request.corrections["name"]
    request.student.refresh_from_db()
    assert old != new
    assert request.student.name == new and request.student.former_name == old


def test_loading_again_adds_nothing_and_the_audit_chain_verifies(loaded):
    counts = (ChangeRequest.objects.count(), ChangePlan.objects.count())
    assert load_demo_changes() == 0
    assert load_demo_county(students=STUDENTS).created_changes == 0
    assert (ChangeRequest.objects.count(), ChangePlan.objects.count()) == counts
    assert ApprovalSession.objects.count() == 1
    result = verify_chain()
    assert result.ok, result
