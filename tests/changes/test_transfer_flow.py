"""C3, C4, C5, C7: a rural primary school's transfer through the five steps and both schools."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import ApprovalSession, Kind, State
from xueji.core.errors import RuleViolation
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.students import services as student_services
from xueji.students.models import Status

from .helpers import DAY, signed, with_documents


@pytest.fixture
def b1_leader(cast):
    return org_services.do_create_user(
        actor=None,
        unit=cast.school_b1,
        username="b1-leader",
        password="long-enough-password-1",
        role=Role.SCHOOL_LEADER,
        must_change_password=False,
    )


@pytest.fixture
def pupil(cast, register):
    done = register()
    student_services.do_assign_numbers(done.record, actor=cast.a1_registrar)
    done.record.refresh_from_db()
    done.student.refresh_from_db()
    return done


def start(cast, pupil, **extra):
    return services.do_create_request(
        pupil.record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_b1,
        **extra,
    )


def test_a_rural_transfer_goes_through_five_steps_and_both_schools(cast, pupil):
    request = start(cast, pupil)
    request = with_documents(request, cast.a1_registrar)
    assert request.state == State.DOCUMENTS_CHECKED
    # 胡集镇第三小学 has no printer: its central school prints the report.
    request = signed(request, cast.a1_registrar, cast.a1_leader, printer=cast.central_a_registrar)
    assert request.state == State.SIGNED
    request = services.do_central_review(
        request, actor=cast.central_a_registrar, approve=True, comment="复审无误，已盖章"
    )
    warnings = services.do_confirm_receiving(
        request, actor=cast.b1_registrar, to_grade=1, to_class="2"
    )
    assert warnings == []
    request = services.do_submit(
        request,
        actor=cast.a1_registrar,
        proxy={
            "name": "张建国",
            "id_number": "370828198001011235",
            "relation": "父亲",
            "call_note": "已电话联系教育局学籍科王老师",
        },
    )
    assert request.state == State.SUBMITTED and request.session.date.weekday() == 2
    session = services.do_open_session(cast.county, actor=cast.bureau_registrar)
    request = services.do_decide(request, actor=cast.bureau_registrar, approve=True)
    old = pupil.record
    old.refresh_from_db()
    assert old.status == Status.TRANSFERRED_OUT and old.exit_change == "27"
    new = request.new_record
    assert new.school == cast.school_b1 and new.status == Status.PENDING
    # C4: a new provincial number at the receiving school; the national number stays.
    assert (
        new.provincial_number.startswith("12628050")
        and new.provincial_number != old.provincial_number
    )
    pupil.student.refresh_from_db()
    assert pupil.student.national_number == "G" + pupil.student.id_number
    request = services.do_record(request, actor=cast.b1_registrar)
    new.refresh_from_db()
    assert request.state == State.RECORDED and new.status == Status.ENROLLED
    services.do_leader_signoff(session, actor=cast.bureau_leader)
    actions = list(
        AuditEvent.objects.filter(target_type="changes.changerequest").values_list(
            "action", flat=True
        )
    )
    for action in (
        "change.created",
        "change.documents_checked",
        "change.report_printed",
        "change.signed",
        "change.central_reviewed",
        "change.receiving_confirmed",
        "change.submitted",
        "change.approved",
        "change.recorded",
    ):
        assert action in actions


def test_a_transfer_within_one_school_district_is_refused(cast, pupil):
    with pytest.raises(RuleViolation) as refused:
        services.do_create_request(
            pupil.record,
            Kind.TRANSFER,
            actor=cast.a1_registrar,
            reason="moved",
            effective_date=DAY,
            to_school=cast.central_a,
        )
    assert refused.value.field == "to_school"


def test_no_new_transfer_between_15_july_and_14_august(cast, pupil):
    with pytest.raises(RuleViolation) as refused:
        services.do_create_request(
            pupil.record,
            Kind.TRANSFER,
            actor=cast.a1_registrar,
            reason="moved",
            effective_date=datetime.date(2026, 7, 20),
            to_school=cast.school_b1,
        )
    assert refused.value.field == "effective_date"


def test_a_pending_request_blocks_a_second_one(cast, pupil):
    start(cast, pupil)
    with pytest.raises(RuleViolation) as refused:
        start(cast, pupil)
    assert refused.value.field == "record"


def test_step_one_needs_every_document_checked(cast, pupil):
    request = start(cast, pupil)
    with pytest.raises(RuleViolation) as refused:
        services.do_pass_documents(request, actor=cast.a1_registrar)
    assert "户口迁移证" in refused.value.message


def test_evidence_is_checked_by_content_and_size(cast, pupil):
    request = start(cast, pupil)
    with pytest.raises(RuleViolation):
        services.do_add_evidence(
            request, "household_register", b"<html>not a scan</html>", actor=cast.a1_registrar
        )
    with pytest.raises(RuleViolation):
        services.do_add_evidence(
            request,
            "household_register",
            b"%PDF-" + b"0" * (3 * 1024 * 1024),
            actor=cast.a1_registrar,
        )
    with pytest.raises(RuleViolation):
        services.do_add_evidence(request, "death_certificate", b"%PDF-1.4", actor=cast.a1_registrar)


def test_submission_waits_for_the_receiving_school_and_a_proxy_needs_the_call(cast, pupil):
    request = with_documents(start(cast, pupil), cast.a1_registrar)
    request = signed(request, cast.a1_registrar, cast.a1_leader, printer=cast.central_a_registrar)
    request = services.do_central_review(request, actor=cast.central_a_registrar, approve=True)
    with pytest.raises(RuleViolation) as refused:
        services.do_submit(request, actor=cast.a1_registrar)
    assert refused.value.field == "to_school"
    services.do_confirm_receiving(request, actor=cast.b1_registrar, to_grade=1, to_class="1")
    with pytest.raises(RuleViolation) as refused:
        services.do_submit(request, actor=cast.a1_registrar, proxy={"name": "张建国"})
    assert refused.value.field.startswith("proxy_")


def test_a_refusal_needs_a_reason_and_an_approved_request_cannot_be_withdrawn(cast, pupil):
    request = with_documents(start(cast, pupil), cast.a1_registrar)
    request = signed(request, cast.a1_registrar, cast.a1_leader, printer=cast.central_a_registrar)
    request = services.do_central_review(request, actor=cast.central_a_registrar, approve=True)
    services.do_confirm_receiving(request, actor=cast.b1_registrar, to_grade=1, to_class="1")
    request = services.do_submit(request, actor=cast.a1_registrar)
    with pytest.raises(RuleViolation):
        services.do_decide(request, actor=cast.bureau_registrar, approve=True)  # session not open
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    with pytest.raises(RuleViolation) as refused:
        services.do_decide(request, actor=cast.bureau_registrar, approve=False)
    assert refused.value.field == "reason"
    request = services.do_decide(request, actor=cast.bureau_registrar, approve=True)
    with pytest.raises(RuleViolation):
        services.do_withdraw(request, actor=cast.a1_registrar, reason="changed our mind")
    with pytest.raises(RuleViolation):
        services.do_decide(request, actor=cast.bureau_registrar, approve=False, reason="again")


def test_only_the_right_units_act_on_each_step(cast, pupil):
    with pytest.raises(PermissionDenied):
        services.do_create_request(
            pupil.record,
            Kind.TRANSFER,
            actor=cast.b1_registrar,
            reason="moved",
            effective_date=DAY,
            to_school=cast.school_b1,
        )
    request = with_documents(start(cast, pupil), cast.a1_registrar)
    with pytest.raises(PermissionDenied):
        services.do_mark_report_printed(request, actor=cast.central_b_registrar)
    request = signed(request, cast.a1_registrar, cast.a1_leader, printer=cast.central_a_registrar)
    with pytest.raises(PermissionDenied):
        services.do_central_review(request, actor=cast.central_b_registrar, approve=True)
    with pytest.raises(PermissionDenied):
        services.do_open_session(cast.county, actor=cast.central_a_registrar)


def test_closing_a_session_moves_what_it_did_not_decide_to_the_next(cast, pupil):
    request = with_documents(start(cast, pupil), cast.a1_registrar)
    request = signed(request, cast.a1_registrar, cast.a1_leader, printer=cast.central_a_registrar)
    request = services.do_central_review(request, actor=cast.central_a_registrar, approve=True)
    services.do_confirm_receiving(request, actor=cast.b1_registrar, to_grade=1, to_class="1")
    request = services.do_submit(request, actor=cast.a1_registrar)
    first = request.session
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    services.do_close_session(first, actor=cast.bureau_registrar)
    request.refresh_from_db()
    assert request.session.date > first.date
    assert ApprovalSession.objects.count() == 2


def test_a_waiting_step_is_flagged_after_ten_working_days(cast, pupil):
    from django.utils import timezone

    request = start(cast, pupil)
    request.waiting_since = timezone.now() - datetime.timedelta(days=20)
    assert services.is_overdue(request)
    assert services.owed_by(request) == cast.school_a1
