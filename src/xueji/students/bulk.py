"""Registering many students at once: the Excel import (B2) and the demo loader.

The rules are those of the single path, `services.do_register_student`, applied to the
whole batch in set form: the ID numbers of the batch are looked up in a few queries
instead of one per row, and the rows are written with bulk inserts in chunks, so 100,000
rows fit in memory and in minutes. Every row is checked before anything is written;
by default one refused row refuses the batch (all-or-nothing, like NetBox's import), and
with `skip_invalid` the good rows are written and the refused ones listed.

A row is judged as if the rows before it had been registered one by one: a person
without an ID number who looks like someone registered earlier in the same file is held
for the bureau, exactly as if the file had been typed in row by row.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event, record_events
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.orgs.models import Unit
from xueji.students.form_items import BY_KEY, FAMILY_1, FAMILY_2, PLACEMENT, RECORD, STUDENT
from xueji.students.models import (
    OPEN_STATUSES,
    DuplicateCandidate,
    FamilyMember,
    NumberKind,
    Placement,
    Status,
    Student,
    StudentNumber,
    StudentRecord,
)
from xueji.students.services import (
    _apply_pinyin,
    _double_registration,
    _split,
    _stage_and_grade,
    check_registration,
    number_taken,
    registered_meanwhile,
)

# Rows written per round: small enough that a round's model objects stay in memory,
# large enough that the fixed cost of a round does not matter.
CHUNK = 2000
# Values per `IN (...)`: SQLite allows 999 parameters per statement.
IN_CHUNK = 900
# Rows per INSERT for narrow tables (Django lowers it further for wide ones on SQLite).
BATCH = 500


@dataclass(frozen=True)
class RowRefusal:
    row_number: int
    field: str  # an item key of form_items ("id_number", "grade" ...)
    message: str


@dataclass
class BulkResult:
    created: int = 0
    refused: list[RowRefusal] = field(default_factory=list)
    # (row number, id of the student already registered) for each pair held for the bureau.
    held: list[tuple[int, int]] = field(default_factory=list)
    # The student and the new record of every registered row, in the rows' order; a known
    # person with a closed record appears with their existing student id.
    students: list[int] = field(default_factory=list)
    records: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused


@dataclass(slots=True)
class _Row:
    index: int  # position in the rows given
    number: int  # the row number shown to people (the spreadsheet's row)
    stage: str = ""
    id_key: tuple[str, str] | None = None
    known: Student | None = None  # the person already registered, with closed records only
    refused: bool = False


@dataclass(frozen=True, slots=True)
class _Person:
    """What candidate matching compares (services._candidate_matches)."""

    name: str
    pinyin_key: str
    sex: str
    birth_date: datetime.date
    has_id: bool


def register_many(
    rows: Sequence[dict[str, Any]],
    *,
    actor,
    school: Unit,
    school_year: SchoolYear,
    status: str = Status.PENDING,
    entry_date: datetime.date | None = None,
    row_numbers: Sequence[int] | None = None,
    skip_invalid: bool = False,
) -> BulkResult:
    """Register validated rows (`Validated.values`, keyed by item) at one school.

    Permission, a closed school and a status a registration cannot start in refuse the
    whole batch (PermissionDenied, RuleViolation), as for one row. Everything about a
    single row is returned as a RowRefusal; nothing is raised for it.
    """
    check_registration(actor, school, status)
    numbers = list(row_numbers) if row_numbers is not None else list(range(1, len(rows) + 1))
    if len(numbers) != len(rows):
        raise ValueError("row_numbers must give one number per row")
    try:
        with transaction.atomic():
            plan = [_Row(index, number) for index, number in enumerate(numbers)]
            refusals = _check(rows, plan, school)
            result = BulkResult(refused=refusals)
            if refusals and not skip_invalid:
                return result
            good = [row for row in plan if not row.refused]
            if good:
                _Writer(rows, actor, school, school_year, status, entry_date, result).run(good)
            return result
    except IntegrityError as error:
        # A parallel registration of a person in this batch won the race: the constraints
        # held, and nothing of this batch was written.
        raise registered_meanwhile() from error


# --- Checking ---------------------------------------------------------------------------


def _chunks(values: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _row_list(numbers: Iterable[int]) -> str:
    """ "3 and 7", "3, 7 and 9"."""
    texts = [str(number) for number in sorted(numbers)]
    if len(texts) == 1:
        return texts[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(texts[:-1]), "last": texts[-1]}


def _repeated(key: str, numbers: list[int]) -> str:
    label = str(BY_KEY[key].label)
    if len(numbers) == 2:
        return _("%(label)s: the same number appears twice in the file, rows %(rows)s.") % {
            "label": label,
            "rows": _row_list(numbers),
        }
    return _("%(label)s: the same number appears %(count)d times in the file, rows %(rows)s.") % {
        "label": label,
        "count": len(numbers),
        "rows": _row_list(numbers),
    }


def _check(rows: Sequence[dict[str, Any]], plan: list[_Row], school: Unit) -> list[RowRefusal]:
    """The single path's refusals, for every row at once. Marks refused rows and finds
    the known persons (an ID number with closed records only)."""
    refusals: list[tuple[int, RowRefusal]] = []

    def refuse(row: _Row, violation: RuleViolation, key: str) -> None:
        row.refused = True
        refusals.append((row.index, RowRefusal(row.number, violation.field or key, str(violation))))

    # The school's stage and the grade: nine possible grades, each judged once.
    stages: dict[int, str | RuleViolation] = {}
    by_id: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    by_number: dict[str, list[_Row]] = defaultdict(list)
    for row in plan:
        values = rows[row.index]
        grade = int(values.get("grade") or 0)
        if grade not in stages:
            try:
                stages[grade] = _stage_and_grade(school, grade)
            except RuleViolation as violation:
                stages[grade] = violation
        stage = stages[grade]
        if isinstance(stage, RuleViolation):
            refuse(row, stage, "grade")
        else:
            row.stage = stage
        if values.get("id_number"):
            row.id_key = (str(values.get("id_type") or "1"), str(values["id_number"]))
            by_id[row.id_key].append(row)
        if values.get("provincial_number"):
            by_number[str(values["provincial_number"])].append(row)

    # One open record per person (N11): the same person twice in the file, or a person
    # whose record is open anywhere in the county.
    for same in by_id.values():
        if len(same) > 1:
            message = _repeated("id_number", [row.number for row in same])
            for row in same:
                refuse(row, RuleViolation(message, field="id_number"), "id_number")
    known = _known_persons(list(by_id))
    open_records = _open_records([student.pk for student in known.values()])
    for key, student in known.items():
        record = open_records.get(student.pk)
        for row in by_id[key]:
            if record is not None:
                refuse(row, _double_registration(student, record), "id_number")
            else:
                row.known = student

    # Provincial numbers given in the file: never given before, and once in the file.
    for same in by_number.values():
        if len(same) > 1:
            message = _repeated("provincial_number", [row.number for row in same])
            for row in same:
                refuse(row, RuleViolation(message, field="provincial_number"), "provincial_number")
    for chunk in _chunks(list(by_number), IN_CHUNK):
        taken = StudentNumber.objects.filter(
            kind=NumberKind.PROVINCIAL, value__in=chunk
        ).values_list("value", flat=True)
        for value in taken:
            for row in by_number[value]:
                refuse(row, number_taken(value), "provincial_number")

    refusals.sort(key=lambda pair: pair[0])
    return [refusal for _index, refusal in refusals]


def _known_persons(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Student]:
    """The students holding these (type, number) pairs; asked by type, so the unique
    index on (id_type, id_number) answers."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for id_type, number in sorted(keys):
        by_type[id_type].append(number)
    found: dict[tuple[str, str], Student] = {}
    for id_type, numbers in by_type.items():
        for chunk in _chunks(numbers, IN_CHUNK):
            students = (
                Student.objects.filter(id_type=id_type, id_number__in=chunk)
                # The index is partial (numbers only): saying so lets SQLite use it.
                .exclude(id_number="")
                .only("pk", "id_type", "id_number", "name", "pinyin_key", "sex", "birth_date")
                .order_by()
            )
            for student in students:
                found[(student.id_type, student.id_number)] = student
    return found


def _open_records(student_ids: list[int]) -> dict[int, StudentRecord]:
    found: dict[int, StudentRecord] = {}
    for chunk in _chunks(student_ids, IN_CHUNK):
        records = (
            StudentRecord.objects.filter(student_id__in=chunk, status__in=OPEN_STATUSES)
            .select_related("school")
            .order_by()
        )
        for record in records:
            found[record.student_id] = record
    return found


# --- Candidate double registrations ------------------------------------------------------


class _Candidates:
    """services._candidate_matches in set form: persons of the same sex and birth date with
    the same name or pinyin, holding an open record, where one of the two has no ID number.

    Persons already in the database are read once, by the birth dates of the batch (the
    indexed column): those without an ID number born on any of them, and everyone born on
    the birth date of a row without one. The batch's own rows join the index as they are
    written, so a row is compared with the rows before it.
    """

    def __init__(self, birth_dates: set[datetime.date], no_id_birth_dates: set[datetime.date]):
        self.by_name: dict[tuple[str, datetime.date, str], list[tuple[int, _Person]]] = defaultdict(
            list
        )
        self.by_pinyin: dict[tuple[str, datetime.date, str], list[tuple[int, _Person]]] = (
            defaultdict(list)
        )
        open_students = Student.objects.filter(records__status__in=OPEN_STATUSES).order_by()
        fields = ("pk", "name", "pinyin_key", "sex", "birth_date", "id_number")
        seen: set[int] = set()
        sources = [
            open_students.filter(id_number="", birth_date__in=chunk).values_list(*fields)
            for chunk in _chunks(sorted(birth_dates - no_id_birth_dates), IN_CHUNK)
        ]
        sources += [
            open_students.filter(birth_date__in=chunk).values_list(*fields)
            for chunk in _chunks(sorted(no_id_birth_dates), IN_CHUNK)
        ]
        for source in sources:
            for pk, name, pinyin_key, sex, birth_date, id_number in source.distinct():
                if pk not in seen:
                    seen.add(pk)
                    self.add(pk, _Person(name, pinyin_key, sex, birth_date, bool(id_number)))

    def add(self, pk: int, person: _Person) -> None:
        self.by_name[(person.sex, person.birth_date, person.name)].append((pk, person))
        self.by_pinyin[(person.sex, person.birth_date, person.pinyin_key)].append((pk, person))

    def matches(self, pk: int, person: _Person) -> list[tuple[int, str]]:
        """(student id, reason) in the single path's order (by name, then id)."""
        found: dict[int, _Person] = {}
        same = [
            *self.by_name.get((person.sex, person.birth_date, person.name), ()),
            *self.by_pinyin.get((person.sex, person.birth_date, person.pinyin_key), ()),
        ]
        for other_pk, other in same:
            if other_pk != pk and (not person.has_id or not other.has_id):
                found[other_pk] = other
        ordered = sorted(found.items(), key=lambda item: (item[1].name, item[0]))
        return [
            (other_pk, "name" if other.name == person.name else "pinyin")
            for other_pk, other in ordered
        ]


def _person(student: Student) -> _Person:
    return _Person(
        student.name, student.pinyin_key, student.sex, student.birth_date, bool(student.id_number)
    )


# --- Writing ---------------------------------------------------------------------------------


class _Writer:
    def __init__(self, rows, actor, school, school_year, status, entry_date, result: BulkResult):
        self.rows = rows
        self.actor = actor
        self.school = school
        self.school_year = school_year
        self.status = status
        self.entry_date = entry_date or timezone.localdate()
        self.result = result

    def run(self, good: list[_Row]) -> None:
        dates = {self.rows[row.index].get("birth_date") for row in good}
        no_id_dates = {self.rows[row.index].get("birth_date") for row in good if row.id_key is None}
        self.candidates = _Candidates(
            {date for date in dates if date}, {date for date in no_id_dates if date}
        )
        for chunk in _chunks(good, CHUNK):
            self._write(chunk)
        held_rows = {number for number, _existing in self.result.held}
        record_event(
            "students.imported",
            actor=self.actor,
            target=self.school,
            unit=self.school if self.actor is None else None,
            data={
                "school": self.school.school_code,
                "school_year": self.school_year.start_year,
                "status": self.status,
                "rows": len(self.rows),
                "created": self.result.created,
                "refused": len({refusal.row_number for refusal in self.result.refused}),
                "held": len(held_rows),
            },
        )

    def _write(self, chunk: Sequence[_Row]) -> None:
        parts = [_split(self.rows[row.index]) for row in chunk]
        students: list[Student] = []
        new: list[Student] = []
        for row, part in zip(chunk, parts, strict=True):
            if row.known is not None:
                students.append(row.known)
                continue
            student = Student(**part[STUDENT], created_by=self.actor)
            _apply_pinyin(student)
            students.append(student)
            new.append(student)
        Student.objects.bulk_create(new, batch_size=BATCH)

        family = [
            FamilyMember(student=student, position=position, **part[where])
            for row, student, part in zip(chunk, students, parts, strict=True)
            if row.known is None
            for position, where in ((1, FAMILY_1), (2, FAMILY_2))
            if part[where].get("name")
        ]
        FamilyMember.objects.bulk_create(family, batch_size=BATCH)

        records = [
            StudentRecord(
                student=student,
                school=self.school,
                stage=row.stage,
                status=self.status,
                entry_date=self.entry_date,
                entry_change="11",
                created_by=self.actor,
                provincial_number=self._number(row) or None,
                **{k: v for k, v in part[RECORD].items() if v not in (None, "")},
            )
            for row, student, part in zip(chunk, students, parts, strict=True)
        ]
        StudentRecord.objects.bulk_create(records, batch_size=BATCH)
        Placement.objects.bulk_create(
            [
                Placement(
                    record=record,
                    school_year=self.school_year,
                    grade=int(part[PLACEMENT]["grade"]),
                    class_name=str(part[PLACEMENT].get("class_name", "")),
                    seat_number=str(part[PLACEMENT].get("seat_number") or ""),
                )
                for record, part in zip(records, parts, strict=True)
            ],
            batch_size=BATCH,
        )
        StudentNumber.objects.bulk_create(
            [
                StudentNumber(
                    student=record.student,
                    record=record,
                    kind=NumberKind.PROVINCIAL,
                    value=record.provincial_number,
                )
                for record in records
                if record.provincial_number
            ],
            batch_size=BATCH,
        )

        duplicates: list[DuplicateCandidate] = []
        events: list[tuple[str, Any, dict[str, Any]]] = []
        for row, student, record in zip(chunk, students, records, strict=True):
            person = _person(student)
            held: list[int] = []
            if row.known is None:
                for existing, reason in self.candidates.matches(student.pk, person):
                    duplicates.append(
                        DuplicateCandidate(existing_id=existing, newer=student, reason=reason)
                    )
                    held.append(existing)
                    self.result.held.append((row.number, existing))
            # From now on this person holds an open record, for the rows after it.
            self.candidates.add(student.pk, person)
            events.append(
                (
                    "student.registered",
                    student,
                    {
                        "record": record.pk,
                        "school": self.school.school_code,
                        "status": self.status,
                        "known_person": row.known is not None,
                        "held_as_duplicate_of": held,
                    },
                )
            )
            self.result.students.append(student.pk)
            self.result.records.append(record.pk)
        DuplicateCandidate.objects.bulk_create(duplicates, batch_size=BATCH)
        record_events(events, actor=self.actor, unit=self.school if self.actor is None else None)
        self.result.created += len(chunk)

    def _number(self, row: _Row) -> str:
        return str(self.rows[row.index].get("provincial_number") or "")
