"""Registering many students at once (the import's writer): the single path's rules in
set form, all-or-nothing by default, the good rows only on request."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from tests.students.conftest import TODAY, id_number, raw_student
from xueji.audit.models import AuditEvent
from xueji.audit.services import verify_chain
from xueji.students.bulk import register_many
from xueji.students.models import (
    DuplicateCandidate,
    FamilyMember,
    Placement,
    Status,
    Student,
    StudentNumber,
    StudentRecord,
)
from xueji.students.validation import validate_student


def values(**overrides) -> dict:
    checked = validate_student(raw_student(**overrides), today=TODAY)
    assert checked.ok, [problem.message for problem in checked.errors]
    return checked.values


def no_id(**overrides) -> dict:
    """A pupil without an ID number: type Z, with a guardian's ID number."""
    return values(
        id_type="Z",
        id_number="",
        **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)},
        **overrides,
    )


@pytest.fixture
def bulk(cast, school_year):
    def run(rows, school=None, actor=None, **options):
        options.setdefault("status", Status.ENROLLED)
        return register_many(
            rows,
            actor=actor or cast.a1_registrar,
            school=school or cast.school_a1,
            school_year=school_year,
            **options,
        )

    return run


def test_register_many_creates_students_with_records_placements_family_and_audit_events(cast, bulk):
    rows = [values(sequence=n, name=name) for n, name in enumerate(["张一", "李二", "王三"], 1)]
    rows[1]["provincial_number"] = "1262806040001"
    result = bulk(rows)
    assert result.ok and result.created == 3 and result.held == []
    students = Student.objects.filter(pk__in=result.students)
    assert sorted(students.values_list("name", flat=True)) == ["张一", "李二", "王三"]
    assert students.get(name="李二").pinyin_key == "lier"
    assert FamilyMember.objects.filter(student__in=students).count() == 6
    records = StudentRecord.objects.filter(pk__in=result.records)
    assert {(r.school_id, r.status, r.created_by_id) for r in records} == {
        (cast.school_a1.pk, Status.ENROLLED, cast.a1_registrar.pk)
    }
    assert Placement.objects.filter(record__in=records, grade=1).count() == 3
    numbered = StudentNumber.objects.get(value="1262806040001")
    assert numbered.record.provincial_number == "1262806040001"
    events = AuditEvent.objects.filter(action="student.registered")
    assert sorted(int(e.target_id) for e in events) == sorted(result.students)
    assert {e.actor_id for e in events} == {cast.a1_registrar.pk}
    summary = AuditEvent.objects.get(action="students.imported")
    assert summary.data["created"] == 3
    assert verify_chain().ok


def test_an_id_number_open_at_another_school_is_refused_naming_it_and_nothing_is_written(
    cast, bulk, register
):
    register()  # 张小明, sequence 1, at 胡集镇第三小学
    before = (Student.objects.count(), StudentRecord.objects.count(), AuditEvent.objects.count())
    with translation.override("en"):
        result = bulk(
            [values(sequence=2), values(sequence=1)],
            school=cast.school_b1,
            actor=cast.b1_registrar,
            row_numbers=[2, 3],
        )
    assert result.created == 0 and result.students == []
    [refusal] = result.refused
    assert refusal.row_number == 3 and refusal.field == "id_number"
    assert "胡集镇第三小学" in refusal.message and "already holds a record" in refusal.message
    after = (Student.objects.count(), StudentRecord.objects.count(), AuditEvent.objects.count())
    assert after == before


def test_the_same_id_number_twice_in_the_file_refuses_both_rows_naming_them(bulk):
    with translation.override("en"):
        result = bulk(
            [values(sequence=1), values(sequence=2), values(sequence=1)], row_numbers=[5, 6, 7]
        )
    assert result.created == 0
    assert [(r.row_number, r.field) for r in result.refused] == [
        (5, "id_number"),
        (7, "id_number"),
    ]
    assert all("appears twice in the file, rows 5 and 7" in r.message for r in result.refused)
    assert not Student.objects.exists()


def test_skip_invalid_writes_the_good_rows_and_lists_the_refused_ones(bulk):
    rows = [values(sequence=1), values(sequence=2, grade="7"), values(sequence=3)]
    result = bulk(rows, skip_invalid=True)
    assert result.created == 2
    assert [(r.row_number, r.field) for r in result.refused] == [(2, "grade")]
    assert Student.objects.count() == 2
    assert AuditEvent.objects.get(action="students.imported").data["refused"] == 1


def test_without_skip_invalid_one_bad_row_refuses_the_file(bulk):
    result = bulk([values(sequence=1), values(sequence=2, grade="7")])
    assert result.created == 0 and len(result.refused) == 1
    assert (
        not Student.objects.exists()
        and not AuditEvent.objects.filter(action__startswith="student").exists()
    )


def test_a_provincial_number_given_before_or_twice_in_the_file_is_refused(bulk, register):
    done = register(provincial_number="1262806040001")
    assert done.record.provincial_number == "1262806040001"
    rows = [values(sequence=n) for n in (2, 3, 4)]
    rows[0]["provincial_number"] = "1262806040001"
    rows[1]["provincial_number"] = rows[2]["provincial_number"] = "1262806040002"
    result = bulk(rows)
    assert [(r.row_number, r.field) for r in result.refused] == [
        (1, "provincial_number"),
        (2, "provincial_number"),
        (3, "provincial_number"),
    ]


def test_a_known_person_with_a_closed_record_gets_a_new_record_on_the_same_student(
    cast, bulk, register
):
    done = register()
    StudentRecord.objects.filter(pk=done.record.pk).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 10, 1)
    )
    result = bulk([values(sequence=1)], school=cast.school_b1, actor=cast.b1_registrar)
    assert result.created == 1 and result.students == [done.student.pk]
    assert Student.objects.count() == 1
    assert done.student.records.count() == 2
    event = AuditEvent.objects.filter(action="student.registered").latest("seq")
    assert event.data["known_person"] is True


def test_a_row_without_id_number_matching_an_open_student_is_held_for_the_bureau(
    cast, bulk, register
):
    first = register()
    result = bulk([no_id()], school=cast.school_b1, actor=cast.b1_registrar, row_numbers=[4])
    assert result.created == 1
    assert result.held == [(4, first.student.pk)]
    candidate = DuplicateCandidate.objects.get()
    assert candidate.existing == first.student and candidate.newer_id == result.students[0]
    assert candidate.reason == "name" and candidate.state == DuplicateCandidate.State.OPEN
    event = AuditEvent.objects.filter(action="student.registered").latest("seq")
    assert event.data["held_as_duplicate_of"] == [first.student.pk]


def test_a_row_with_an_id_number_matching_an_open_student_without_one_is_held(cast, bulk, register):
    first = register(
        name="张梓萱",
        sex="2",
        id_type="Z",
        id_number="",
        **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)},
    )
    result = bulk(
        [values(name="张子萱", sex="2", sequence=3)], school=cast.school_b1, actor=cast.b1_registrar
    )
    assert result.held == [(1, first.student.pk)]
    assert DuplicateCandidate.objects.get().reason == "pinyin"


def test_a_row_without_id_number_is_held_against_an_earlier_row_of_the_same_file(bulk):
    result = bulk([values(sequence=1), no_id()])
    assert result.created == 2
    assert result.held == [(2, result.students[0])]


def test_two_different_id_numbers_are_two_people_in_a_file_too(bulk):
    result = bulk([values(sequence=1), values(sequence=2)])
    assert result.held == [] and not DuplicateCandidate.objects.exists()


def test_a_school_registrar_cannot_bulk_register_at_another_school(cast, bulk):
    with pytest.raises(PermissionDenied):
        bulk([values()], school=cast.school_b1, actor=cast.a1_registrar)
    assert not Student.objects.exists()


def test_the_bulk_path_writes_what_the_single_path_writes(cast, bulk, register, school_year):
    rows = {
        "name_pinyin": "",
        "specialty": "书法",
        "distance_km": "2.5",
        "transport": "4",
        "left_behind": "1",
        "family2.id_number": id_number(datetime.date(1985, 5, 5), 7, sex="2"),
        "family2.employer": "金乡县大蒜批发市场",
    }
    single = register(sequence=1, provincial_number="1262806040011", **rows)
    bulk_values = values(sequence=2, **rows)
    bulk_values["provincial_number"] = "1262806040012"
    result = bulk([bulk_values], entry_date=single.record.entry_date)
    one, other = single.student, Student.objects.get(pk=result.students[0])

    def fields(instance, skip=()):
        skip = {"id", "created_at", "assigned_at", *skip}
        return {
            f.attname: getattr(instance, f.attname)
            for f in instance._meta.concrete_fields
            if f.attname not in skip
        }

    assert fields(one, {"id_number"}) == fields(other, {"id_number"})
    for a, b in zip(one.family.all(), other.family.all(), strict=True):
        assert fields(a, {"student_id"}) == fields(b, {"student_id"})
    record_one, record_other = single.record, StudentRecord.objects.get(pk=result.records[0])
    record_one.refresh_from_db()
    skip = {"student_id", "provincial_number"}
    assert fields(record_one, skip) == fields(record_other, skip)
    assert fields(record_one.placements.get(), {"record_id"}) == fields(
        record_other.placements.get(), {"record_id"}
    )
    events = AuditEvent.objects.filter(action="student.registered").order_by("seq")
    assert [set(e.data) for e in events] == [set(events[0].data)] * 2
    assert (events[0].unit_id, events[0].actor_id) == (events[1].unit_id, events[1].actor_id)
