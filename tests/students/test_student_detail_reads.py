"""The student page's reads (students/detail.py, Scope.get_student; B1, B7, P2): written out
once a process instead of through the ORM (issue 9), they must give what the ORM's
querysets gave: the same rows in the same order, with the same related objects, and the
same students for each user, on SQLite and on PostgreSQL."""

import datetime

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from tests.equivalence import same_instance, same_rows
from xueji.audit.models import AuditEvent
from xueji.core.scope import scope_for
from xueji.students import detail, services
from xueji.students.models import (
    NumberKind,
    Placement,
    Status,
    StudentNumber,
    StudentRecord,
)


@pytest.fixture
def moved(cast, register):
    """A pupil registered at a1, locked, then gone and registered again at b1, with a
    number at each school."""
    first = register(name="张小明")
    services.do_lock_record(first.record, actor=cast.a1_registrar)
    StudentRecord.objects.filter(pk=first.record.pk).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 10, 1)
    )
    second = register(name="张小明", school=cast.school_b1, actor=cast.b1_registrar)
    for value, record in (("G100", first.record), ("G200", second.record)):
        StudentNumber.objects.create(
            student=second.student, record=record, kind=NumberKind.PROVINCIAL, value=value
        )
    return second.student


def test_the_records_are_the_orms_with_school_and_who_locked_and_created_them(moved):
    orm = list(
        moved.records.select_related("school", "locked_by", "created_by").order_by(
            "-entry_date", "-pk"
        )
    )
    read = detail.records(moved)
    assert len(read) == 2
    same_rows(read, orm)
    with CaptureQueriesContext(connection) as asked:
        for ours, theirs in zip(read, orm, strict=True):
            same_instance(ours.school, theirs.school)
            for related in ("locked_by", "created_by"):
                if getattr(theirs, related) is None:
                    assert getattr(ours, related) is None
                else:
                    same_instance(getattr(ours, related), getattr(theirs, related))
    assert len(asked) == 0
    assert any(record.locked_by is not None for record in read)


def test_placements_numbers_family_and_events_are_the_orms(moved):
    record_ids = list(moved.records.values_list("pk", flat=True))
    same_rows(
        detail.placements(record_ids),
        list(
            Placement.objects.filter(record_id__in=record_ids)
            .select_related("school_year")
            .order_by("-school_year__start_year", "-pk")
        ),
    )
    assert detail.placements([]) == []
    same_rows(detail.numbers(moved), list(moved.numbers.order_by("-assigned_at", "-pk")))
    same_rows(detail.family(moved), list(moved.family.all()))
    records = list(moved.records.all())
    orm_events = list(
        AuditEvent.objects.filter(target_type="students.student", target_id=str(moved.pk))
        | AuditEvent.objects.filter(
            target_type="students.studentrecord", target_id__in=[str(r.pk) for r in records]
        )
    )
    read_events = detail.events(moved, records)
    assert {e.target_type for e in read_events} == {"students.student", "students.studentrecord"}
    same_rows(read_events, sorted(orm_events, key=lambda e: -e.seq))
    same_rows(
        detail.events(moved, []), [e for e in orm_events if e.target_type == "students.student"]
    )


def test_get_student_gives_each_user_the_students_of_their_scope(cast, register, moved):
    """P2: the written-out read answers as students() does, for every user of the cast."""
    others = [
        register(name=name, school=school, actor=actor, sequence=sequence).student
        for name, school, actor, sequence in (
            ("王小红", cast.school_a1, cast.a1_registrar, 11),
            ("赵大山", cast.school_b1, cast.b1_registrar, 12),
            ("孙小北", cast.school_c, cast.c_registrar, 13),
        )
    ]
    students = [moved, *others]
    users = [
        cast.bureau_registrar,
        cast.bureau_leader,
        cast.central_a_registrar,
        cast.central_b_registrar,
        cast.a1_registrar,
        cast.a1_leader,
        cast.b1_registrar,
        cast.c_registrar,
    ]
    for user in users:
        scope = scope_for(user)
        for student in students:
            expected = scope.students().filter(pk=student.pk).first()
            if expected is None:
                with pytest.raises(Http404):
                    scope.get_student(student.pk)
            else:
                same_instance(scope.get_student(student.pk), expected)
    # Not an id, or out of the column's range: not found, never an error.
    scope = scope_for(cast.bureau_registrar)
    for wrong in ("abc", "", 10**20, -(10**20), 0):
        with pytest.raises(Http404):
            scope.get_student(wrong)


def test_a_student_page_outside_the_range_of_ids_is_not_found(cast, client_for):
    client = client_for(cast.bureau_registrar)
    assert client.get("/students/99999999999999999999/").status_code == 404
