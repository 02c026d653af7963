"""C1, C2, N6: suspension and resumption, dropout, and a name change with its history."""

import datetime

import pytest

from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import Kind, State
from xueji.core.errors import RuleViolation
from xueji.students import services as student_services
from xueji.students.models import Status

from .helpers import DAY, scan, signed, with_documents


def through_session(cast, request, registrar, leader, rural_central=None):
    request = with_documents(request, registrar)
    request = signed(request, registrar, leader, printer=rural_central or registrar)
    if rural_central is not None:
        request = services.do_central_review(request, actor=rural_central, approve=True)
    request = services.do_submit(request, actor=registrar)
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    request = services.do_decide(request, actor=cast.bureau_registrar, approve=True)
    return services.do_record(request, actor=registrar)


def test_a_sick_suspension_stops_at_step_one_without_the_bills_then_completes_and_resumes(
    cast, register
):
    done = register()
    request = services.do_create_request(
        done.record, Kind.SUSPENSION, actor=cast.a1_registrar, reason="sick", effective_date=DAY
    )
    assert request.suspension_until == datetime.date(2027, 11, 30)
    for document in ("hospital_certificate", "medical_records"):
        evidence = services.do_add_evidence(request, document, scan(), actor=cast.a1_registrar)
        services.do_check_evidence(evidence, actor=cast.a1_registrar)
    with pytest.raises(RuleViolation) as refused:
        services.do_pass_documents(request, actor=cast.a1_registrar)
    assert "医疗费用单据" in refused.value.message
    bills = services.do_add_evidence(request, "medical_bills", scan(), actor=cast.a1_registrar)
    with pytest.raises(RuleViolation):  # uploaded but not yet checked against the original
        services.do_pass_documents(request, actor=cast.a1_registrar)
    services.do_check_evidence(bills, actor=cast.a1_registrar)
    request = services.do_pass_documents(request, actor=cast.a1_registrar)
    request = signed(request, cast.a1_registrar, cast.a1_leader, printer=cast.central_a_registrar)
    request = services.do_central_review(request, actor=cast.central_a_registrar, approve=True)
    request = services.do_submit(request, actor=cast.a1_registrar)
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    request = services.do_decide(request, actor=cast.bureau_registrar, approve=True)
    services.do_record(request, actor=cast.a1_registrar)
    done.record.refresh_from_db()
    assert done.record.status == Status.SUSPENDED and done.record.is_open
    resumption = services.do_create_request(
        done.record,
        Kind.RESUMPTION,
        actor=cast.a1_registrar,
        reason="recovered",
        effective_date=DAY,
    )
    assert resumption.state == State.DRAFT


def test_a_graduating_pupil_cannot_be_suspended_in_the_last_semester(cast, register):
    done = register(grade="6", birth=datetime.date(2014, 3, 1), entry_year_month="202109")
    with pytest.raises(RuleViolation) as refused:
        services.do_create_request(
            done.record,
            Kind.SUSPENSION,
            actor=cast.a1_registrar,
            reason="sick",
            effective_date=datetime.date(2027, 3, 10),
        )
    assert refused.value.field == "effective_date"


def test_a_name_change_without_a_listed_reason_is_refused(cast, register):
    done = register()
    with pytest.raises(RuleViolation) as refused:
        services.do_create_request(
            done.record,
            Kind.CORRECTION,
            actor=cast.a1_registrar,
            reason="data_error",
            effective_date=DAY,
            corrections={"name": "李小明"},
        )
    assert refused.value.field == "reason"
    with pytest.raises(RuleViolation) as refused:
        services.do_create_request(
            done.record,
            Kind.CORRECTION,
            actor=cast.a1_registrar,
            reason="rename_other",
            effective_date=DAY,
            corrections={"name": "李小明"},
        )
    assert refused.value.field == "reason_note"


def test_an_approved_name_change_keeps_the_old_name_in_the_history(cast, register):
    done = register()
    student_services.do_lock_record(done.record, actor=cast.a1_registrar)
    request = services.do_create_request(
        done.record,
        Kind.CORRECTION,
        actor=cast.a1_registrar,
        reason="divorce",
        effective_date=DAY,
        corrections={"name": "李小明"},
    )
    assert request.corrections == {"name": ["张小明", "李小明"]}
    through_session(cast, request, cast.a1_registrar, cast.a1_leader, cast.central_a_registrar)
    done.student.refresh_from_db()
    assert done.student.name == "李小明" and done.student.former_name == "张小明"
    assert done.student.pinyin_key == "lixiaoming"
    event = AuditEvent.objects.get(action="student.corrected")
    assert event.data["changes"]["name"] == ["张小明", "李小明"]


def test_a_dropout_keeps_the_record_open(cast, register):
    done = register(school=cast.school_c, actor=cast.c_registrar)
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
    request = services.do_create_request(
        done.record, Kind.DROPOUT, actor=cast.c_registrar, reason="dropout", effective_date=DAY
    )
    through_session(cast, request, cast.c_registrar, leader)
    done.record.refresh_from_db()
    assert done.record.status == Status.DROPPED_OUT and done.record.is_open
