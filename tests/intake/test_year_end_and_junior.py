"""The year's end (promotion, graduation; blocked by pending requests; safe to repeat) and
junior intake (N7, N8): primary numbers collected, converted into junior records."""

import datetime

import pytest

from xueji.core import services as calendar_services
from xueji.intake import services
from xueji.intake.models import JuniorCandidate, JuniorDocument
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.students import services as student_services
from xueji.students.models import Status


@pytest.fixture
def next_year(cast, school_year):
    return calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2027,
        autumn_start=datetime.date(2027, 9, 1),
        spring_start=datetime.date(2028, 2, 21),
    )


def test_the_year_end_promotes_graduates_and_is_safe_to_repeat(
    cast, register, school_year, next_year
):
    first = register(sequence=1)
    sixth = register(
        sequence=2, grade="6", birth=datetime.date(2014, 3, 1), entry_year_month="202109"
    )
    counts = services.do_year_end(cast.county, school_year, next_year, actor=cast.bureau_registrar)
    assert counts == {"promoted": 1, "graduated": 1, "blocked": 0}
    assert first.record.placements.get(school_year=next_year).grade == 2
    sixth.record.refresh_from_db()
    assert sixth.record.status == Status.GRADUATED and sixth.record.exit_change == "21"
    again = services.do_year_end(cast.county, school_year, next_year, actor=cast.bureau_registrar)
    assert again == {"promoted": 0, "graduated": 0, "blocked": 0}
    assert first.record.placements.count() == 2


def test_a_pending_request_keeps_a_student_from_graduating(cast, register, school_year, next_year):
    from xueji.changes import services as change_services

    sixth = register(grade="6", birth=datetime.date(2014, 3, 1), entry_year_month="202109")
    change_services.do_create_request(
        sixth.record,
        "dropout",
        actor=cast.a1_registrar,
        reason="dropout",
        effective_date=datetime.date(2026, 11, 30),
    )
    preview = services.year_end_preview(cast.county, school_year, next_year)
    assert [p.record_id for p in preview["blocked"]] == [sixth.record.pk]
    counts = services.do_year_end(cast.county, school_year, next_year, actor=cast.bureau_registrar)
    assert counts["blocked"] == 1 and counts["graduated"] == 0


def test_a_junior_school_collects_primary_numbers_and_the_bureau_converts(
    cast, register, school_year, next_year
):
    junior = org_services.do_create_school(
        actor=None,
        township=cast.township_b,
        name="羊山镇中学",
        school_code="3708280510",
        stage="junior",
        ordinal=10,
        county_ordinal=5,
    )
    registrar = org_services.do_create_user(
        actor=None,
        unit=junior,
        username="ysz",
        password="long-enough-password-1",
        role=Role.SCHOOL_REGISTRAR,
        must_change_password=False,
    )
    sixth = register(grade="6", birth=datetime.date(2014, 3, 1), entry_year_month="202109")
    open_one = register(
        sequence=3, grade="6", birth=datetime.date(2014, 4, 1), entry_year_month="202109"
    )
    for done in (sixth, open_one):
        student_services.do_assign_numbers(done.record, actor=cast.a1_registrar)
        done.record.refresh_from_db()
    services.do_year_end(cast.county, school_year, next_year, actor=cast.bureau_registrar)
    from xueji.students.models import StudentRecord

    StudentRecord.objects.filter(pk=open_one.record.pk).update(
        status=Status.ENROLLED, exit_date=None, exit_change=""
    )
    made = services.do_collect_junior(
        junior,
        next_year,
        [
            (sixth.record.provincial_number, JuniorDocument.CERTIFICATE),
            (open_one.record.provincial_number, JuniorDocument.RECORD_CARD),
            ("1269999999999", JuniorDocument.CERTIFICATE),
        ],
        actor=registrar,
    )
    assert [c.problem for c in made] == [
        "",
        JuniorCandidate.Problem.OPEN_ELSEWHERE,
        JuniorCandidate.Problem.NOT_FOUND,
    ]
    assert services.do_convert_junior(made, actor=cast.bureau_registrar) == 1
    made[0].refresh_from_db()
    junior_record = made[0].junior_record
    assert junior_record.school == junior and junior_record.stage == "junior"
    assert junior_record.provincial_number.startswith("22728")
    assert junior_record.student == sixth.student  # person, family, photo carry over


def test_the_bureau_collects_converted_students_photos_against_their_new_numbers(
    cast, register, school_year, next_year
):
    """N9: after conversion the bureau photographs the new junior students; a ZIP named by
    the new junior numbers finds each student."""
    import io
    import zipfile

    from PIL import Image

    from xueji.students.photo_services import do_import_photo_zip

    junior = org_services.do_create_school(
        actor=None,
        township=cast.township_b,
        name="羊山镇中学",
        school_code="3708280510",
        stage="junior",
        ordinal=10,
        county_ordinal=5,
    )
    registrar = org_services.do_create_user(
        actor=None,
        unit=junior,
        username="ysz",
        password="long-enough-password-1",
        role=Role.SCHOOL_REGISTRAR,
        must_change_password=False,
    )
    sixth = register(grade="6", birth=datetime.date(2014, 3, 1), entry_year_month="202109")
    student_services.do_assign_numbers(sixth.record, actor=cast.a1_registrar)
    sixth.record.refresh_from_db()
    services.do_year_end(cast.county, school_year, next_year, actor=cast.bureau_registrar)
    made = services.do_collect_junior(
        junior,
        next_year,
        [(sixth.record.provincial_number, JuniorDocument.CERTIFICATE)],
        actor=registrar,
    )
    services.do_convert_junior(made, actor=cast.bureau_registrar)
    made[0].refresh_from_db()
    number = made[0].junior_record.provincial_number
    photo = io.BytesIO()
    Image.new("RGB", (358, 441), (170, 205, 235)).save(photo, "JPEG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(f"{number}.jpg", photo.getvalue())
    outcomes = do_import_photo_zip(archive.getvalue(), actor=cast.bureau_registrar)
    assert [(o.student_id, o.refusal) for o in outcomes] == [(sixth.student.pk, "")]
    sixth.student.refresh_from_db()
    assert sixth.student.photo
