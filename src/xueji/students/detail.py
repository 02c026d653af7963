"""What the student page reads about a student the scope returned (B1, B7).

The page is 30% of the load test's requests and was the largest share of a loaded
server's CPU; most of its Python was the ORM building and compiling its five reads
again on every request. They are written out here once a process (core/reads.py), with
the same rows, order and related objects the ORM's querysets gave
(tests/students/test_student_detail_reads.py compares them).

These read only what belongs to one student already in the user's scope: the scope
decides whether the page is shown at all (Scope.get_student), not these statements.
"""

from __future__ import annotations

import functools

from django.db import connection

from xueji.audit.models import AuditEvent
from xueji.core import reads
from xueji.core.models import SchoolYear
from xueji.orgs.models import Unit, User
from xueji.students.models import FamilyMember, Placement, Student, StudentNumber, StudentRecord


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _records_statement() -> str:
    return (
        f"SELECT {reads.columns(StudentRecord, 'r')}, {reads.columns(Unit, 's')}, "
        f"{reads.columns(User, 'l')}, {reads.columns(User, 'c')} "
        f"FROM {_table(StudentRecord)} r JOIN {_table(Unit)} s ON s.id = r.school_id "
        f"LEFT JOIN {_table(User)} l ON l.id = r.locked_by_id "
        f"LEFT JOIN {_table(User)} c ON c.id = r.created_by_id "
        "WHERE r.student_id = %s ORDER BY r.entry_date DESC, r.id DESC"
    )


def records(student: Student) -> list[StudentRecord]:
    """The student's records, newest first, each with its school, and who locked and who
    created it (as `student.records.select_related(...)`)."""
    found = []
    for record, school, locked_by, created_by in reads.read(
        _records_statement(), [student.pk], (StudentRecord, Unit, User, User)
    ):
        reads.link(record, "school", school)
        reads.link(record, "locked_by", locked_by)
        reads.link(record, "created_by", created_by)
        reads.link(record, "student", student)
        found.append(record)
    return found


@functools.cache
def _placements_statement(count: int) -> str:
    marks = ", ".join(["%s"] * count)
    return (
        f"SELECT {reads.columns(Placement, 'p')}, {reads.columns(SchoolYear, 'y')} "
        f"FROM {_table(Placement)} p JOIN {_table(SchoolYear)} y ON y.id = p.school_year_id "
        f"WHERE p.record_id IN ({marks}) ORDER BY y.start_year DESC, p.id DESC"
    )


def placements(record_ids: list[int]) -> list[Placement]:
    """The placements of these records, newest school year first, with their years."""
    if not record_ids:
        return []
    found = []
    for placement, year in reads.read(
        _placements_statement(len(record_ids)), record_ids, (Placement, SchoolYear)
    ):
        reads.link(placement, "school_year", year)
        found.append(placement)
    return found


@functools.cache
def _numbers_statement() -> str:
    return (
        f"SELECT {reads.columns(StudentNumber, 'n')} FROM {_table(StudentNumber)} n "
        "WHERE n.student_id = %s ORDER BY n.assigned_at DESC"
    )


def numbers(student: Student) -> list[StudentNumber]:
    """Every number the student was given, the latest first."""
    found = [row[0] for row in reads.read(_numbers_statement(), [student.pk], (StudentNumber,))]
    for number in found:
        reads.link(number, "student", student)
    return found


@functools.cache
def _family_statement() -> str:
    return (
        f"SELECT {reads.columns(FamilyMember, 'f')} FROM {_table(FamilyMember)} f "
        "WHERE f.student_id = %s ORDER BY f.position, f.id"
    )


def family(student: Student) -> list[FamilyMember]:
    """The student's family members in the order of the form (first, second)."""
    return [row[0] for row in reads.read(_family_statement(), [student.pk], (FamilyMember,))]


EVENTS_SHOWN = 200


@functools.cache
def _events_statement(records: int) -> str:
    marks = ", ".join(["%s"] * records)
    about_records = f" OR (e.target_type = %s AND e.target_id IN ({marks}))" if records else ""
    return (
        f"SELECT {reads.columns(AuditEvent, 'e')} FROM {_table(AuditEvent)} e "
        f"WHERE (e.target_type = %s AND e.target_id = %s){about_records} "
        f"ORDER BY e.seq DESC LIMIT {EVENTS_SHOWN}"
    )


def events(student: Student, its_records: list[StudentRecord]) -> list[AuditEvent]:
    """The latest events about the student and their records, newest first."""
    params: list = ["students.student", str(student.pk)]
    if its_records:
        params += ["students.studentrecord", *(str(record.pk) for record in its_records)]
    statement = _events_statement(len(its_records))
    return [row[0] for row in reads.read(statement, params, (AuditEvent,))]
