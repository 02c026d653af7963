"""Every change to students and records: `do_<verb>_<noun>(..., *, actor)`.

Each function checks its rule (raising RuleViolation with a sentence that names the
field), writes the change and its audit event in one transaction. Values come from
students/validation.py already cleaned; these functions decide what the registry allows:
one open record per person (N11), the lock (N5), numbers that never repeat.
"""

import datetime
import functools
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import changes, record_event
from xueji.core import reads
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.core.scope import scope_for
from xueji.orgs.models import Stage, Unit
from xueji.students import numbers, rules
from xueji.students.form_items import BY_KEY, FAMILY_1, FAMILY_2, ITEMS, PLACEMENT, RECORD, STUDENT
from xueji.students.models import (
    OPEN_STATUSES,
    DuplicateCandidate,
    FamilyMember,
    NumberKind,
    Placement,
    RecordStage,
    Status,
    Student,
    StudentNumber,
    StudentRecord,
)
from xueji.students.pinyin import pinyin_keys

# Item keys whose values are not stored on the row directly.
NOT_ON_ROW = {"photo", "provincial_number"}


def _label(field: str, where: str = STUDENT) -> str:
    for item in ITEMS:
        if item.where == where and item.field == field:
            return str(item.label)
    return field


def _require_edit(actor, school: Unit) -> None:
    if actor is None:
        return
    if not scope_for(actor).can_edit_school(school):
        raise PermissionDenied(
            _("You may not change the students of %(school)s.") % {"school": school.name}
        )


MODELS = {STUDENT: Student, RECORD: StudentRecord, PLACEMENT: Placement}


def _split(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Item key → value, sorted into the rows they are stored on. A blank value of a
    yes/no, number or date item is left out, so the model's default applies."""
    parts: dict[str, dict[str, Any]] = {
        STUDENT: {},
        RECORD: {},
        PLACEMENT: {},
        FAMILY_1: {},
        FAMILY_2: {},
    }
    for key, value in values.items():
        item = BY_KEY.get(key)
        if item is None or key in NOT_ON_ROW:
            continue
        model = MODELS.get(item.where, FamilyMember)
        if value == "" and not isinstance(model._meta.get_field(item.field), models.CharField):
            continue
        parts[item.where][item.field] = value
    return parts


def _apply_pinyin(student: Student) -> None:
    student.pinyin_key, student.initials_key = pinyin_keys(student.name)


def _open_record(student: Student) -> StudentRecord | None:
    return student.records.filter(status__in=OPEN_STATUSES).select_related("school").first()


def _double_registration(student: Student, record: StudentRecord) -> RuleViolation:
    return RuleViolation(
        _(
            "ID number: this student already holds a record at %(school)s (%(status)s); "
            "a second registration is not allowed."
        )
        % {"school": record.school.name, "status": record.get_status_display()},
        field="id_number",
    )


# --- Registration (N11) ----------------------------------------------------------------------


@dataclass
class Registration:
    student: Student
    record: StudentRecord
    duplicates: list[DuplicateCandidate]
    reused_student: bool


def _candidate_matches(student: Student) -> list[Student]:
    """Persons who may be this one: same sex and birth date, and the same name or the same
    pinyin (homophone typos), holding an open record. Only where one side has no ID
    number: two different ID numbers are two people."""
    found = (
        Student.objects.filter(sex=student.sex, birth_date=student.birth_date)
        .filter(Q(name=student.name) | Q(pinyin_key=student.pinyin_key))
        .filter(records__status__in=OPEN_STATUSES)
        .exclude(pk=student.pk)
        .distinct()
    )
    if student.id_number:
        found = found.filter(id_number="")
    return list(found)


def _wait_for_matching_registrations(student: Student) -> None:
    """Two registrations of one person at the same moment must not both miss each other:
    the later one waits here until the earlier commits, then finds it and is held for the
    bureau (N11). Matches share sex and birth date, so those are the lock's key; the lock
    ends with the transaction. SQLite lets one writer in at a time, so it needs none."""
    if connection.vendor != "postgresql":
        return
    key = f"xueji.register:{student.sex}:{student.birth_date:%Y%m%d}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def _stage_and_grade(school: Unit, grade: int) -> str:
    problem = rules.grade_problem(school.stage, grade)
    if problem:
        raise RuleViolation(f"{_label('grade', PLACEMENT)}：{problem}", field="grade")
    if school.stage == Stage.PRIMARY:
        return RecordStage.PRIMARY
    if school.stage == Stage.JUNIOR:
        return RecordStage.JUNIOR
    return rules.stage_for_grade(grade)


def do_register_student(
    values: dict[str, Any],
    *,
    actor,
    school: Unit,
    school_year: SchoolYear,
    status: str = Status.PENDING,
    entry_date: datetime.date | None = None,
    entry_change: str = "11",
) -> Registration:
    """Register a student at a school: a new person, or a known person's new record.

    A person with an open record anywhere is refused, naming the school that holds it.
    A person without an ID number who looks like someone already registered is held for
    the bureau's decision (a DuplicateCandidate), never silently accepted.
    """
    check_registration(actor, school, status)
    # Values come cleaned by validation.validate_student; a caller that skipped it must not
    # leave a nameless person behind.
    for key in ("name", "sex", "birth_date", "grade"):
        if not values.get(key):
            raise RuleViolation(
                _("%(label)s: this item is required.") % {"label": BY_KEY[key].label}, field=key
            )
    parts = _split(values)
    grade = int(parts[PLACEMENT].get("grade") or 0)
    stage = _stage_and_grade(school, grade)
    try:
        with transaction.atomic():
            return _register(
                parts, values, actor, school, school_year, status, stage, entry_date, entry_change
            )
    except IntegrityError as error:
        # A parallel registration of the same person won the race: the constraints held.
        raise registered_meanwhile() from error


def check_registration(actor, school: Unit, status: str) -> None:
    """What a registration needs before its rows are looked at (the single path and
    students/bulk.py): the actor may edit the school, the school is open, the status
    is one a registration starts in."""
    _require_edit(actor, school)
    if not school.is_school or not school.is_active:
        raise RuleViolation(_("School: choose an open school."), field="school")
    if status not in (Status.PENDING, Status.ENROLLED):
        raise RuleViolation(_("A registration starts pending or at school."), field="status")


def registered_meanwhile() -> RuleViolation:
    return RuleViolation(
        _(
            "ID number: this student was registered at the same moment elsewhere; "
            "search for them before registering again."
        ),
        field="id_number",
    )


def _register(parts, values, actor, school, school_year, status, stage, entry_date, entry_change):
    person = parts[STUDENT]
    reused = False
    student = None
    if person.get("id_number"):
        student = (
            Student.objects.select_for_update()
            .filter(id_type=person.get("id_type", "1"), id_number=person["id_number"])
            .exclude(id_number="")  # lets SQLite use the partial unique index
            .first()
        )
    if student is not None:
        open_record = _open_record(student)
        if open_record is not None:
            raise _double_registration(student, open_record)
        reused = True
    else:
        student = Student(**person, created_by=actor)
        _apply_pinyin(student)
        student.save()
        for position, where in ((1, FAMILY_1), (2, FAMILY_2)):
            if parts[where].get("name"):
                FamilyMember.objects.create(student=student, position=position, **parts[where])
    record = StudentRecord.objects.create(
        student=student,
        school=school,
        stage=stage,
        status=status,
        entry_date=entry_date or timezone.localdate(),
        entry_change=entry_change,
        created_by=actor,
        **{k: v for k, v in parts[RECORD].items() if v not in (None, "")},
    )
    Placement.objects.create(
        record=record,
        school_year=school_year,
        grade=int(parts[PLACEMENT]["grade"]),
        class_name=str(parts[PLACEMENT].get("class_name", "")),
        seat_number=str(parts[PLACEMENT].get("seat_number") or ""),
    )
    number = values.get("provincial_number")
    if number:
        _give_number(student, record, NumberKind.PROVINCIAL, str(number))
    duplicates = []
    if not reused:
        _wait_for_matching_registrations(student)
        for match in _candidate_matches(student):
            reason = "name" if match.name == student.name else "pinyin"
            duplicates.append(
                DuplicateCandidate.objects.create(existing=match, newer=student, reason=reason)
            )
    record_event(
        "student.registered",
        actor=actor,
        target=student,
        unit=school if actor is None else None,
        data={
            "record": record.pk,
            "school": school.school_code,
            "status": status,
            "known_person": reused,
            "held_as_duplicate_of": [d.existing_id for d in duplicates],
        },
    )
    return Registration(student, record, duplicates, reused)


# --- Editing and the lock (N5) -----------------------------------------------------------------


def _locked(student: Student) -> bool:
    return student.records.filter(status__in=OPEN_STATUSES, locked_at__isnull=False).exists()


def _refuse_locked(fields: list[str], where: str = STUDENT) -> None:
    if fields:
        raise RuleViolation(
            _(
                "%(label)s: the record has been submitted and is locked; only a correction "
                "request can change it."
            )
            % {"label": _label(fields[0], where)},
            field=fields[0],
        )


def do_update_student(student: Student, values: dict[str, Any], *, actor) -> Student:
    """Change a student's items (validated, partial): the person, the family members, the
    open record's enrolment items and this year's grade and class. Items that the
    submission locked are refused; unchanged values are ignored."""
    with transaction.atomic():
        student = Student.objects.select_for_update().get(pk=student.pk)
        record = _open_record(student)
        if record is None:
            raise RuleViolation(_("This student has no open record to edit."))
        _require_edit(actor, record.school)
        parts = _split(values)
        person = _changed(student, parts[STUDENT])
        enrolment = _changed(record, parts[RECORD])
        members = {
            position: (member, _changed(member, parts[where]))
            for position, where in ((1, FAMILY_1), (2, FAMILY_2))
            if parts[where]
            for member in [_family_member(student, position)]
        }
        if record.is_locked:
            _refuse_locked(rules.locked_fields_touched(person))
            _refuse_locked(rules.locked_fields_touched((), enrolment), RECORD)
            touched = [
                field
                for _member, diff in members.values()
                for field in diff
                if field in rules.LOCKED_FAMILY_FIELDS
            ]
            _refuse_locked(touched, FAMILY_1)
        if "id_number" in person or "id_type" in person:
            _refuse_taken_id_number(student, person)
        data: dict[str, Any] = {}
        if person:
            data["changes"] = changes({k: getattr(student, k) for k in person}, person)
            for field, value in person.items():
                setattr(student, field, value)
            if "name" in person:
                _apply_pinyin(student)
            student.save()
        if enrolment:
            data["record"] = changes({k: getattr(record, k) for k in enrolment}, enrolment)
            for field, value in enrolment.items():
                setattr(record, field, value)
            record.save(update_fields=list(enrolment))
        family = {}
        for position, (member, diff) in members.items():
            if diff:
                family[str(position)] = changes({k: getattr(member, k) for k in diff}, diff)
                for field, value in diff.items():
                    setattr(member, field, value)
                member.save()
        if family:
            data["family"] = family
            if not student.family.filter(is_guardian=True).exists():
                raise RuleViolation(
                    _("Guardian: at least one of the two family members must be a guardian."),
                    field="family1.is_guardian",
                )
        if data:
            record_event("student.updated", actor=actor, target=student, data=data)
        if parts[PLACEMENT]:
            _update_current_placement(record, parts[PLACEMENT], actor=actor)
    return student


def _changed(row, wanted: dict[str, Any]) -> dict[str, Any]:
    return {field: value for field, value in wanted.items() if getattr(row, field) != value}


def _family_member(student: Student, position: int) -> FamilyMember:
    member = student.family.filter(position=position).first()
    return member or FamilyMember(student=student, position=position, name="", relation="9")


def _refuse_taken_id_number(student: Student, person: dict[str, Any]) -> None:
    other = (
        Student.objects.filter(
            id_type=person.get("id_type", student.id_type),
            id_number=person.get("id_number", student.id_number),
        )
        .exclude(pk=student.pk)
        .exclude(id_number="")
        .first()
    )
    if other is not None:
        holder = _open_record(other)
        raise RuleViolation(
            _("ID number: it belongs to another student (%(where)s).")
            % {"where": holder.school.name if holder else other.name},
            field="id_number",
        )


def _update_current_placement(record: StudentRecord, wanted: dict[str, Any], *, actor) -> None:
    """Grade and class edited on the student form change this school year's placement."""
    from xueji.core.calendar import current_school_year

    year = current_school_year(record.school.county)
    if year is None:
        raise RuleViolation(_("No school year is open yet."), field="grade")
    placement = record.placements.filter(school_year=year).first()
    grade = int(wanted.get("grade") or (placement.grade if placement else 0))
    class_name = str(wanted.get("class_name", placement.class_name if placement else ""))
    seat = str(wanted.get("seat_number", placement.seat_number if placement else "") or "")
    if placement and (placement.grade, placement.class_name, placement.seat_number) == (
        grade,
        class_name,
        seat,
    ):
        return
    do_set_placement(
        record, actor=actor, school_year=year, grade=grade, class_name=class_name, seat_number=seat
    )


def do_set_placement(
    record: StudentRecord,
    *,
    actor,
    school_year: SchoolYear,
    grade: int,
    class_name: str,
    seat_number: str = "",
) -> Placement:
    """Grade and class for a school year: the school's own act, audited (not locked)."""
    _require_edit(actor, record.school)
    _stage_and_grade(record.school, grade)
    with transaction.atomic():
        placement, created = Placement.objects.select_for_update().get_or_create(
            record=record,
            school_year=school_year,
            defaults={"grade": grade, "class_name": class_name, "seat_number": seat_number},
        )
        before = {
            "grade": placement.grade,
            "class_name": placement.class_name,
            "seat_number": placement.seat_number,
        }
        after = {"grade": grade, "class_name": class_name, "seat_number": seat_number}
        if not created:
            for field, value in after.items():
                setattr(placement, field, value)
            placement.save()
        diff = changes({} if created else before, after)
        if diff:
            record_event(
                "record.placed",
                actor=actor,
                target=record,
                data={"school_year": school_year.start_year, "changes": diff},
            )
    return placement


def do_lock_record(record: StudentRecord, *, actor) -> StudentRecord:
    """N5: lock the reported fields (the intake flow calls this when a school submits)."""
    _require_edit(actor, record.school)
    with transaction.atomic():
        record = StudentRecord.objects.select_for_update().get(pk=record.pk)
        if record.is_locked:
            return record
        if not record.is_open:
            raise RuleViolation(_("A closed record cannot be submitted."))
        record.locked_at = timezone.now()
        record.locked_by = actor
        record.save(update_fields=["locked_at", "locked_by"])
        record_event(
            "record.locked", actor=actor, target=record, data={"student": record.student_id}
        )
    return record


def _reviews(scope, school: Unit) -> bool:
    """The bureau reviews its county; a central school the schools it supervises, not its
    own pupils; a school never reviews itself."""
    if not scope.may("students.edit") or not scope.can_see(school):
        return False
    if scope.level == scope.COUNTY:
        return True
    return scope.level == scope.TOWNSHIP and school.pk != scope.unit.pk


def do_reopen_record(record: StudentRecord, reason: str, *, actor) -> StudentRecord:
    """A reviewer returns a submitted record: it opens again for the school, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Reason: say why the record is returned."), field="reason")
    if actor is not None and not _reviews(scope_for(actor), record.school):
        raise PermissionDenied(_("Only the reviewing unit may return a submitted record."))
    with transaction.atomic():
        record = StudentRecord.objects.select_for_update().get(pk=record.pk)
        if not record.is_locked:
            raise RuleViolation(_("This record is not locked."))
        record.locked_at = None
        record.locked_by = None
        record.save(update_fields=["locked_at", "locked_by"])
        record_event("record.reopened", actor=actor, target=record, data={"reason": reason[:500]})
    return record


# --- Numbers ------------------------------------------------------------------------------------


def number_taken(value: str) -> RuleViolation:
    return RuleViolation(
        _("Provincial number: %(number)s has been given to another student before.")
        % {"number": value},
        field="provincial_number",
    )


def _give_number(student: Student, record: StudentRecord | None, kind: str, value: str) -> None:
    if StudentNumber.objects.filter(kind=kind, value=value).exists():
        raise number_taken(value)
    StudentNumber.objects.create(student=student, record=record, kind=kind, value=value)
    if kind == NumberKind.PROVINCIAL and record is not None:
        record.provincial_number = value
        record.save(update_fields=["provincial_number"])


def _number_facts(record: StudentRecord) -> numbers.NumberFacts:
    school = record.school
    township = school.parent
    entry_year = (
        int(record.entry_year_month[:4]) if record.entry_year_month else record.entry_date.year
    )
    return numbers.NumberFacts(
        entry_year=entry_year,
        county_code=school.county.division_code,
        township_ordinal=township.ordinal if township else None,
        school_ordinal=school.ordinal,
        school_in_county=school.county_ordinal,
    )


def provincial_prefix(record: StudentRecord) -> tuple[str, int]:
    """The prefix a record's provincial number counts under, and the sequence's width
    (the county's template for the record's stage; students/demo_students.py too)."""
    county = record.school.county
    template = (
        county.primary_number_template
        if record.stage == RecordStage.PRIMARY
        else county.junior_number_template
    )
    prefix = numbers.number_prefix(template, _number_facts(record))
    _head, width = numbers.template_parts(template)
    return prefix, width


def assign_provincial_number(record: StudentRecord, *, actor) -> str:
    """Give the record its provincial number from the county's template (in a transaction)."""
    prefix, width = provincial_prefix(record)
    value = numbers.render_number(prefix, numbers.next_sequence(prefix), width)
    _give_number(record.student, record, NumberKind.PROVINCIAL, value)
    return value


def provincial_numbers(records: list[StudentRecord]) -> list[str]:
    """The provincial numbers of many records not yet written (an approval session's
    transfers), in the records' order: assign_provincial_number in set form. Each prefix's
    sequences are taken as one block (numbers.next_sequences, prefixes in sorted order),
    and a number given before is refused as the single path refuses it. The caller writes
    the numbers on the records and as StudentNumber rows, in its transaction."""
    prefixes = [provincial_prefix(record) for record in records]
    wanted: dict[str, int] = {}
    for prefix, _width in prefixes:
        wanted[prefix] = wanted.get(prefix, 0) + 1
    blocks = {
        prefix: iter(numbers.next_sequences(prefix, wanted[prefix])) for prefix in sorted(wanted)
    }
    values = [
        numbers.render_number(prefix, next(blocks[prefix]), width) for prefix, width in prefixes
    ]
    for start in range(0, len(values), 900):  # SQLite allows 999 parameters per statement
        taken = (
            StudentNumber.objects.filter(
                kind=NumberKind.PROVINCIAL, value__in=values[start : start + 900]
            )
            .values_list("value", flat=True)
            .first()
        )
        if taken is not None:
            raise number_taken(taken)
    return values


def assign_national_number(
    student: Student, record: StudentRecord, *, identity_confirmed: bool
) -> str:
    """G from a confirmed ID number; L until identity is confirmed; J without a usable ID."""
    division = record.school.county.division_code
    if student.id_type == "1" and student.id_number and identity_confirmed:
        value = numbers.g_number(student.id_number)
    elif student.id_type == "1" and student.id_number:
        for _attempt in range(20):
            value = numbers.l_number(division, student.birth_date)
            if not StudentNumber.objects.filter(kind=NumberKind.NATIONAL, value=value).exists():
                break
    else:
        prefix = f"J{division}{student.birth_date:%Y%m%d}"
        value = numbers.j_number(division, student.birth_date, numbers.next_sequence(prefix))
    if student.national_number:
        StudentNumber.objects.filter(
            student=student, kind=NumberKind.NATIONAL, value=student.national_number
        ).update(retired_at=timezone.now())
    StudentNumber.objects.create(
        student=student, record=record, kind=NumberKind.NATIONAL, value=value
    )
    student.national_number = value
    student.save(update_fields=["national_number"])
    return value


def do_assign_numbers(
    record: StudentRecord, *, actor, identity_confirmed: bool = True
) -> StudentRecord:
    """Give a record its provincial number and its student a national number, where
    missing (N3). Parallel callers never get the same number."""
    if actor is not None:
        scope = scope_for(actor)
        if not scope.may("students.edit") or not scope.can_see(record.school):
            raise PermissionDenied(
                _("You may not assign numbers at %(school)s.") % {"school": record.school.name}
            )
    with transaction.atomic():
        record = (
            StudentRecord.objects.select_for_update(of=("self",))
            .select_related("school__county", "school__parent", "student")
            .get(pk=record.pk)
        )
        if not record.is_open:
            raise RuleViolation(_("A closed record gets no new number."))
        given = {}
        if not record.provincial_number:
            given["provincial_number"] = assign_provincial_number(record, actor=actor)
        student = record.student
        wants_upgrade = (
            student.national_number_kind == "L" and identity_confirmed and student.id_number
        )
        if not student.national_number or wants_upgrade:
            given["national_number"] = assign_national_number(
                student, record, identity_confirmed=identity_confirmed
            )
        if given:
            record_event("record.numbered", actor=actor, target=record, data=given)
    return record


def do_set_number_templates(county, *, actor, primary: str, junior: str):
    """The province's coding rule for provincial numbers, as the bureau configures it
    (DOMAIN.md): numbers already given keep their value; new ones follow the template."""
    if actor is not None:
        scope = scope_for(actor)
        scope.require("setup.manage")
        if scope.county() != county:
            raise PermissionDenied(_("This county is outside your scope."))
    primary, junior = primary.strip(), junior.strip()
    for field, template in (
        ("primary_number_template", primary),
        ("junior_number_template", junior),
    ):
        problem = numbers.template_problem(template)
        if problem:
            raise RuleViolation(problem, field=field)
    with transaction.atomic():
        before = {
            "primary_number_template": county.primary_number_template,
            "junior_number_template": county.junior_number_template,
        }
        after = {"primary_number_template": primary, "junior_number_template": junior}
        diff = changes(before, after)
        if diff:
            county.primary_number_template = primary
            county.junior_number_template = junior
            county.save(update_fields=list(after))
            record_event(
                "county.number_templates_set", actor=actor, target=county, data={"changes": diff}
            )
    return county


# --- Revealing and duplicates --------------------------------------------------------------------

REVEALABLE = {
    "id_number": ("id_number",),
    "address": ("current_address", "mailing_address", "home_address"),
    "family": ("family",),
}


def do_reveal(student: Student, what: str, *, actor) -> dict[str, Any]:
    """Show a masked value in full: an audited act (who saw whose ID number, and when)."""
    scope = scope_for(actor)
    if not scope.may("students.reveal"):
        raise PermissionDenied(_("Your role may not reveal ID numbers or addresses."))
    student = scope.get_student(student.pk)
    if what not in REVEALABLE:
        raise RuleViolation(_("Unknown item to reveal."), field="what")
    if what == "family":
        values: dict[str, Any] = {
            f"family{m.position}": {
                "id_number": m.id_number,
                "current_address": m.current_address,
                "hukou_address": m.hukou_address,
            }
            for m in student.family.all()
        }
    else:
        values = {field: getattr(student, field) for field in REVEALABLE[what]}
    with transaction.atomic():
        record_event("student.revealed", actor=actor, target=student, data={"what": what})
    return values


def do_open_for_editing(student: Student, *, actor) -> None:
    """The edit form shows ID numbers and addresses in full, since they are edited there:
    opening it is an audited reveal of everything masked, like the "show" buttons."""
    scope = scope_for(actor)
    if not scope.may("students.reveal"):
        raise PermissionDenied(_("Your role may not reveal ID numbers or addresses."))
    student = scope.get_student(student.pk)
    with transaction.atomic():
        record_event("student.revealed", actor=actor, target=student, data={"what": "edit"})


def do_decide_duplicate(
    candidate: DuplicateCandidate, decision: str, *, actor
) -> DuplicateCandidate:
    """The bureau decides a candidate double registration (N11): "different" people, or
    "withdraw" the newer registration."""
    scope = scope_for(actor)
    if not scope.may("duplicates.decide"):
        raise PermissionDenied(_("Only the bureau decides double registrations."))
    if decision not in ("different", "withdraw"):
        raise RuleViolation(
            _("Decision: choose 'not the same person' or 'withdraw'."), field="decision"
        )
    with transaction.atomic():
        candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
        if candidate.state != DuplicateCandidate.State.OPEN:
            raise RuleViolation(_("This pair has already been decided."))
        newer_record = _open_record(candidate.newer)
        if newer_record is not None and not scope.can_see(newer_record.school):
            raise PermissionDenied(_("This registration is outside your scope."))
        if decision == "different":
            candidate.state = DuplicateCandidate.State.DIFFERENT
        else:
            candidate.state = DuplicateCandidate.State.WITHDRAWN
            if newer_record is not None:
                newer_record.status = Status.LEFT_OTHER
                newer_record.exit_date = timezone.localdate()
                newer_record.exit_change = "39"
                newer_record.save(update_fields=["status", "exit_date", "exit_change"])
        candidate.decided_at = timezone.now()
        candidate.decided_by = actor
        candidate.save()
        record_event(
            "duplicate.decided",
            actor=actor,
            target=candidate.newer,
            data={
                "existing": candidate.existing_id,
                "decision": decision,
                "candidate": candidate.pk,
            },
        )
    return candidate


def has_open_duplicate(student: Student) -> bool:
    """A registration held for the bureau's decision may not go further (issue 5 asks).
    The student list reads the same rule with its rows (search.LISTED, queries.listed);
    keep the three alike. Written out (core/reads.py): the student page asks it on every
    view, and the ORM's compiling of it was most of its time."""
    found = reads.rows(
        _open_duplicate_statement(), [student.pk, student.pk, DuplicateCandidate.State.OPEN]
    )
    return bool(found)


@functools.cache
def _open_duplicate_statement() -> str:
    table = connection.ops.quote_name(DuplicateCandidate._meta.db_table)
    return (
        f"SELECT 1 FROM {table} d WHERE (d.newer_id = %s OR d.existing_id = %s) "
        "AND d.state = %s LIMIT 1"
    )
