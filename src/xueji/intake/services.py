"""Every change to an intake: `do_<verb>_<noun>(..., *, actor)` (N1-N9).

Primary intake: the school enters pupils (do_enter_pupil, or do_collect_imported after an
Excel import) and sends them for review; the reviewing unit (the central school for its
rural primary schools, the bureau for the others) admits or returns them, collects their
photos and numbers them in one action; the school completes and submits (the lock); a
rural school's submission is forwarded by its central school; the bureau accepts.
Junior intake: the junior school collects primary numbers; the bureau converts them.
"""

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event, record_events
from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.core.scope import Scope, scope_for
from xueji.intake import rules
from xueji.intake.models import (
    Catchment,
    EntryState,
    ExceptionKind,
    IntakeEntry,
    JuniorCandidate,
    JuniorDocument,
)
from xueji.orgs.models import Stage, Unit
from xueji.orgs.rules import is_rural_primary
from xueji.students import services as student_services
from xueji.students.models import (
    NumberKind,
    Placement,
    RecordStage,
    Status,
    Student,
    StudentNumber,
    StudentRecord,
)
from xueji.students.photo_services import do_set_photo

# --- Who may act ------------------------------------------------------------------------------


def reviews_school(scope: Scope, school: Unit) -> bool:
    """N2: the central school reviews its rural primary schools; the bureau the others
    (and may act for any school of its county)."""
    if not scope.may("students.edit") or not scope.can_see(school):
        return False
    if scope.level == scope.COUNTY:
        return True
    return scope.level == scope.TOWNSHIP and is_rural_primary(school)


def _require_school(actor, school: Unit) -> None:
    if actor is not None and not scope_for(actor).can_edit_school(school):
        raise PermissionDenied(
            _("You may not change the intake of %(school)s.") % {"school": school.name}
        )


def _require_reviewer(actor, school: Unit) -> None:
    if actor is not None and not reviews_school(scope_for(actor), school):
        raise PermissionDenied(
            _("Only the reviewing unit of %(school)s may do this.") % {"school": school.name}
        )


def _require_bureau(actor) -> None:
    if actor is None:
        return
    scope = scope_for(actor)
    if scope.level != scope.COUNTY or not scope.may("students.edit"):
        raise PermissionDenied(_("Only the bureau may do this."))


def _locked_entries(entries: Iterable[IntakeEntry]) -> list[IntakeEntry]:
    ids = [entry.pk for entry in entries]
    found = list(
        IntakeEntry.objects.select_for_update(of=("self",))
        .select_related("record__student", "school__parent", "school__county", "school_year")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(found) != len(set(ids)):
        raise RuleViolation(_("Some of these pupils are no longer in the intake."))
    return found


def _expect(entries: list[IntakeEntry], *states: str) -> None:
    for entry in entries:
        if entry.state not in states:
            raise RuleViolation(
                _("%(name)s is %(state)s; that step is not possible now.")
                % {"name": entry.record.student.name, "state": entry.get_state_display()}
            )


def _one_school(entries: list[IntakeEntry]) -> Unit:
    schools = {entry.school_id for entry in entries}
    if len(schools) != 1:
        raise RuleViolation(_("Choose pupils of one school at a time."))
    return entries[0].school


def _move(entries: list[IntakeEntry], state: str, action: str, *, actor, data=None) -> None:
    now = timezone.now()
    for entry in entries:
        entry.state = state
        entry.updated_at = now
    IntakeEntry.objects.bulk_update(entries, ["state", "updated_at"])
    record_events(
        [
            (f"intake.{action}", entry.record.student, {"entry": entry.pk, **(data or {})})
            for entry in entries
        ],
        actor=actor,
    )


# --- Entering pupils (N1) ---------------------------------------------------------------------


def catchment_codes(school: Unit) -> list[str]:
    return list(Catchment.objects.filter(school=school).values_list("division_code", flat=True))


def eligibility_of(record: StudentRecord, school_year: SchoolYear) -> list[str]:
    if record.stage != RecordStage.PRIMARY:
        return []
    student = record.student
    return rules.eligibility_problems(
        student.birth_date,
        student.hukou_code,
        cutoff=school_year.entry_age_cutoff,
        entry_age=school_year.entry_age,
        catchment=catchment_codes(record.school),
    )


def _new_entry(record: StudentRecord, school_year: SchoolYear) -> IntakeEntry:
    return IntakeEntry.objects.create(
        record=record,
        school=record.school,
        school_year=school_year,
        stage=record.stage,
        eligibility_problems=eligibility_of(record, school_year),
    )


def do_enter_pupil(values: dict, *, actor, school: Unit, school_year: SchoolYear) -> IntakeEntry:
    """N1: a new pupil entered from the household register joins the school's intake."""
    _require_school(actor, school)
    with transaction.atomic():
        done = student_services.do_register_student(
            values, actor=actor, school=school, school_year=school_year, status=Status.PENDING
        )
        entry = _new_entry(done.record, school_year)
        record_event(
            "intake.entered",
            actor=actor,
            target=done.student,
            data={"entry": entry.pk, "eligibility": entry.eligibility_problems},
        )
    return entry


def do_collect_imported(school: Unit, school_year: SchoolYear, *, actor) -> int:
    """Pupils imported with the Excel template (pending records without an entry) join
    the intake; returns how many joined."""
    _require_school(actor, school)
    with transaction.atomic():
        records = StudentRecord.objects.filter(
            school=school, status=Status.PENDING, intake_entry__isnull=True, entry_change="11"
        ).select_related("student", "school")
        entries = [_new_entry(record, school_year) for record in records]
        if entries:
            record_event(
                "intake.imported_collected",
                actor=actor,
                target=school,
                data={"entries": [entry.pk for entry in entries]},
            )
    return len(entries)


def do_record_exception(entry: IntakeEntry, kind: str, note: str, *, actor) -> IntakeEntry:
    """N1: a pupil who fails eligibility is admitted only as a recorded exception."""
    _require_school(actor, entry.school)
    if kind not in [k for k in ExceptionKind.values if k]:
        raise RuleViolation(
            _("Exception: choose the kind of documented exception."), field="exception_kind"
        )
    if not note.strip():
        raise RuleViolation(
            _("Exception note: say which document proves the exception."), field="exception_note"
        )
    with transaction.atomic():
        [entry] = _locked_entries([entry])
        _expect([entry], EntryState.ENTERED, EntryState.RETURNED, EntryState.AWAITING_REVIEW)
        entry.exception_kind, entry.exception_note = kind, note.strip()[:200]
        entry.save(update_fields=["exception_kind", "exception_note", "updated_at"])
        record_event(
            "intake.exception_recorded",
            actor=actor,
            target=entry.record.student,
            data={"entry": entry.pk, "kind": kind, "note": entry.exception_note},
        )
    return entry


def do_not_admit(entry: IntakeEntry, reason: str, *, actor) -> IntakeEntry:
    """The school decides not to admit a pupil it entered (a five-year-old without a
    documented exception, say): the entry ends as "not admitted" and the pending record
    closes, so the person may be registered elsewhere later."""
    _require_school(actor, entry.school)
    if not reason.strip():
        raise RuleViolation(_("Reason: say why the pupil is not admitted."), field="reason")
    with transaction.atomic():
        [entry] = _locked_entries([entry])
        _expect([entry], EntryState.ENTERED, EntryState.RETURNED, EntryState.AWAITING_REVIEW)
        StudentRecord.objects.filter(pk=entry.record_id).update(
            status=Status.LEFT_OTHER, exit_date=calendar.today(), exit_change="39"
        )
        entry.returned_reason = reason.strip()[:300]
        entry.save(update_fields=["returned_reason", "updated_at"])
        _move(
            [entry],
            EntryState.WITHDRAWN,
            "not_admitted",
            actor=actor,
            data={"reason": reason[:300]},
        )
    return entry


def do_send_for_review(entries: Iterable[IntakeEntry], *, actor) -> int:
    with transaction.atomic():
        found = _locked_entries(entries)
        if not found:
            return 0
        _require_school(actor, _one_school(found))
        _expect(found, EntryState.ENTERED, EntryState.RETURNED)
        for entry in found:
            entry.eligibility_problems = eligibility_of(entry.record, entry.school_year)
        IntakeEntry.objects.bulk_update(found, ["eligibility_problems"])
        _move(found, EntryState.AWAITING_REVIEW, "sent_for_review", actor=actor)
    return len(found)


# --- Review, photos, numbers (N2, N3) ---------------------------------------------------------


def do_review(entries: Iterable[IntakeEntry], *, actor, admit: bool, reason: str = "") -> int:
    """Admit pupils, or return them with a reason, per pupil or in bulk."""
    if not admit and not reason.strip():
        raise RuleViolation(_("Reason: say why the pupil is returned."), field="reason")
    with transaction.atomic():
        found = _locked_entries(entries)
        if not found:
            return 0
        _require_reviewer(actor, _one_school(found))
        _expect(found, EntryState.AWAITING_REVIEW)
        if admit:
            for entry in found:
                if entry.eligibility_problems and not entry.exception_kind:
                    raise RuleViolation(
                        _("%(name)s: %(problem)s Admit only as a recorded exception.")
                        % {
                            "name": entry.record.student.name,
                            "problem": entry.eligibility_problems[0],
                        }
                    )
                if student_services.has_open_duplicate(entry.record.student):
                    raise RuleViolation(
                        _(
                            "%(name)s is held as a possible double registration; "
                            "the bureau decides first."
                        )
                        % {"name": entry.record.student.name}
                    )
        now = timezone.now()
        for entry in found:
            entry.reviewed_by, entry.reviewed_at = actor, now
            entry.returned_reason = "" if admit else reason.strip()[:300]
        IntakeEntry.objects.bulk_update(found, ["reviewed_by", "reviewed_at", "returned_reason"])
        _move(
            found,
            EntryState.ADMITTED if admit else EntryState.RETURNED,
            "admitted" if admit else "returned",
            actor=actor,
            data={} if admit else {"reason": reason.strip()[:300]},
        )
    return len(found)


def do_collect_photo(entry: IntakeEntry, data: bytes, *, actor) -> list[str]:
    """N2: the reviewing unit collects the admitted pupil's photo."""
    _require_reviewer(actor, entry.school)
    with transaction.atomic():
        [entry] = _locked_entries([entry])
        _expect([entry], EntryState.ADMITTED, EntryState.PHOTOGRAPHED, EntryState.NUMBERED)
        warnings = do_set_photo(entry.record.student, data, actor=actor)
        if entry.state == EntryState.ADMITTED:
            _move([entry], EntryState.PHOTOGRAPHED, "photographed", actor=actor)
    return warnings


def do_number(entries: Iterable[IntakeEntry], *, actor, identity_confirmed: bool = True) -> int:
    """N3: provincial and national numbers for the admitted pupils in one action, and the
    batch reported to the bureau (one audit event naming them)."""
    with transaction.atomic():
        found = _locked_entries(entries)
        if not found:
            return 0
        school = _one_school(found)
        _require_reviewer(actor, school)
        _expect(found, EntryState.ADMITTED, EntryState.PHOTOGRAPHED)
        for entry in found:
            student_services.do_assign_numbers(
                entry.record, actor=None, identity_confirmed=identity_confirmed
            )
        _move(found, EntryState.NUMBERED, "numbered", actor=actor)
        record_event(
            "intake.batch_reported",
            actor=actor,
            target=school,
            data={"school": school.school_code, "entries": [entry.pk for entry in found]},
        )
    return len(found)


# --- Submission, forwarding, acceptance (N5) --------------------------------------------------


def do_submit(entries: Iterable[IntakeEntry], *, actor) -> int:
    """The school has completed the records against photo and number and submits them:
    the reported fields lock (N5)."""
    with transaction.atomic():
        found = _locked_entries(entries)
        if not found:
            return 0
        _require_school(actor, _one_school(found))
        _expect(found, EntryState.NUMBERED)
        for entry in found:
            student_services.do_lock_record(entry.record, actor=None)
        _move(found, EntryState.SUBMITTED, "submitted", actor=actor)
    return len(found)


def do_forward(entries: Iterable[IntakeEntry], *, actor) -> int:
    """A central school forwards its rural schools' submissions to the bureau."""
    with transaction.atomic():
        found = _locked_entries(entries)
        if not found:
            return 0
        school = _one_school(found)
        scope = scope_for(actor)
        if scope.level != scope.TOWNSHIP or not reviews_school(scope, school):
            raise PermissionDenied(_("Only the central school forwards these submissions."))
        _expect(found, EntryState.SUBMITTED)
        _move(found, EntryState.FORWARDED, "forwarded", actor=actor)
    return len(found)


def do_accept(entries: Iterable[IntakeEntry], *, actor) -> int:
    """The bureau accepts the records: the pupils are at school (在校)."""
    _require_bureau(actor)
    with transaction.atomic():
        found = _locked_entries(entries)
        if not found:
            return 0
        for entry in found:
            ready = EntryState.FORWARDED if is_rural_primary(entry.school) else EntryState.SUBMITTED
            _expect([entry], ready)
        StudentRecord.objects.filter(pk__in=[e.record_id for e in found]).update(
            status=Status.ENROLLED
        )
        _move(found, EntryState.ACCEPTED, "accepted", actor=actor)
    return len(found)


def do_return_submitted(entries: Iterable[IntakeEntry], reason: str, *, actor) -> int:
    """A central school or the bureau returns submitted records with a reason: they reopen
    for the school to correct, and go up again by a new submission."""
    if not reason.strip():
        raise RuleViolation(_("Reason: say why the records are returned."), field="reason")
    with transaction.atomic():
        found = _locked_entries(entries)
        if not found:
            return 0
        _require_reviewer(actor, _one_school(found))
        _expect(found, EntryState.SUBMITTED, EntryState.FORWARDED)
        for entry in found:
            student_services.do_reopen_record(entry.record, reason, actor=actor)
            entry.returned_reason = reason.strip()[:300]
        IntakeEntry.objects.bulk_update(found, ["returned_reason"])
        _move(
            found,
            EntryState.NUMBERED,
            "submission_returned",
            actor=actor,
            data={"reason": reason[:300]},
        )
    return len(found)


# --- Junior intake (N7, N8) -------------------------------------------------------------------


def _find_primary(typed: str) -> tuple[StudentRecord | None, str]:
    value = typed.strip().upper()
    holders = StudentNumber.objects.filter(value=value, kind=NumberKind.PROVINCIAL).values(
        "record_id"
    )
    record = (
        StudentRecord.objects.filter(pk__in=holders).select_related("school", "student").first()
    )
    if record is None:
        record = (
            StudentRecord.objects.filter(student__id_number=value, stage=RecordStage.PRIMARY)
            .select_related("school", "student")
            .order_by("-entry_date")
            .first()
        )
    if record is None:
        return None, JuniorCandidate.Problem.NOT_FOUND
    if record.stage != RecordStage.PRIMARY:
        return record, JuniorCandidate.Problem.NOT_PRIMARY
    if record.status == Status.GRADUATED:
        return record, JuniorCandidate.Problem.NONE
    if record.is_open:
        # Graduation has not run at that primary school yet: the bureau fixes it there.
        return record, JuniorCandidate.Problem.OPEN_ELSEWHERE
    return record, JuniorCandidate.Problem.NOT_FOUND


def do_collect_junior(
    school: Unit, school_year: SchoolYear, rows: list[tuple[str, str]], *, actor
) -> list[JuniorCandidate]:
    """N7: the receiving junior school enters the primary numbers (or ID numbers) of its
    new students with the document each showed; the system finds each primary record."""
    _require_school(actor, school)
    if school.stage not in (Stage.JUNIOR, Stage.NINE_YEAR):
        raise RuleViolation(_("Only junior and nine-year schools collect primary numbers."))
    made = []
    with transaction.atomic():
        for typed, document in rows:
            typed = typed.strip().upper()
            if not typed:
                continue
            if document not in JuniorDocument.values:
                raise RuleViolation(
                    _("Document: say whether %(number)s showed the certificate or the record card.")
                    % {"number": typed},
                    field="document_shown",
                )
            if JuniorCandidate.objects.filter(school_year=school_year, typed=typed).exists():
                continue
            record, problem = _find_primary(typed)
            if record is not None and not problem:
                taken = JuniorCandidate.objects.filter(
                    school_year=school_year, primary_record=record
                ).exclude(school=school)
                if taken.exists():
                    problem = JuniorCandidate.Problem.TAKEN
            made.append(
                JuniorCandidate.objects.create(
                    school=school,
                    school_year=school_year,
                    typed=typed,
                    document_shown=document,
                    primary_record=record,
                    problem=problem,
                    collected_by=actor,
                )
            )
        record_event(
            "intake.junior_collected",
            actor=actor,
            target=school,
            data={
                "candidates": [c.pk for c in made],
                "problems": sum(1 for c in made if c.problem),
            },
        )
    return made


def do_convert_junior(candidates: Iterable[JuniorCandidate], *, actor) -> int:
    """N8: the bureau assigns junior numbers and converts each primary record: the primary
    stay closes as graduated, a junior stay opens; person, family, photo and history carry
    over because they belong to the student, not to the stay."""
    _require_bureau(actor)
    converted = 0
    with transaction.atomic():
        for candidate in (
            JuniorCandidate.objects.select_for_update(of=("self",))
            .filter(pk__in=[c.pk for c in candidates])
            .select_related(
                "school__county", "school__parent", "primary_record__student", "school_year"
            )
        ):
            if candidate.problem or candidate.junior_record_id or candidate.primary_record is None:
                continue
            primary = candidate.primary_record
            junior = StudentRecord.objects.create(
                student=primary.student,
                school=candidate.school,
                stage=RecordStage.JUNIOR,
                status=Status.ENROLLED,
                entry_date=calendar.today(),
                entry_year_month=f"{candidate.school_year.start_year}09",
                entry_change="11",
                created_by=actor,
            )
            Placement.objects.create(
                record=junior,
                school_year=candidate.school_year,
                grade=candidate.grade,
                class_name=candidate.class_name or "1",
            )
            student_services.assign_provincial_number(junior, actor=actor)
            candidate.junior_record = junior
            candidate.converted_at = timezone.now()
            candidate.save(update_fields=["junior_record", "converted_at"])
            record_event(
                "intake.junior_converted",
                actor=actor,
                target=primary.student,
                data={"primary_record": primary.pk, "junior_record": junior.pk},
            )
            converted += 1
    return converted


# --- The year's end ---------------------------------------------------------------------------


# Values per `IN (...)`: SQLite allows 999 parameters per statement.
IN_CHUNK = 900
# New placements per INSERT (Django lowers it further on SQLite).
YEAR_END_BATCH = 1000


def final_grade(stage: str) -> int:
    """Primary pupils graduate after grade 6 (nine-year schools included: their grade 6
    feeds junior intake); junior students after grade 9."""
    return 6 if stage == RecordStage.PRIMARY else 9


def _year_end_kind(grade: int, stage: str, blocked: bool, already_placed: bool) -> str | None:
    """What the year's end does with one enrolled student: "blocked" by a pending change
    request (a pending request blocks graduation), "graduate" from the final grade,
    "promote" directly (no repeat, no skip), or None when the new year already holds them
    (running it again changes nothing)."""
    if blocked:
        return "blocked"
    if grade >= final_grade(stage):
        return "graduate"
    return None if already_placed else "promote"


def _enrolled_placements(county, from_year: SchoolYear, schools=None):
    placements = Placement.objects.filter(
        school_year=from_year, record__status=Status.ENROLLED, record__school__county=county
    )
    if schools is not None:
        placements = placements.filter(record__school__in=schools)
    return placements


def _blocked_records() -> set[int]:
    from xueji.changes.models import PENDING_STATES, ChangeRequest

    return set(
        ChangeRequest.objects.filter(state__in=PENDING_STATES).values_list("record_id", flat=True)
    )


def year_end_preview(county, from_year: SchoolYear, to_year: SchoolYear, schools=None) -> dict:
    """What the year's end would do: promotions, graduations, and the students it cannot
    move because of a pending change request. The placements come with their record and
    school; the blocked ones also with the student, whom the pages name."""
    blocked_ids = _blocked_records()
    already = set(Placement.objects.filter(school_year=to_year).values_list("record_id", flat=True))
    plan: dict[str, list[Placement]] = {"promote": [], "graduate": [], "blocked": []}
    placements = (
        _enrolled_placements(county, from_year, schools)
        .select_related("record__school")
        .order_by("pk")
    )
    for placement in placements:
        record = placement.record
        kind = _year_end_kind(
            placement.grade, record.stage, record.pk in blocked_ids, record.pk in already
        )
        if kind is not None:
            plan[kind].append(placement)
    students = Student.objects.in_bulk(
        [placement.record.student_id for placement in plan["blocked"]]
    )
    for placement in plan["blocked"]:
        placement.record.student = students[placement.record.student_id]
    return plan


def do_year_end(county, from_year: SchoolYear, to_year: SchoolYear, *, actor) -> dict[str, int]:
    """Promote every non-graduating student directly (no repeat, no skip), graduate the
    final grades, in one audited transaction; running it again changes nothing.

    A county holds a hundred thousand students: the placements are read as plain values
    (not as model objects with their record, school and student), the new year's
    placements go in as bulk inserts and the graduations as a few updates by id."""
    _require_bureau(actor)
    if to_year.start_year != from_year.start_year + 1:
        raise RuleViolation(_("The new school year must follow the old one."), field="to_year")
    with transaction.atomic():
        blocked_ids = _blocked_records()
        already = set(
            Placement.objects.filter(school_year=to_year).values_list("record_id", flat=True)
        )
        rows = _enrolled_placements(county, from_year).values_list(
            "record_id", "grade", "class_name", "record__stage"
        )
        promote: list[Placement] = []
        graduating: list[int] = []
        blocked: list[int] = []
        for record_id, grade, class_name, stage in rows.order_by("pk").iterator(chunk_size=5000):
            kind = _year_end_kind(grade, stage, record_id in blocked_ids, record_id in already)
            if kind == "promote":
                promote.append(
                    Placement(
                        record_id=record_id,
                        school_year=to_year,
                        grade=grade + 1,
                        class_name=class_name,
                    )
                )
            elif kind == "graduate":
                graduating.append(record_id)
            elif kind == "blocked":
                blocked.append(record_id)
        Placement.objects.bulk_create(promote, batch_size=YEAR_END_BATCH, ignore_conflicts=True)
        exit_date = datetime.date(from_year.start_year + 1, 7, 1)
        for start in range(0, len(graduating), IN_CHUNK):
            StudentRecord.objects.filter(
                pk__in=graduating[start : start + IN_CHUNK], status=Status.ENROLLED
            ).update(status=Status.GRADUATED, exit_date=exit_date, exit_change="21")
        counts = {"promoted": len(promote), "graduated": len(graduating), "blocked": len(blocked)}
        record_event(
            "yearend.run",
            actor=actor,
            target=to_year,
            data={**counts, "blocked_records": blocked},
        )
    return counts
