"""Registering many students at once: the Excel import (B2) and the demo loader.

The rules are those of the single path, `services.do_register_student`, applied to the
batch in set form: the ID numbers of a round are looked up in a few queries instead of
one per row, and the rows are written by the database's fast path (core/rawinsert.py:
executemany on SQLite, COPY on PostgreSQL) with the audit events beside them. The import
hands its rows over in rounds (BulkRegistration), so 100,000 rows never sit in memory at
once; register_many hands over all its rows in one round. By default one refused row
refuses the batch (all-or-nothing, like NetBox's import: the caller's transaction rolls
back whatever earlier rounds wrote), and with `skip_invalid` the good rows are written
and the refused ones listed.

A row is judged as if the rows before it had been registered one by one: a person
without an ID number who looks like someone registered earlier in the same file is held
for the bureau, exactly as if the file had been typed in row by row.
"""

import datetime
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import BatchEvent, record_event, record_many_events
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.core.rawinsert import RawTable
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
from xueji.students.pinyin import pinyin_keys
from xueji.students.services import (
    MODELS,
    NOT_ON_ROW,
    _double_registration,
    _stage_and_grade,
    check_registration,
    number_taken,
    registered_meanwhile,
)

# Rows per round: small enough that a round's rows stay a few MB in memory, large enough
# that the fixed cost of a round (its queries, its inserts) does not matter.
CHUNK = 2000
# Values per `IN (...)`: SQLite allows 999 parameters per statement.
IN_CHUNK = 900


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
    numbers = list(row_numbers) if row_numbers is not None else list(range(1, len(rows) + 1))
    if len(numbers) != len(rows):
        raise ValueError("row_numbers must give one number per row")
    batch = BulkRegistration(
        actor=actor,
        school=school,
        school_year=school_year,
        status=status,
        entry_date=entry_date,
        skip_invalid=skip_invalid,
    )
    try:
        with transaction.atomic():
            # All rows in one round: the file-wide checks see every row before any is written.
            batch.add(rows, numbers)
            result = batch.finish()
            if not result.ok and not skip_invalid:
                raise _NothingWritten
    except _NothingWritten:
        pass
    except IntegrityError as error:
        # A parallel registration of a person in this batch won the race: the constraints
        # held, and nothing of this batch was written.
        raise registered_meanwhile() from error
    return result


class _NothingWritten(Exception):
    """Rolls back a batch refused as a whole."""


class RepeatedInFile(Exception):
    """Raised by finish(): a row repeated the ID number or provincial number of a row
    already written (with `skip_invalid`). The caller rolls back and starts again with
    every repeated key of the file, so that no row holding one is written. Only a file
    streamed in several rounds can raise it, and the second pass never does."""

    def __init__(self, ids: set[tuple[str, str]], numbers: set[str]):
        super().__init__("repeated in file")
        self.ids = ids
        self.numbers = numbers


# Refusals of one row come in this order, as the single path finds them.
_GRADE, _ID_REPEATED, _ID_OPEN, _NUMBER_REPEATED, _NUMBER_TAKEN = range(5)


class BulkRegistration:
    """Registration of many rows in rounds (`add`), in the caller's transaction: each
    round is checked and, while the batch is still good (or with `skip_invalid`),
    written at once, so a file of 100,000 rows never has to be held in memory.

    A row is judged as if the rows before it had been registered one by one. The checks
    that look across the whole file (an ID number or provincial number twice) remember
    the keys of every round; their messages name every row and are made in `finish`.
    Without `skip_invalid` the first refusal stops the writing; the rounds after it are
    still checked, so every refusal is reported, and the caller rolls back.
    """

    def __init__(
        self,
        *,
        actor,
        school: Unit,
        school_year: SchoolYear,
        status: str = Status.PENDING,
        entry_date: datetime.date | None = None,
        skip_invalid: bool = False,
        repeated_ids: set[tuple[str, str]] | None = None,
        repeated_numbers: set[str] | None = None,
    ):
        check_registration(actor, school, status)
        self.actor = actor
        self.school = school
        self.school_year = school_year
        self.status = status
        self.entry_date = entry_date or timezone.localdate()
        self.skip_invalid = skip_invalid
        self.writing = True
        self.restart = False  # see RepeatedInFile
        self.result = BulkResult()
        # Keys known beforehand to repeat in the file (after a RepeatedInFile restart).
        self.repeated_ids = repeated_ids or set()
        self.repeated_numbers = repeated_numbers or set()
        # Per row position: the row number shown to people, and whether it was written.
        self.row_numbers = array("q")
        self.written = bytearray()
        # Positions of the rows holding each key, over all rounds.
        self.by_id: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.by_number: dict[str, list[int]] = defaultdict(list)
        # (row position, order within the row, refusal); repeats are made in finish().
        self.refusals: list[tuple[int, int, RowRefusal]] = []
        self.refused_rows: set[int] = set()
        self.stages: dict[int, str | RuleViolation] = {}
        # What the database said about keys when they first appeared.
        self.known: dict[tuple[str, str], tuple[Student, StudentRecord | None]] = {}
        self.taken_numbers: set[str] = set()
        self.writer: _Writer | None = None

    @property
    def rows_seen(self) -> int:
        return len(self.row_numbers)

    def add(self, rows: Sequence[dict[str, Any]], numbers: Sequence[int]) -> None:
        """Check one round of rows (and write it, while the batch may be written)."""
        base = self.rows_seen
        self.row_numbers.extend(numbers)
        self.written.extend(bytes(len(rows)))
        plan = [_Row(base + index, number) for index, number in enumerate(numbers)]
        self._check(rows, plan, base)
        if self.refused_rows and not self.skip_invalid:
            self.writing = False
        if not self.writing:
            return
        good = [row for row in plan if not row.refused]
        if not good:
            return
        if self.writer is None:
            self.writer = _Writer(self)
        self.writer.write(rows, good, base)
        for row in good:
            self.written[row.index] = 1

    def finish(self) -> BulkResult:
        """The refusals in row order, with the file-wide messages; the import's own event.
        A batch refused as a whole reports nothing as written (the caller rolls back)."""
        for kind, order, groups in (
            ("id_number", _ID_REPEATED, self.by_id.values()),
            ("provincial_number", _NUMBER_REPEATED, self.by_number.values()),
        ):
            for positions in groups:
                if len(positions) > 1:
                    numbers = [self.row_numbers[position] for position in positions]
                    message = _repeated(kind, numbers)
                    for position, number in zip(positions, numbers, strict=True):
                        self.refused_rows.add(position)
                        self.refusals.append((position, order, RowRefusal(number, kind, message)))
        if self.restart:
            raise RepeatedInFile(
                {key for key, positions in self.by_id.items() if len(positions) > 1},
                {key for key, positions in self.by_number.items() if len(positions) > 1},
            )
        self.refusals.sort(key=lambda entry: (entry[0], entry[1]))
        result = self.result
        result.refused = [refusal for _position, _order, refusal in self.refusals]
        if not result.ok and not self.skip_invalid:
            result.created, result.students, result.records, result.held = 0, [], [], []
        if result.created:
            self._record_import()
        return result

    def _record_import(self) -> None:
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
                "rows": self.rows_seen,
                "created": self.result.created,
                "refused": len({refusal.row_number for refusal in self.result.refused}),
                "held": len(held_rows),
            },
        )

    def _refuse(self, row: _Row, order: int, violation: RuleViolation, key: str) -> None:
        row.refused = True
        self.refused_rows.add(row.index)
        refusal = RowRefusal(row.number, violation.field or key, str(violation))
        self.refusals.append((row.index, order, refusal))

    def _stage(self, grade: int) -> str | RuleViolation:
        """The school's stage and the grade: nine possible grades, each judged once."""
        stage = self.stages.get(grade)
        if stage is None:
            try:
                stage = _stage_and_grade(self.school, grade)
            except RuleViolation as violation:
                stage = violation
            self.stages[grade] = stage
        return stage

    def _check(self, rows: Sequence[dict[str, Any]], plan: list[_Row], base: int) -> None:
        """The single path's refusals for one round. Marks refused rows and finds the
        known persons (an ID number with closed records only)."""
        round_ids: dict[tuple[str, str], list[_Row]] = defaultdict(list)
        round_numbers: dict[str, list[_Row]] = defaultdict(list)
        for row in plan:
            values = rows[row.index - base]
            stage = self._stage(int(values.get("grade") or 0))
            if isinstance(stage, RuleViolation):
                self._refuse(row, _GRADE, stage, "grade")
            else:
                row.stage = stage
            if values.get("id_number"):
                row.id_key = (str(values.get("id_type") or "1"), str(values["id_number"]))
                round_ids[row.id_key].append(row)
                self.by_id[row.id_key].append(row.index)
            number = values.get("provincial_number")
            if number:
                round_numbers[str(number)].append(row)
                self.by_number[str(number)].append(row.index)

        # One open record per person (N11): the same person twice in the file (refused in
        # finish, with every row named), or a person whose record is open in the county.
        # The database is asked about a key when it first appears: later it would see the
        # rows this batch wrote itself.
        late = self._repeats(round_ids, self.by_id, self.repeated_ids)
        first = [key for key in round_ids if self.by_id[key][0] >= base]
        known = _known_persons(first)
        open_records = _open_records([student.pk for student in known.values()])
        for key, student in known.items():
            self.known[key] = (student, open_records.get(student.pk))
        for key, same in round_ids.items():
            found = self.known.get(key)
            if found is None:
                continue
            student, record = found
            for row in same:
                if record is not None:
                    self._refuse(row, _ID_OPEN, _double_registration(student, record), "id_number")
                else:
                    row.known = student

        # Provincial numbers given in the file: never given before, and once in the file.
        late |= self._repeats(round_numbers, self.by_number, self.repeated_numbers)
        first_numbers = [value for value in round_numbers if self.by_number[value][0] >= base]
        for chunk in _chunks(first_numbers, IN_CHUNK):
            self.taken_numbers.update(
                StudentNumber.objects.filter(
                    kind=NumberKind.PROVINCIAL, value__in=chunk
                ).values_list("value", flat=True)
            )
        for value, same in round_numbers.items():
            if value in self.taken_numbers:
                for row in same:
                    self._refuse(row, _NUMBER_TAKEN, number_taken(value), "provincial_number")
        if late and self.skip_invalid:
            # A row written in an earlier round must be refused after all. The rest is
            # only checked, so that finish() knows every repeated key for the restart.
            self.restart = True
            self.writing = False

    def _written_any(self, positions: list[int]) -> bool:
        return any(self.written[position] for position in positions)

    def _repeats(self, round_keys: dict, by_key: dict, known_repeats: set) -> bool:
        """Mark the rows of this round whose key repeats in the file (so far, or as known
        from a restart); True when an earlier row with such a key was written already."""
        late = False
        for key, same in round_keys.items():
            if len(by_key[key]) > 1 or key in known_repeats:
                for row in same:
                    row.refused = True
                    self.refused_rows.add(row.index)
                late = late or self._written_any(by_key[key])
        return late


# --- Checking helpers -------------------------------------------------------------------


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

    Persons already in the database are read by the birth dates of each round (the
    indexed column), each date once: those without an ID number born on it, or, once a
    row without an ID number has that birth date, everyone born on it. The batch's own
    rows join the index as they are written, so a row is compared with the rows before it.
    """

    def __init__(self) -> None:
        # Persons by sex, birth date and pinyin. A row's pinyin is worked out from its
        # name, so the same name means the same pinyin and one entry per row finds both;
        # only a person read from the database (whose stored pinyin may be older) is
        # also filed by name.
        self.by_pinyin: dict[tuple[str, datetime.date, str], list[tuple[int, _Person]]] = (
            defaultdict(list)
        )
        self.by_name: dict[tuple[str, datetime.date, str], list[tuple[int, _Person]]] = defaultdict(
            list
        )
        self.seen: set[int] = set()
        self.dates_no_id: set[datetime.date] = set()  # read: persons without an ID number
        self.dates_all: set[datetime.date] = set()  # read: everyone

    def load(self, birth_dates: set[datetime.date], no_id_birth_dates: set[datetime.date]) -> None:
        """Read the open persons of these birth dates not read before."""
        everyone = no_id_birth_dates - self.dates_all
        without_id = birth_dates - no_id_birth_dates - self.dates_all - self.dates_no_id
        self.dates_all |= everyone
        self.dates_no_id |= without_id
        open_students = Student.objects.filter(records__status__in=OPEN_STATUSES).order_by()
        fields = ("pk", "name", "pinyin_key", "sex", "birth_date", "id_number")
        sources = [
            open_students.filter(id_number="", birth_date__in=chunk).values_list(*fields)
            for chunk in _chunks(sorted(without_id), IN_CHUNK)
        ]
        sources += [
            open_students.filter(birth_date__in=chunk).values_list(*fields)
            for chunk in _chunks(sorted(everyone), IN_CHUNK)
        ]
        for source in sources:
            for pk, name, pinyin_key, sex, birth_date, id_number in source.distinct():
                if pk not in self.seen:
                    self.add(pk, _Person(name, pinyin_key, sex, birth_date, bool(id_number)))

    def add(self, pk: int, person: _Person, *, stored: bool = True) -> None:
        """File a person; `stored=False` for a row of this batch (pinyin from its name)."""
        self.seen.add(pk)
        entry = (pk, person)
        self.by_pinyin[(person.sex, person.birth_date, person.pinyin_key)].append(entry)
        if stored:
            self.by_name[(person.sex, person.birth_date, person.name)].append(entry)

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


def _routes() -> list[tuple[str, str, str, bool]]:
    """(item key, where, column attname, keep a blank value) for every item stored on a
    row: services._split worked out once per batch instead of once per value."""
    routes = []
    for key, item in BY_KEY.items():
        if key in NOT_ON_ROW:
            continue
        model = MODELS.get(item.where, FamilyMember)
        field = model._meta.get_field(item.field)
        assert isinstance(field, models.Field)
        routes.append((key, item.where, field.attname, isinstance(field, models.CharField)))
    return routes


class _Writer:
    """Writes the checked rows of each round by the database's fast path (RawTable):
    the values were validated and checked, so each becomes a plain row of each table,
    with the keys reserved beforehand."""

    def __init__(self, batch: BulkRegistration):
        self.batch = batch
        self.result = batch.result
        self.actor_id = batch.actor.pk if batch.actor is not None else None
        self.candidates = _Candidates()
        self.routes = _routes()
        self.tables = {
            model: RawTable(model)
            for model in (
                Student,
                FamilyMember,
                StudentRecord,
                Placement,
                StudentNumber,
                DuplicateCandidate,
            )
        }
        self.pinyin: dict[str, tuple[str, str]] = {}

    def _pinyin(self, name: str) -> tuple[str, str]:
        keys = self.pinyin.get(name)
        if keys is None:
            if len(self.pinyin) > PINYIN_MEMO:
                self.pinyin.clear()
            keys = self.pinyin[name] = pinyin_keys(name)
        return keys

    def _split(self, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
        parts: dict[str, dict[str, Any]] = {
            STUDENT: {},
            RECORD: {},
            PLACEMENT: {},
            FAMILY_1: {},
            FAMILY_2: {},
        }
        for key, where, attname, keep_blank in self.routes:
            if key not in values:
                continue
            value = values[key]
            if value == "" and not keep_blank:
                continue
            parts[where][attname] = value
        return parts

    def write(self, rows: Sequence[dict[str, Any]], chunk: Sequence[_Row], base: int) -> None:
        batch = self.batch
        values_of = [rows[row.index - base] for row in chunk]
        self.candidates.load(
            {values["birth_date"] for values in values_of if values.get("birth_date")},
            {
                values["birth_date"]
                for values, row in zip(values_of, chunk, strict=True)
                if values.get("birth_date") and row.id_key is None
            },
        )
        parts = [self._split(values) for values in values_of]
        tables = self.tables

        # Students: the new persons get new rows; a known person keeps their student.
        new_count = sum(1 for row in chunk if row.known is None)
        new_ids = iter(tables[Student].reserve_ids(new_count))
        student_rows = []
        people: list[tuple[int, _Person, str]] = []  # (student id, person, label)
        for row, part in zip(chunk, parts, strict=True):
            if row.known is not None:
                known = row.known
                people.append((known.pk, _person(known), str(known)[:120]))
                continue
            given = part[STUDENT]
            pk = next(new_ids)
            pinyin_key, initials_key = self._pinyin(given.get("name") or "")
            student_rows.append(
                tables[Student].row(
                    {
                        **given,
                        "id": pk,
                        "created_by_id": self.actor_id,
                        "pinyin_key": pinyin_key,
                        "initials_key": initials_key,
                    }
                )
            )
            name = given.get("name", "")
            people.append(
                (
                    pk,
                    _Person(
                        name,
                        pinyin_key,
                        given.get("sex", ""),
                        given.get("birth_date"),  # type: ignore[arg-type]
                        bool(given.get("id_number")),
                    ),
                    str(name)[:120],
                )
            )
        tables[Student].insert(student_rows)

        family = tables[FamilyMember]
        family_values = [
            {"student_id": pk, "position": position, **part[where]}
            for row, (pk, _p, _l), part in zip(chunk, people, parts, strict=True)
            if row.known is None
            for position, where in ((1, FAMILY_1), (2, FAMILY_2))
            if part[where].get("name")
        ]
        family_ids = family.reserve_ids(len(family_values))
        family.insert(
            [
                family.row({**values, "id": pk})
                for pk, values in zip(family_ids, family_values, strict=True)
            ]
        )

        record_ids = tables[StudentRecord].reserve_ids(len(chunk))
        placement_ids = tables[Placement].reserve_ids(len(chunk))
        record_rows, placement_rows, number_values = [], [], []
        for row, (student_id, _p, _l), part, record_id, placement_id in zip(
            chunk, people, parts, record_ids, placement_ids, strict=True
        ):
            number = str(rows[row.index - base].get("provincial_number") or "")
            record_rows.append(
                tables[StudentRecord].row(
                    {
                        **{k: v for k, v in part[RECORD].items() if v not in (None, "")},
                        "id": record_id,
                        "student_id": student_id,
                        "school_id": batch.school.pk,
                        "stage": row.stage,
                        "status": batch.status,
                        "entry_date": batch.entry_date,
                        "entry_change": "11",
                        "created_by_id": self.actor_id,
                        "provincial_number": number or None,
                    }
                )
            )
            placement = part[PLACEMENT]
            placement_rows.append(
                tables[Placement].row(
                    {
                        "id": placement_id,
                        "record_id": record_id,
                        "school_year_id": batch.school_year.pk,
                        "grade": int(placement["grade"]),
                        "class_name": str(placement.get("class_name", "")),
                        "seat_number": str(placement.get("seat_number") or ""),
                    }
                )
            )
            if number:
                number_values.append((student_id, record_id, number))
        tables[StudentRecord].insert(record_rows)
        tables[Placement].insert(placement_rows)
        numbers = tables[StudentNumber]
        number_ids = numbers.reserve_ids(len(number_values))
        numbers.insert(
            [
                numbers.row(
                    {
                        "id": pk,
                        "student_id": student_id,
                        "record_id": record_id,
                        "kind": NumberKind.PROVINCIAL,
                        "value": value,
                    }
                )
                for pk, (student_id, record_id, value) in zip(
                    number_ids, number_values, strict=True
                )
            ]
        )

        duplicates: list[tuple[int, int, str]] = []
        events: list[BatchEvent] = []
        for row, (student_id, person, label), record_id in zip(
            chunk, people, record_ids, strict=True
        ):
            held: list[int] = []
            if row.known is None:
                for existing, reason in self.candidates.matches(student_id, person):
                    duplicates.append((existing, student_id, reason))
                    held.append(existing)
                    self.result.held.append((row.number, existing))
            # From now on this person holds an open record, for the rows after it.
            self.candidates.add(student_id, person, stored=row.known is not None)
            events.append(
                BatchEvent(
                    "student.registered",
                    STUDENT_LABEL,
                    str(student_id),
                    label,
                    {
                        "record": record_id,
                        "school": batch.school.school_code,
                        "status": batch.status,
                        "known_person": row.known is not None,
                        "held_as_duplicate_of": held,
                    },
                )
            )
            self.result.students.append(student_id)
            self.result.records.append(record_id)
        table = tables[DuplicateCandidate]
        duplicate_ids = table.reserve_ids(len(duplicates))
        table.insert(
            [
                table.row({"id": pk, "existing_id": existing, "newer_id": newer, "reason": reason})
                for pk, (existing, newer, reason) in zip(duplicate_ids, duplicates, strict=True)
            ]
        )
        record_many_events(
            events, actor=batch.actor, unit=batch.school if batch.actor is None else None
        )
        self.result.created += len(chunk)


STUDENT_LABEL = Student._meta.label_lower
# Names whose pinyin is remembered within a batch (names repeat; pypinyin is slow).
PINYIN_MEMO = 50_000
