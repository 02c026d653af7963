"""An offline unit's new pupils at the bureau's import (issue 6, N1-N2).

`judge_entry` gives each carried pupil its verdict, with the reason in a sentence:
- new: the registry has never seen the entry (its uid): the import enters the pupil into
  the bureau's intake through the intake services, at the state the entry carries but
  never beyond "awaiting review": the review (N2), photos, numbers and acceptance happen
  here, by the reviewing unit, as for any pupil;
- known: the registry holds the entry (an earlier package, or the seed it came from);
  an entry an earlier import entered moves on to "awaiting review" when the unit sent it
  for review since;
- conflicting: the school is not one the package reports on, the items do not pass the
  registry's checks, or the person already holds an open record (N11) - with the reason.

The import keeps each verdict as a PackageIntakeEntry; importing the same pupil again
(the same uid) never makes a second entry.
"""

import dataclasses
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.intake import services as intake
from xueji.intake.models import EntryState, IntakeEntry
from xueji.orgs.models import Unit
from xueji.packages.intake_data import CarriedEntry
from xueji.packages.models import Package, PackageIntakeEntry
from xueji.packages.units import unit_by_code
from xueji.students.models import OPEN_STATUSES, StudentRecord
from xueji.students.photo_services import do_set_photo
from xueji.students.rules import mask_id_number
from xueji.students.validation import validate_student

# The last state an imported entry may reach: the review is the bureau installation's.
LAST_ENTERED_STATE = EntryState.AWAITING_REVIEW
# The states that mean "sent for review" or further at the unit.
SENT = {
    EntryState.AWAITING_REVIEW,
    EntryState.ADMITTED,
    EntryState.PHOTOGRAPHED,
    EntryState.NUMBERED,
    EntryState.SUBMITTED,
    EntryState.FORWARDED,
    EntryState.ACCEPTED,
}
BEFORE_REVIEW = (EntryState.ENTERED, EntryState.RETURNED)


@dataclasses.dataclass
class EntryJudgement:
    verdict: str
    reason: str
    school: Unit | None = None
    entry: IntakeEntry | None = None
    # "enter" a new pupil, "advance" an entry an earlier import entered; "" for nothing.
    action: str = ""
    target_state: str = ""
    year: SchoolYear | None = None
    values: dict[str, Any] | None = None

    @property
    def verdict_label(self) -> str:
        return str(PackageIntakeEntry.Verdict(self.verdict).label)


@dataclasses.dataclass
class PreviewEntry:
    carried: CarriedEntry
    judgement: EntryJudgement

    @property
    def state_label(self) -> str:
        return str(EntryState(self.carried.state).label)

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.carried.id_number)


def _state_label(state: str) -> str:
    return str(EntryState(state).label) if state in EntryState.values else state


def _target(state: str) -> str:
    return LAST_ENTERED_STATE if state in SENT else EntryState.ENTERED


def _conflict(reason: str, **facts) -> EntryJudgement:
    return EntryJudgement(PackageIntakeEntry.Verdict.CONFLICTING, reason, **facts)


def _known(carried: CarriedEntry, entry: IntakeEntry, school: Unit) -> EntryJudgement:
    facts: dict[str, Any] = {"school": school, "entry": entry}
    if entry.school_id != school.pk:
        return _conflict(
            _("School: the package says %(package)s, the registry %(registry)s.")
            % {"package": school.name, "registry": entry.school.name},
            **facts,
        )
    here = {"state": entry.get_state_display()}
    entered = PackageIntakeEntry.objects.filter(entry=entry, entered=True).exists()
    if entered and entry.state in BEFORE_REVIEW and _target(carried.state) == LAST_ENTERED_STATE:
        return EntryJudgement(
            PackageIntakeEntry.Verdict.KNOWN,
            _(
                "In the registry's intake (%(state)s); the import sends it for review, as the "
                "unit did."
            )
            % here,
            action="advance",
            target_state=LAST_ENTERED_STATE,
            **facts,
        )
    return EntryJudgement(
        PackageIntakeEntry.Verdict.KNOWN,
        _("Already in the registry's intake (%(state)s).") % here,
        **facts,
    )


def judge_entry(carried: CarriedEntry, *, county, reported: set[int]) -> EntryJudgement:
    """The verdict on one carried pupil. `reported` are the ids of the schools the package
    reports on (its selection, within the signing unit's scope)."""
    school = unit_by_code(carried.school_code, county)
    if school is None or school.pk not in reported:
        return _conflict(
            _("School: %(school)s is not one of the schools the package reports on.")
            % {"school": carried.school_name or carried.school_code},
            school=school,
        )
    entry = IntakeEntry.objects.select_related("school").filter(uid=carried.uid).first()
    if entry is not None:
        return _known(carried, entry, school)
    year = SchoolYear.objects.filter(county=county, start_year=carried.school_year).first()
    if year is None:
        return _conflict(
            _("School year: %(year)d-%(next)d is not in the registry's calendar.")
            % {"year": carried.school_year, "next": carried.school_year + 1},
            school=school,
        )
    checked = validate_student(carried.items, today=calendar.today())
    if checked.errors:
        problem = checked.errors[0]
        return _conflict(
            _("Items: %(message)s") % {"message": problem.message}, school=school, year=year
        )
    values = checked.values
    if values.get("id_number"):
        holder = (
            StudentRecord.objects.filter(
                student__id_type=values.get("id_type") or "1",
                student__id_number=values["id_number"],
                status__in=OPEN_STATUSES,
            )
            .select_related("school")
            .first()
        )
        if holder is not None:
            return _conflict(
                _(
                    "ID number: %(name)s already holds an open record at %(school)s "
                    "(%(status)s); a second registration is not allowed."
                )
                % {
                    "name": carried.name,
                    "school": holder.school.name,
                    "status": holder.get_status_display(),
                },
                school=school,
                year=year,
            )
    if carried.state == EntryState.WITHDRAWN:
        return EntryJudgement(
            PackageIntakeEntry.Verdict.NEW,
            _("Not admitted at the unit: not entered."),
            school=school,
        )
    target = _target(carried.state)
    return EntryJudgement(
        PackageIntakeEntry.Verdict.NEW,
        _("New: the pupil enters the intake of %(school)s at “%(state)s”; the review follows here.")
        % {"school": school.name, "state": _state_label(target)},
        school=school,
        action="enter",
        target_state=target,
        year=year,
        values=values,
    )


def preview_entries(
    entries: list[CarriedEntry], *, county, reported: set[int]
) -> list[PreviewEntry]:
    return [
        PreviewEntry(carried, judge_entry(carried, county=county, reported=reported))
        for carried in entries
    ]


# --- entering ---------------------------------------------------------------------------------


def _enter(
    carried: CarriedEntry, judgement: EntryJudgement, members, *, actor
) -> tuple[IntakeEntry, str]:
    assert judgement.school is not None and judgement.year is not None
    assert judgement.values is not None
    entry = intake.do_enter_pupil(
        judgement.values, actor=actor, school=judgement.school, school_year=judgement.year
    )
    # The entry keeps its identity from the unit that made it: the next package names it
    # by this uid, and the import finds it.
    IntakeEntry.objects.filter(pk=entry.pk).update(uid=carried.uid)
    entry.uid = carried.uid
    notes = []
    if carried.exception_kind and entry.eligibility_problems:
        intake.do_record_exception(
            entry, carried.exception_kind, carried.exception_note or "—", actor=actor
        )
    if carried.photo:
        try:
            with transaction.atomic():
                do_set_photo(entry.record.student, members[carried.photo], actor=actor)
        except RuleViolation as refusal:
            notes.append(_("The photo was not kept: %(reason)s") % {"reason": refusal.message})
    if judgement.target_state == LAST_ENTERED_STATE:
        intake.do_send_for_review([entry], actor=actor)
        entry.refresh_from_db()
    return entry, " ".join(notes)


def _act(carried: CarriedEntry, judgement: EntryJudgement, members, *, actor):
    """Do what the judgement says through the intake services; a rule of the registry that
    refuses it makes the pupil conflicting, with the rule's sentence."""
    if not judgement.action:
        return judgement, False
    try:
        with transaction.atomic():
            if judgement.action == "enter":
                entry, note = _enter(carried, judgement, members, actor=actor)
            else:
                assert judgement.entry is not None
                intake.do_send_for_review([judgement.entry], actor=actor)
                entry, note = IntakeEntry.objects.get(pk=judgement.entry.pk), ""
    except (RuleViolation, PermissionDenied) as refusal:
        return (
            dataclasses.replace(
                judgement,
                verdict=PackageIntakeEntry.Verdict.CONFLICTING,
                reason=_("The registry's rules refuse it: %(message)s") % {"message": str(refusal)},
                action="",
            ),
            False,
        )
    reason = _("Entered into the intake at “%(state)s”.") % {"state": entry.get_state_display()}
    return dataclasses.replace(judgement, entry=entry, reason=f"{reason} {note}".strip()), True


def import_entries(
    entries: list[CarriedEntry],
    members: dict[str, bytes],
    package: Package,
    *,
    county,
    reported: set[int],
    actor,
) -> tuple[dict[str, int], int]:
    """Judge, enter and keep every carried pupil of an imported package (inside the
    import's transaction). Returns the verdict counts and how many were entered."""
    counts = {verdict: 0 for verdict in PackageIntakeEntry.Verdict.values}
    entered = 0
    for carried in entries:
        judgement = judge_entry(carried, county=county, reported=reported)
        judgement, did = _act(carried, judgement, members, actor=actor)
        entered += did
        counts[judgement.verdict] += 1
        PackageIntakeEntry.objects.create(
            package=package,
            entry_uid=carried.uid,
            state=carried.state,
            school=judgement.school,
            student_name=carried.name[:30],
            id_number=carried.id_number[:30],
            grade=carried.grade,
            data=carried.raw,
            verdict=judgement.verdict,
            reason=judgement.reason[:300],
            entry=judgement.entry,
            entered=did,
        )
    return counts, entered
