"""The demo county's synthetic students: valid, in the right grades and classes, loaded
through the import's writer, idempotent."""

import random
from collections import Counter

import pytest
from django.db.models import Count

from xueji.audit.services import verify_chain
from xueji.core.demo import load_demo_county
from xueji.orgs.models import Stage, Unit
from xueji.students import demo_students
from xueji.students.demo_students import (
    CHECKED_ON,
    CLASS_CAPS,
    birth_window,
    clean_values,
    load_demo_students,
    stage_entry_year,
)
from xueji.students.identity import check_id_number
from xueji.students.models import (
    DuplicateCandidate,
    FamilyMember,
    NumberSequence,
    Placement,
    Status,
    Student,
    StudentRecord,
)
from xueji.students.services import do_assign_numbers, do_register_student
from xueji.students.validation import validate_student

TARGET = 300


@pytest.fixture
def demo(db):
    load_demo_county(students=0)
    created = load_demo_students(target=TARGET)
    return created


def test_the_loader_creates_about_the_target_and_adds_nothing_when_run_again(demo):
    assert TARGET <= demo <= TARGET + demo_students.DUPLICATE_PAIRS
    assert Student.objects.count() == demo
    counts = (Student.objects.count(), FamilyMember.objects.count(), NumberSequence.objects.count())
    assert load_demo_students(target=TARGET) == 0
    assert (
        Student.objects.count(),
        FamilyMember.objects.count(),
        NumberSequence.objects.count(),
    ) == counts
    # The county loader loads no students again (its intake loader then enters new pupils
    # of its own, intake/demo_intake.py).
    assert load_demo_county(students=TARGET).created_students == 0


def test_every_id_number_is_valid_unique_and_agrees_with_birth_date_and_sex(demo):
    numbers = []
    for student in Student.objects.exclude(id_number=""):
        result = check_id_number(
            student.id_number, birth_date=student.birth_date, sex=student.sex, today=CHECKED_ON
        )
        assert result.ok and not result.warnings, (student.id_number, result.errors)
        numbers.append(student.id_number)
    # A pupil registered twice (held for the bureau) has the same parents both times.
    held = DuplicateCandidate.objects.values("newer")
    members = list(
        FamilyMember.objects.exclude(student__in=held).values_list("id_number", flat=True)
    )
    for number in members:
        assert check_id_number(number, today=CHECKED_ON).ok
    assert len(set(numbers)) == len(numbers)
    assert len(set(members)) == len(members)
    assert Student.objects.filter(national_number="G" + numbers[0]).exists()


def test_grades_fit_the_school_stages_and_birth_and_entry_fit_the_grade(demo):
    placements = Placement.objects.select_related("record__school", "record__student")
    assert placements.count() == demo
    for placement in placements:
        record, school = placement.record, placement.record.school
        if school.stage == Stage.PRIMARY:
            assert placement.grade <= 6
        elif school.stage == Stage.JUNIOR:
            assert placement.grade >= 7
        assert record.stage == ("primary" if placement.grade <= 6 else "junior")
        assert record.entry_year_month == f"{stage_entry_year(placement.grade)}09"
        first, last = birth_window(placement.grade)
        assert first <= record.student.birth_date <= last
        assert record.status == Status.ENROLLED
        assert placement.school_year.start_year == 2026


def test_class_sizes_stay_under_the_caps(demo):
    sizes = Placement.objects.values("record__school", "grade", "class_name").annotate(
        size=Count("pk")
    )
    assert sizes
    for size in sizes:
        cap = CLASS_CAPS["primary" if size["grade"] <= 6 else "junior"]
        assert size["size"] <= cap


def test_every_student_has_two_family_members_and_a_guardian(demo):
    for student in Student.objects.prefetch_related("family"):
        family = list(student.family.all())
        assert len(family) == 2
        assert any(member.is_guardian for member in family)


def test_records_of_earlier_years_are_locked_and_this_years_intake_is_not(demo):
    for placement in Placement.objects.select_related("record"):
        record = placement.record
        if placement.grade in (1, 7):
            assert record.locked_at is None
        elif record.student.id_number:
            assert record.locked_at is not None


def test_candidate_double_registrations_wait_for_the_bureau(demo):
    candidates = DuplicateCandidate.objects.select_related("existing", "newer")
    assert candidates.exists()
    for candidate in candidates:
        assert candidate.newer.id_number == "" and candidate.newer.id_type == "Z"
        assert (candidate.existing.sex, candidate.existing.birth_date) == (
            candidate.newer.sex,
            candidate.newer.birth_date,
        )
        assert candidate.state == DuplicateCandidate.State.OPEN


def test_numbers_assigned_later_continue_after_the_demo_numbers(demo):
    last = (
        StudentRecord.objects.filter(placements__grade=1, school__stage=Stage.PRIMARY)
        .select_related("school")
        .order_by("-provincial_number")
        .first()
    )
    people = demo_students._People(random.Random(1))
    raw = demo_students._pupil(people, last.school, 1, "1", "01")
    done = do_register_student(
        clean_values(raw),
        actor=None,
        school=last.school,
        school_year=Placement.objects.get(record=last).school_year,
        status=Status.ENROLLED,
    )
    numbered = do_assign_numbers(done.record, actor=None)
    prefix, sequence = last.provincial_number[:-4], int(last.provincial_number[-4:])
    assert numbered.provincial_number == f"{prefix}{sequence + 1:04d}"


def test_generated_rows_pass_validation_as_the_loader_writes_them(db):
    load_demo_county(students=0)
    people = demo_students._People(random.Random(11))
    schools = Unit.objects.filter(kind=Unit.Kind.SCHOOL).select_related("parent")
    reasons = Counter()
    for school in schools:
        for grade in demo_students._grades(school):
            raw = demo_students._pupil(people, school, grade, "1", "01")
            checked = validate_student(raw, today=CHECKED_ON)
            assert checked.ok and not checked.warnings, [
                p.message for p in checked.errors + checked.warnings
            ]
            assert checked.values == clean_values(raw)
            reasons[grade] += 1
    assert set(reasons) == set(range(1, 10))


def test_the_audit_chain_verifies_after_loading(demo):
    assert verify_chain().ok
