"""N5: a submitted record's reported fields are locked; a reviewer's return reopens it
only with a reason. The pages and the API are tested in their own files."""

import pytest
from django.core.exceptions import PermissionDenied

from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.students import services
from xueji.students.validation import validate_student

from .conftest import TODAY


def edit(student, actor, **raw):
    checked = validate_student(raw, today=TODAY, partial=True)
    assert checked.ok, [p.message for p in checked.errors]
    return services.do_update_student(student, checked.values, actor=actor)


def test_a_locked_records_reported_fields_cannot_change(cast, register):
    done = register()
    services.do_lock_record(done.record, actor=cast.a1_registrar)
    for field, value in [("name", "张晓明"), ("ethnicity", "03"), ("birth_date", "2019-03-16")]:
        with pytest.raises(RuleViolation) as refused:
            edit(done.student, cast.a1_registrar, **{field: value})
        assert refused.value.field == field
    with pytest.raises(RuleViolation):
        edit(done.student, cast.bureau_registrar, **{"family1.name": "张国庆"})
    done.student.refresh_from_db()
    assert done.student.name == "张小明"


def test_fields_that_are_not_reported_stay_editable_after_the_lock(cast, register):
    done = register()
    services.do_lock_record(done.record, actor=cast.a1_registrar)
    edit(done.student, cast.a1_registrar, phone="13953700000", current_address="金乡县胡集镇李庄村")
    done.student.refresh_from_db()
    assert done.student.phone == "13953700000"


def test_a_return_needs_a_reason_and_reopens_the_record(cast, register):
    done = register()
    services.do_lock_record(done.record, actor=cast.a1_registrar)
    with pytest.raises(RuleViolation) as refused:
        services.do_reopen_record(done.record, "  ", actor=cast.central_a_registrar)
    assert refused.value.field == "reason"
    reason = "户口本上姓名为'张晓明'，与录入'张小明'不一致"
    services.do_reopen_record(done.record, reason, actor=cast.central_a_registrar)
    event = AuditEvent.objects.get(action="record.reopened")
    assert event.data["reason"] == reason and event.actor == cast.central_a_registrar
    edit(done.student, cast.a1_registrar, name="张晓明")


def test_only_a_unit_that_sees_the_school_may_return_a_record(cast, register):
    done = register()
    services.do_lock_record(done.record, actor=cast.a1_registrar)
    with pytest.raises(PermissionDenied):
        services.do_reopen_record(done.record, "wrong school", actor=cast.central_b_registrar)


def test_the_photo_of_a_locked_record_cannot_be_replaced(cast, register):
    from xueji.students.photo_services import do_set_photo

    done = register()
    services.do_lock_record(done.record, actor=cast.a1_registrar)
    with pytest.raises(RuleViolation) as refused:
        do_set_photo(done.student, b"not even an image", actor=cast.a1_registrar)
    assert refused.value.field == "photo"


def test_there_is_no_admin_site_to_go_around_the_lock(client, cast):
    client.force_login(cast.bureau_registrar)
    assert client.get("/admin/").status_code == 404


def test_enrolment_items_lock_but_grade_and_class_stay_the_schools_to_change(cast, register):
    done = register()
    services.do_lock_record(done.record, actor=cast.a1_registrar)
    with pytest.raises(RuleViolation) as refused:
        edit(done.student, cast.a1_registrar, entry_year_month="202509")
    assert refused.value.field == "entry_year_month"
    edit(done.student, cast.a1_registrar, class_name="2")
    assert done.record.placements.get().class_name == "2"
    assert AuditEvent.objects.filter(action="record.placed").exists()


def test_a_school_cannot_return_its_own_record_nor_a_central_school_its_own_pupils(cast, register):
    done = register()
    services.do_lock_record(done.record, actor=cast.a1_registrar)
    with pytest.raises(PermissionDenied):
        services.do_reopen_record(done.record, "my own mistake", actor=cast.a1_registrar)
    own = register(school=cast.central_a, actor=cast.central_a_registrar, sequence=7)
    services.do_lock_record(own.record, actor=cast.central_a_registrar)
    with pytest.raises(PermissionDenied):
        services.do_reopen_record(own.record, "own pupils", actor=cast.central_a_registrar)
    services.do_reopen_record(own.record, "bureau returns it", actor=cast.bureau_registrar)
