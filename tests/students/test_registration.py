"""N11: one open record per person; a person without an ID number who looks like someone
registered is held for the bureau; who created each record is traceable."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from tests.students.conftest import id_number
from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.students.models import DuplicateCandidate, Status, StudentRecord


def test_a_registration_creates_the_person_the_record_the_placement_and_the_family(cast, register):
    done = register()
    student = done.student
    assert student.name == "张小明" and student.pinyin_key == "zhangxiaoming"
    assert student.initials_key == "zxm"
    assert done.record.school == cast.school_a1 and done.record.stage == "primary"
    assert done.record.placements.get().grade == 1
    assert [m.name for m in student.family.all()] == ["张建国", "李秀英"]
    assert done.record.created_by == cast.a1_registrar
    event = AuditEvent.objects.get(action="student.registered", target_id=str(student.pk))
    assert event.actor == cast.a1_registrar


def test_a_second_registration_of_an_id_number_names_the_school_that_holds_it(cast, register):
    register()
    with pytest.raises(RuleViolation) as refused:
        register(school=cast.school_b1, actor=cast.b1_registrar)
    assert refused.value.field == "id_number"
    assert "胡集镇第三小学" in refused.value.message
    assert StudentRecord.objects.count() == 1


def test_the_database_refuses_a_second_open_record_even_without_the_service(cast, register):
    done = register()
    with pytest.raises(IntegrityError), transaction.atomic():
        StudentRecord.objects.create(
            student=done.student,
            school=cast.school_b1,
            stage="primary",
            status=Status.ENROLLED,
            entry_date=datetime.date(2026, 9, 1),
            entry_year_month="202609",
        )


def test_a_person_whose_record_closed_gets_a_new_record_on_the_same_student(cast, register):
    done = register()
    StudentRecord.objects.filter(pk=done.record.pk).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 10, 1)
    )
    again = register(school=cast.school_b1, actor=cast.b1_registrar)
    assert again.reused_student and again.student.pk == done.student.pk
    assert again.student.records.count() == 2


def test_a_person_without_id_number_matching_name_sex_and_birth_is_held(cast, register):
    first = register()
    second = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        id_type="Z",
        id_number="",
        **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)},
    )
    assert second.duplicates and second.duplicates[0].existing == first.student
    assert second.duplicates[0].state == DuplicateCandidate.State.OPEN


def test_a_homophone_name_is_held_too(cast, register):
    register(name="张子萱", sex="2")
    second = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        name="张梓萱",
        sex="2",
        id_type="Z",
        id_number="",
        **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)},
    )
    assert [d.reason for d in second.duplicates] == ["pinyin"]


def test_two_different_id_numbers_are_two_people(cast, register):
    register()
    second = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=2)
    assert second.duplicates == []


def test_a_school_cannot_register_at_another_school(cast, register):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        register(school=cast.school_b1, actor=cast.a1_registrar)
    with pytest.raises(PermissionDenied):
        register(school=cast.school_a1, actor=cast.central_a_registrar)


def test_a_grade_outside_the_schools_stage_is_refused(cast, register):
    with pytest.raises(RuleViolation) as refused:
        register(grade="7")
    assert refused.value.field == "grade"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_schools_registering_one_person_at_once_give_one_open_record():
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL with real parallel connections")
    from tests.conftest import make_cast
    from xueji.core import services as calendar_services
    from xueji.students.services import do_register_student
    from xueji.students.validation import validate_student

    from .conftest import TODAY, raw_student

    cast = make_cast()
    year = calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    values = validate_student(raw_student(), today=TODAY).values
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def register(school, actor):
        try:
            barrier.wait()
            do_register_student(values, actor=actor, school=school, school_year=year)
            outcomes.append("registered")
        except RuleViolation as refused:
            outcomes.append(refused.field or "refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=register, args=(cast.school_a1, cast.a1_registrar)),
        threading.Thread(target=register, args=(cast.school_b1, cast.b1_registrar)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["id_number", "registered"]
    assert StudentRecord.objects.count() == 1
