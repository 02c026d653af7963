"""N1-N5: a rural primary pupil from entry to an accepted record through the school, the
central school and the bureau; a county-direct pupil reviewed by the bureau."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from PIL import Image

from tests.students.conftest import TODAY, raw_student
from xueji.core.calendar import deadlines_of
from xueji.core.errors import RuleViolation
from xueji.intake import services
from xueji.intake.models import Catchment, EntryState, ExceptionKind
from xueji.students.models import Status
from xueji.students.validation import validate_student


def photo() -> bytes:
    image = Image.new("RGB", (358, 441), (170, 205, 235))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def enter(cast, school_year, school=None, actor=None, **overrides):
    values = validate_student(raw_student(**overrides), today=TODAY).values
    return services.do_enter_pupil(
        values,
        actor=actor or cast.a1_registrar,
        school=school or cast.school_a1,
        school_year=school_year,
    )


def test_a_rural_pupil_goes_from_entry_to_an_accepted_record(cast, school_year):
    entry = enter(cast, school_year)
    assert entry.state == EntryState.ENTERED and entry.eligibility_problems == []
    services.do_send_for_review([entry], actor=cast.a1_registrar)
    services.do_review([entry], actor=cast.central_a_registrar, admit=True)
    services.do_collect_photo(entry, photo(), actor=cast.central_a_registrar)
    services.do_number([entry], actor=cast.central_a_registrar)
    entry.refresh_from_db()
    entry.record.refresh_from_db()
    assert entry.state == EntryState.NUMBERED and entry.record.provincial_number
    services.do_submit([entry], actor=cast.a1_registrar)
    entry.record.refresh_from_db()
    assert entry.record.is_locked
    with pytest.raises(RuleViolation):  # rural: the central school forwards first
        services.do_accept([entry], actor=cast.bureau_registrar)
    services.do_forward([entry], actor=cast.central_a_registrar)
    services.do_accept([entry], actor=cast.bureau_registrar)
    entry.refresh_from_db()
    entry.record.refresh_from_db()
    assert entry.state == EntryState.ACCEPTED and entry.record.status == Status.ENROLLED


def test_a_county_direct_pupil_is_reviewed_by_the_bureau(cast, school_year):
    entry = enter(cast, school_year, school=cast.school_c, actor=cast.c_registrar)
    services.do_send_for_review([entry], actor=cast.c_registrar)
    with pytest.raises(PermissionDenied):
        services.do_review([entry], actor=cast.central_a_registrar, admit=True)
    services.do_review([entry], actor=cast.bureau_registrar, admit=True)
    services.do_number([entry], actor=cast.bureau_registrar)
    services.do_submit([entry], actor=cast.c_registrar)
    services.do_accept([entry], actor=cast.bureau_registrar)
    entry.refresh_from_db()
    assert entry.state == EntryState.ACCEPTED


def test_a_five_year_old_is_admitted_only_as_a_recorded_exception(cast, school_year):
    entry = enter(cast, school_year, birth=datetime.date(2021, 10, 1))
    assert (
        "Entry age" in entry.eligibility_problems[0] or "入学年龄" in entry.eligibility_problems[0]
    )
    services.do_send_for_review([entry], actor=cast.a1_registrar)
    with pytest.raises(RuleViolation):
        services.do_review([entry], actor=cast.central_a_registrar, admit=True)
    services.do_record_exception(
        entry, ExceptionKind.DEFERRAL, "去年因病缓学，有医院证明", actor=cast.a1_registrar
    )
    services.do_review([entry], actor=cast.central_a_registrar, admit=True)


def test_a_pupil_outside_the_catchment_is_flagged(cast, school_year):
    Catchment.objects.create(school=cast.school_a1, division_code="370828102001")
    entry = enter(cast, school_year, hukou_code="370828101003")
    assert entry.eligibility_problems


def test_a_returned_pupil_carries_the_reason_and_comes_back_for_review(cast, school_year):
    entry = enter(cast, school_year)
    services.do_send_for_review([entry], actor=cast.a1_registrar)
    reason = "户口本上姓名为'张梓萱'，与录入'张子萱'不一致"
    with pytest.raises(RuleViolation):
        services.do_review([entry], actor=cast.central_a_registrar, admit=False)
    services.do_review([entry], actor=cast.central_a_registrar, admit=False, reason=reason)
    entry.refresh_from_db()
    assert entry.state == EntryState.RETURNED and entry.returned_reason == reason
    services.do_send_for_review([entry], actor=cast.a1_registrar)


def test_a_returned_submission_reopens_the_record(cast, school_year):
    entry = enter(cast, school_year)
    services.do_send_for_review([entry], actor=cast.a1_registrar)
    services.do_review([entry], actor=cast.central_a_registrar, admit=True)
    services.do_number([entry], actor=cast.central_a_registrar)
    services.do_submit([entry], actor=cast.a1_registrar)
    services.do_return_submitted([entry], "照片与本人不符", actor=cast.central_a_registrar)
    entry.refresh_from_db()
    entry.record.refresh_from_db()
    assert entry.state == EntryState.NUMBERED and not entry.record.is_locked


def test_the_review_deadline_is_done_once_every_pupil_is_reviewed(cast, school_year):
    entry = enter(cast, school_year)
    on = datetime.date(2026, 10, 1)

    def review_status():
        return next(
            s for s in deadlines_of(cast.central_a, on) if s.deadline.key == "primary_review"
        )

    assert review_status().overdue
    services.do_send_for_review([entry], actor=cast.a1_registrar)
    services.do_review([entry], actor=cast.central_a_registrar, admit=True)
    assert review_status().done and not review_status().overdue


def test_a_pupil_the_school_does_not_admit_ends_and_leaves_no_open_record(
    cast, school_year, client_for
):
    entry = enter(cast, school_year, birth=datetime.date(2021, 10, 1))
    client = client_for(cast.a1_registrar)
    client.post(f"/intake/entries/{entry.pk}/not-admit/", {"reason": ""})
    entry.refresh_from_db()
    assert entry.state == EntryState.ENTERED
    client.post(f"/intake/entries/{entry.pk}/not-admit/", {"reason": "未满六周岁，明年再入学"})
    entry.refresh_from_db()
    entry.record.refresh_from_db()
    assert entry.state == EntryState.WITHDRAWN
    assert entry.record.status == Status.LEFT_OTHER and not entry.record.is_open
    assert (
        client_for(cast.b1_registrar)
        .post(f"/intake/entries/{entry.pk}/not-admit/", {"reason": "x"})
        .status_code
        == 404
    )
