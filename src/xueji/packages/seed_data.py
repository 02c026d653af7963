"""students.json: what the bureau's seed of an offline installation carries, and back
(issue 6: "seeded from a bureau package of its own unit's students").

The seed holds what a laptop needs to work for one unit: the county (code, name, number
templates), its calendar (school years, semesters, holidays and make-up days), the whole
unit tree (names and codes only, so a transfer can name its receiving school and the
same-district rule C5 can be checked), the catchments of the unit's schools, the number
sequences (so a number given on the laptop never repeats one the county gave), and for
the unit's schools every student with an open record: all 72 items, the family members,
every record with its placements, every number held, the photo; the intake entries of
those records and the schools' pending change requests, with their steps and scans.

Rows travel as their own fields, named as the models name them, so every item of the
national form is carried without a list to keep in step. Links travel as stable
identifiers: units by their codes, school years by their start year, students and
records by their position in the file. Database ids and users never travel: on the
laptop, who did a step is known from the step's comment and the audit log of the bureau.

Reading (`parse_seed`) checks every row against its model's field rules (types, lengths,
choices) before anything is written: the signature proves the bureau wrote the file, not
that every row of it fits this version's tables.
"""

import dataclasses
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xueji.audit.services import normalise
from xueji.changes.models import PENDING_STATES, ChangeRequest, Evidence, RequestStep
from xueji.core.models import CalendarDay, SchoolYear, Semester
from xueji.intake.models import Catchment, IntakeEntry
from xueji.orgs.models import County, Unit
from xueji.packages.change_data import evidence_member, signed_scan_member
from xueji.packages.format import PackageRefused, VerifiedPackage
from xueji.packages.units import schools_of, unit_code
from xueji.students.models import (
    OPEN_STATUSES,
    FamilyMember,
    NumberSequence,
    Placement,
    Student,
    StudentNumber,
    StudentRecord,
)

STUDENTS_MEMBER = "students.json"
SEED_FORMAT = "xueji-students"
SEED_VERSION = 1


# --- rows as data ---------------------------------------------------------------------------


def _own_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields a row carries as values: not its id, not its links, not its files."""
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key
        and not field.is_relation
        and not isinstance(field, models.FileField)
    ]


def row_data(row: models.Model, **extra: Any) -> dict[str, Any]:
    """A row's own fields as JSON values (dates and times in ISO form, decimals as text)."""
    values = {field.name: field.value_from_object(row) for field in _own_fields(type(row))}
    return normalise({**values, **extra})


class _Rows:
    """Builds rows of a model from data, refusing the package with the row named."""

    def __init__(self, what: str):
        self.what = what

    def fail(self, where: str, reason: str = "") -> PackageRefused:
        return PackageRefused(
            "bad_member",
            _("students.json: %(what)s %(where)s cannot be read%(reason)s.")
            % {"what": self.what, "where": where, "reason": f" ({reason})" if reason else ""},
        )

    def build(self, model: type[models.Model], data: Any, where: str, **links: Any):
        if not isinstance(data, dict):
            raise self.fail(where)
        row = model(**links)
        for field in _own_fields(model):
            if field.name not in data:
                continue
            try:
                value = field.to_python(data[field.name])
                # What the database would refuse: a missing value, a value too long, a
                # choice the model does not know. Blank text is the registry's own
                # business (an item left empty), not the seed's.
                if value is None and not field.null:
                    raise ValidationError(_("a value is missing"))
                if value not in field.empty_values:
                    field.run_validators(value)
                    if field.choices and value not in dict(field.flatchoices):
                        raise ValidationError(_("not one of the choices"))
            except ValidationError as error:
                raise self.fail(where, f"{field.name}: {' '.join(error.messages)}") from None
            setattr(row, field.attname, value)
        return row


def carried_times(row: models.Model, data: dict[str, Any]) -> dict[str, Any]:
    """The automatic times (created, updated) a row carries: saving sets them to now, so
    the seed writes them again afterwards, and the laptop shows when things happened."""
    times = {}
    for field in _own_fields(type(row)):
        automatic = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        if automatic and data.get(field.name):
            times[field.attname] = field.to_python(data[field.name])
    return times


# --- writing (the bureau) ----------------------------------------------------------------------


def seed_schools(unit: Unit) -> list[Unit]:
    """The schools a unit's seed covers: those its key may report on (scope.py decides),
    so a central school's laptop holds its township's rural primary schools too."""
    return list(schools_of(unit).order_by("ordinal", "name"))


def _unit_data(unit: Unit) -> dict[str, Any]:
    return row_data(
        unit,
        code=unit_code(unit),
        parent=unit_code(unit.parent) if unit.parent is not None else None,
    )


def seed_students(schools: list[Unit]) -> QuerySet[Student]:
    return (
        Student.objects.filter(records__school__in=schools, records__status__in=OPEN_STATUSES)
        .distinct()
        .order_by("pk")
    )


def _read(field) -> bytes | None:
    """A stored file's bytes, or None when the file is gone from the disk."""
    try:
        with field.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


@dataclasses.dataclass
class SeedContent:
    data: dict[str, Any]
    files: dict[str, bytes]
    counts: dict[str, int]


def seed_content(unit: Unit) -> SeedContent:
    """Everything the seed of `unit` carries: students.json and the files it names."""
    county: County = unit.county
    schools = seed_schools(unit)
    files: dict[str, bytes] = {}
    missing = 0
    units = Unit.objects.filter(county=county).select_related("parent", "county")
    order: dict[str, int] = {Unit.Kind.BUREAU: 0, Unit.Kind.TOWNSHIP: 1, Unit.Kind.SCHOOL: 2}
    years = SchoolYear.objects.filter(county=county).prefetch_related("semesters")
    students = list(
        seed_students(schools).prefetch_related(
            "family",
            models.Prefetch(
                "records",
                queryset=StudentRecord.objects.select_related("school__county", "school__parent")
                .prefetch_related("placements__school_year")
                .order_by("entry_date", "pk"),
            ),
            "numbers",
        )
    )
    student_refs: dict[int, int] = {}
    record_refs: dict[int, tuple[int, int]] = {}
    student_rows = []
    for position, student in enumerate(students):
        student_refs[student.pk] = position
        photo = None
        if student.photo:
            content = _read(student.photo)
            if content is None:
                missing += 1
            else:
                photo = f"photos/{position}.jpg"
                files[photo] = content
        records = []
        for index, record in enumerate(student.records.all()):
            record_refs[record.pk] = (position, index)
            records.append(
                row_data(
                    record,
                    school=unit_code(record.school),
                    placements=[
                        row_data(placement, school_year=placement.school_year.start_year)
                        for placement in record.placements.all()
                    ],
                )
            )
        numbers = [
            row_data(
                number,
                record=record_refs[number.record_id][1] if number.record_id else None,
            )
            for number in student.numbers.all()
        ]
        student_rows.append(
            row_data(
                student,
                photo=photo,
                family=[row_data(member) for member in student.family.all()],
                records=records,
                numbers=numbers,
            )
        )
    requests = _requests(schools, student_refs, record_refs, files)
    entries = [
        row_data(
            entry,
            record=list(record_refs[entry.record_id]),
            school=unit_code(entry.school),
            school_year=entry.school_year.start_year,
        )
        for entry in IntakeEntry.objects.filter(record_id__in=record_refs)
        .select_related("school", "school_year")
        .order_by("pk")
    ]
    data = {
        "format": SEED_FORMAT,
        "version": SEED_VERSION,
        "unit": unit_code(unit),
        "schools": [unit_code(school) for school in schools],
        "county": row_data(county),
        "units": [_unit_data(one) for one in sorted(units, key=lambda u: (order[u.kind], u.pk))],
        "school_years": [
            row_data(year, semesters=[row_data(s) for s in year.semesters.all()])
            for year in years.order_by("start_year")
        ],
        "calendar_days": [
            row_data(day) for day in CalendarDay.objects.filter(county=county).order_by("date")
        ],
        "catchments": [
            row_data(area, school=unit_code(area.school))
            for area in Catchment.objects.filter(school__in=schools).select_related("school")
        ],
        # Sequences are counters, not people: every prefix of the county travels, so a
        # number the laptop gives never repeats one the county gave.
        "number_sequences": [
            row_data(sequence) for sequence in NumberSequence.objects.order_by("prefix")
        ],
        "students": student_rows,
        "change_requests": requests,
        "intake_entries": entries,
    }
    counts = {
        "students": len(student_rows),
        "records": len(record_refs),
        "photos": sum(1 for name in files if name.startswith("photos/")),
        "photos_missing": missing,
        "change_requests": len(requests),
        "intake_entries": len(entries),
        "schools": len(schools),
    }
    return SeedContent(data=data, files=files, counts=counts)


def _requests(schools, student_refs, record_refs, files) -> list[dict[str, Any]]:
    """The schools' pending requests whose student the seed carries, with steps and scans."""
    found = (
        ChangeRequest.objects.filter(
            from_school__in=schools,
            state__in=PENDING_STATES,
            student_id__in=list(student_refs),
        )
        .select_related("from_school__county", "to_school__county")
        .prefetch_related("evidence", "steps__unit__county")
        .order_by("pk")
    )
    rows = []
    for request in found:
        if request.record_id not in record_refs or (
            request.new_record_id and request.new_record_id not in record_refs
        ):
            continue
        evidence = []
        for position, item in enumerate(request.evidence.all(), start=1):
            content = _read(item.file)
            if content is None:
                continue
            name = evidence_member(request, position, item.document, item.content_type)
            files[name] = content
            evidence.append(row_data(item, file=name))
        scan = None
        if request.signed_scan:
            content = _read(request.signed_scan)
            if content is not None:
                scan = signed_scan_member(request)
                files[scan] = content
        rows.append(
            row_data(
                request,
                student=student_refs[request.student_id],
                record=list(record_refs[request.record_id]),
                new_record=list(record_refs[request.new_record_id])
                if request.new_record_id
                else None,
                from_school=unit_code(request.from_school),
                to_school=unit_code(request.to_school) if request.to_school else None,
                signed_scan=scan,
                steps=[
                    row_data(step, unit=unit_code(step.unit) if step.unit else None)
                    for step in request.steps.all()
                ],
                evidence=evidence,
            )
        )
    return rows


# --- reading (the laptop) ----------------------------------------------------------------------


@dataclasses.dataclass
class SeedRecord:
    record: StudentRecord
    data: dict[str, Any]
    school: str
    placements: list[tuple[Placement, int, dict[str, Any]]]


@dataclasses.dataclass
class SeedStudent:
    student: Student
    data: dict[str, Any]
    photo: str | None
    family: list[FamilyMember]
    records: list[SeedRecord]
    numbers: list[tuple[StudentNumber, int | None, dict[str, Any]]]


@dataclasses.dataclass
class SeedRequest:
    request: ChangeRequest
    data: dict[str, Any]
    student: int
    record: tuple[int, int]
    new_record: tuple[int, int] | None
    from_school: str
    to_school: str | None
    signed_scan: str | None
    steps: list[tuple[RequestStep, str | None, dict[str, Any]]]
    evidence: list[tuple[Evidence, str, dict[str, Any]]]


@dataclasses.dataclass
class SeedEntry:
    entry: IntakeEntry
    data: dict[str, Any]
    record: tuple[int, int]
    school: str
    school_year: int


@dataclasses.dataclass
class Seed:
    """A verified seed, every row built (not saved) and every link checked."""

    unit: str
    schools: list[str]
    county: County
    units: list[tuple[Unit, str, str | None]]
    years: list[tuple[SchoolYear, list[Semester]]]
    days: list[CalendarDay]
    catchments: list[tuple[Catchment, str]]
    sequences: list[NumberSequence]
    students: list[SeedStudent]
    requests: list[SeedRequest]
    entries: list[SeedEntry]
    files: dict[str, bytes]


def _list(content: dict[str, Any], key: str, rows: _Rows, where: str = "") -> list[Any]:
    """A list of rows (objects), or the refusal naming where it is."""
    value = content.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise rows.fail(f"{where}.{key}" if where else key)
    return value


def _ref(value: Any, sizes: list[int], rows: _Rows, where: str) -> tuple[int, int]:
    """A record named by [student position, record position]: both must exist."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        and 0 <= value[0] < len(sizes)
        and 0 <= value[1] < sizes[value[0]]
    ):
        return value[0], value[1]
    raise rows.fail(where, "record")


def parse_seed(package: VerifiedPackage) -> Seed:
    """Read students.json of a verified students package; refuse it naming the first row
    that does not fit."""
    content = package.json_member(STUDENTS_MEMBER)
    if not isinstance(content, dict) or content.get("format") != SEED_FORMAT:
        raise PackageRefused("bad_member", _("The package's students.json cannot be read."))
    if content.get("version") != SEED_VERSION:
        raise PackageRefused(
            "unknown_version",
            _(
                "The package's students have format version %(version)s, which this "
                "installation cannot read."
            )
            % {"version": content.get("version")},
        )
    rows = _Rows(_("row"))
    files = package.members
    county = rows.build(County, content.get("county"), "county")
    units = []
    codes: set[str] = set()
    for position, data in enumerate(_list(content, "units", rows)):
        where = f"units[{position}]"
        unit = rows.build(Unit, data, where)
        code, parent = str(data.get("code") or ""), data.get("parent")
        if not code or code in codes or (parent is not None and parent not in codes):
            raise rows.fail(where, "code")
        codes.add(code)
        units.append((unit, code, parent))
    unit_code_ = str(content.get("unit") or "")
    schools = content.get("schools")
    if (
        unit_code_ not in codes
        or not isinstance(schools, list)
        or not all(code in codes for code in schools)
    ):
        raise rows.fail("unit")
    years = []
    known_years: set[int] = set()
    for position, data in enumerate(_list(content, "school_years", rows)):
        where = f"school_years[{position}]"
        year = rows.build(SchoolYear, data, where)
        known_years.add(year.start_year)
        semesters = [
            rows.build(Semester, item, f"{where}.semesters")
            for item in _list(data, "semesters", rows, where)
        ]
        years.append((year, semesters))
    days = [
        rows.build(CalendarDay, data, f"calendar_days[{position}]")
        for position, data in enumerate(_list(content, "calendar_days", rows))
    ]
    catchments = []
    for position, data in enumerate(_list(content, "catchments", rows)):
        where = f"catchments[{position}]"
        if data.get("school") not in codes:
            raise rows.fail(where, "school")
        catchments.append((rows.build(Catchment, data, where), data["school"]))
    sequences = [
        rows.build(NumberSequence, data, f"number_sequences[{position}]")
        for position, data in enumerate(_list(content, "number_sequences", rows))
    ]
    students = [
        _student(position, data, rows, codes, known_years, files)
        for position, data in enumerate(_list(content, "students", rows))
    ]
    sizes = [len(student.records) for student in students]
    requests = [
        _request(position, data, rows, codes, sizes, files)
        for position, data in enumerate(_list(content, "change_requests", rows))
    ]
    entries = []
    for position, data in enumerate(_list(content, "intake_entries", rows)):
        where = f"intake_entries[{position}]"
        entry = rows.build(IntakeEntry, data, where)
        if data.get("school") not in codes or data.get("school_year") not in known_years:
            raise rows.fail(where, "school")
        entries.append(
            SeedEntry(
                entry,
                data,
                _ref(data.get("record"), sizes, rows, where),
                data["school"],
                data["school_year"],
            )
        )
    return Seed(
        unit=unit_code_,
        schools=[str(code) for code in schools],
        county=county,
        units=units,
        years=years,
        days=days,
        catchments=catchments,
        sequences=sequences,
        students=students,
        requests=requests,
        entries=entries,
        files=files,
    )


def _student(position, data, rows: _Rows, codes, known_years, files) -> SeedStudent:
    where = f"students[{position}]"
    student = rows.build(Student, data, where)
    photo = data.get("photo")
    if photo is not None and photo not in files:
        raise rows.fail(where, "photo")
    family = [
        rows.build(FamilyMember, item, f"{where}.family")
        for item in _list(data, "family", rows, where)
    ]
    records = []
    for index, item in enumerate(_list(data, "records", rows, where)):
        place = f"{where}.records[{index}]"
        record = rows.build(StudentRecord, item, place)
        if item.get("school") not in codes:
            raise rows.fail(place, "school")
        placements = []
        for placement_data in _list(item, "placements", rows, place):
            if placement_data.get("school_year") not in known_years:
                raise rows.fail(place, "school_year")
            placements.append(
                (
                    rows.build(Placement, placement_data, place),
                    placement_data["school_year"],
                    placement_data,
                )
            )
        records.append(SeedRecord(record, item, item["school"], placements))
    numbers = []
    for item in _list(data, "numbers", rows, where):
        link = item.get("record")
        if link is not None and not (isinstance(link, int) and 0 <= link < len(records)):
            raise rows.fail(where, "numbers")
        numbers.append((rows.build(StudentNumber, item, f"{where}.numbers"), link, item))
    return SeedStudent(student, data, photo, family, records, numbers)


def _request(position, data, rows: _Rows, codes, sizes, files) -> SeedRequest:
    where = f"change_requests[{position}]"
    request = rows.build(ChangeRequest, data, where)
    student = data.get("student")
    if not isinstance(student, int) or not 0 <= student < len(sizes):
        raise rows.fail(where, "student")
    record = _ref(data.get("record"), sizes, rows, where)
    new_record = (
        _ref(data.get("new_record"), sizes, rows, where) if data.get("new_record") else None
    )
    if record[0] != student or data.get("from_school") not in codes:
        raise rows.fail(where, "from_school")
    to_school = data.get("to_school")
    if to_school is not None and to_school not in codes:
        raise rows.fail(where, "to_school")
    scan = data.get("signed_scan")
    if scan is not None and scan not in files:
        raise rows.fail(where, "signed_scan")
    steps = []
    for item in _list(data, "steps", rows, where):
        unit = item.get("unit")
        if unit is not None and unit not in codes:
            raise rows.fail(where, "steps")
        steps.append((rows.build(RequestStep, item, f"{where}.steps"), unit, item))
    evidence = []
    for item in _list(data, "evidence", rows, where):
        name = item.get("file")
        if name not in files:
            raise rows.fail(where, "evidence")
        evidence.append((rows.build(Evidence, item, f"{where}.evidence"), name, item))
    return SeedRequest(
        request=request,
        data=data,
        student=student,
        record=record,
        new_record=new_record,
        from_school=data["from_school"],
        to_school=to_school,
        signed_scan=scan,
        steps=steps,
        evidence=evidence,
    )
