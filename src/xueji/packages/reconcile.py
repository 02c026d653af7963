"""Reconciliation (C8): each change a package carries against the live registry, and what
the registry holds that the package does not bear out.

`judge` gives one carried change its verdict, with the reason in a sentence:
- reconciled: the registry holds the request (same uid) with the same facts, decided or
  recorded, or closed the same way;
- pending: the registry holds it, still on its way to the decision;
- unknown: the registry has never seen it (an offline unit's request): it enters the
  bureau's queue at the step it carries, never beyond "submitted" (C6);
- conflicting: the registry holds it with other facts (kind, student, schools, date,
  a refusal against an approval ...), or the student is not in the registry, or belongs
  to another school.

`findings(package)` lists the mismatches the bureau must follow up: the conflicting
changes, and on the registry's side, for the package's schools, grades and dates, the
requests the package did not carry, approved requests never recorded (step 5), approved
transfers the receiving school never confirmed, and students who left without an
approved change. It is computed from the live data each time, so a finding disappears
once it is put right.
"""

import dataclasses
import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xueji.changes.models import PENDING_STATES, ChangeRequest, Kind, State
from xueji.orgs.models import Unit
from xueji.packages.change_data import CLOSED_STATES, STATE_ORDER, CarriedChange, rank
from xueji.packages.models import Package, PackageChange
from xueji.packages.units import unit_by_code
from xueji.students.models import OPEN_STATUSES, Status, Student, StudentRecord
from xueji.students.rules import mask_id_number

DECIDED = (State.APPROVED, State.RECORDED)
# The last step an imported request may reach: the decision is the bureau's, in its
# Wednesday session (C6), whatever the package says.
LAST_ENTERED_STEP = State.SUBMITTED


def _state_label(state: str) -> str:
    try:
        return str(State(state).label)
    except ValueError:
        return state


def _kind_label(kind: str) -> str:
    try:
        return str(Kind(kind).label)
    except ValueError:
        return kind


@dataclasses.dataclass
class Judgement:
    verdict: str
    reason: str
    school: Unit | None = None
    request: ChangeRequest | None = None
    # What the import does: "enter" a new request, "advance" or "withdraw" one an earlier
    # import entered; "" for nothing.
    action: str = ""
    target_state: str = ""
    record: StudentRecord | None = None
    to_school: Unit | None = None

    @property
    def verdict_label(self) -> str:
        return str(PackageChange.Verdict(self.verdict).label)


def _conflict(reason: str, **facts) -> Judgement:
    return Judgement(PackageChange.Verdict.CONFLICTING, reason, **facts)


def find_student(change: CarriedChange) -> Student | None:
    """The registry's student the change names: by national number, else ID number."""
    if change.national_number:
        found = Student.objects.filter(national_number=change.national_number).first()
        if found is not None:
            return found
    if change.id_number:
        return Student.objects.filter(id_type=change.id_type, id_number=change.id_number).first()
    return None


def _same_student(change: CarriedChange, student: Student) -> bool:
    if change.national_number and student.national_number:
        return change.national_number == student.national_number
    if change.id_number and student.id_number:
        return (change.id_type, change.id_number) == (student.id_type, student.id_number)
    return (change.name, change.birth_date) == (student.name, student.birth_date)


def _differences(change: CarriedChange, request: ChangeRequest) -> list[str]:
    problems = []
    if change.kind != request.kind:
        problems.append(
            _("Kind: the package says %(package)s, the registry %(registry)s.")
            % {"package": _kind_label(change.kind), "registry": request.get_kind_display()}
        )
    if not _same_student(change, request.student):
        problems.append(
            _("Student: the package names %(package)s, the registry %(registry)s.")
            % {"package": change.name, "registry": request.student.name}
        )
    if change.from_code != (request.from_school.school_code or ""):
        problems.append(
            _("Sending school: the package says %(package)s, the registry %(registry)s.")
            % {"package": change.from_name or change.from_code, "registry": request.from_school}
        )
    registry_to = request.to_school.school_code if request.to_school else ""
    if change.to_code != (registry_to or ""):
        problems.append(
            _("Receiving school: the package says %(package)s, the registry %(registry)s.")
            % {
                "package": change.to_name or change.to_code or "—",
                "registry": request.to_school or "—",
            }
        )
    if change.effective_date != request.effective_date:
        problems.append(
            _("Effective date: the package says %(package)s, the registry %(registry)s.")
            % {"package": change.effective_date, "registry": request.effective_date}
        )
    return problems


def _entered_by_import(request: ChangeRequest) -> bool:
    return PackageChange.objects.filter(request=request, entered=True).exists()


def _known(change: CarriedChange, request: ChangeRequest, school: Unit | None) -> Judgement:
    """The registry holds a request with the change's uid."""
    facts: dict[str, Any] = {"school": school, "request": request}
    problems = _differences(change, request)
    if problems:
        return _conflict(" ".join(problems), **facts)
    carried, held = change.state, request.state
    says = {"package": _state_label(carried), "registry": request.get_state_display()}
    if held in DECIDED:
        if carried in CLOSED_STATES:
            return _conflict(
                _("State: the package says %(package)s; the registry has it %(registry)s.") % says,
                **facts,
            )
        if held == State.APPROVED:
            reason = _("Approved; not yet recorded (step 5).")
        else:
            reason = _("Approved and recorded.")
        return Judgement(PackageChange.Verdict.RECONCILED, reason, **facts)
    if held in CLOSED_STATES:
        if carried in DECIDED or (carried in CLOSED_STATES and carried != held):
            return _conflict(
                _("State: the package says %(package)s; the registry has it %(registry)s.") % says,
                **facts,
            )
        return Judgement(
            PackageChange.Verdict.RECONCILED,
            _("%(registry)s in the registry.") % says,
            **facts,
        )
    # Pending here. An offline unit's request, entered by an earlier import, follows what
    # the unit did since: further steps, or its withdrawal.
    entered = _entered_by_import(request)
    if carried == State.WITHDRAWN and entered:
        return Judgement(
            PackageChange.Verdict.PENDING,
            _("Withdrawn by the unit: the import withdraws it here too."),
            action="withdraw",
            **facts,
        )
    if carried in CLOSED_STATES or (carried in DECIDED and not entered):
        return _conflict(
            _("State: the package says %(package)s; the registry has it %(registry)s.") % says,
            **facts,
        )
    target = carried if rank(carried) <= rank(LAST_ENTERED_STEP) else LAST_ENTERED_STEP
    if entered and rank(target) > rank(held):
        return Judgement(
            PackageChange.Verdict.PENDING,
            _(
                "Pending at “%(registry)s”; the import moves it to “%(target)s”, as the "
                "package says."
            )
            % {**says, "target": _state_label(target)},
            action="advance",
            target_state=target,
            **facts,
        )
    if rank(carried) > rank(held):
        return _conflict(
            _("State: the package says %(package)s; the registry has it %(registry)s.") % says,
            **facts,
        )
    return Judgement(PackageChange.Verdict.PENDING, _("Pending at “%(registry)s”.") % says, **facts)


def _unknown(
    change: CarriedChange, from_school: Unit, to_school: Unit | None, school: Unit | None
) -> Judgement:
    """No request with the change's uid here: an offline unit's. Enter it if the registry
    agrees on the student and the school."""
    facts: dict[str, Any] = {"school": school}
    student = find_student(change)
    who = f"{change.name} ({mask_id_number(change.id_number) or change.national_number})"
    if student is None:
        return _conflict(_("Student: %(who)s is not in the registry.") % {"who": who}, **facts)
    if (student.name, student.birth_date) != (change.name, change.birth_date):
        return _conflict(
            _(
                "Student: the registry has %(name)s, born %(birth)s; the package "
                "%(package_name)s, born %(package_birth)s."
            )
            % {
                "name": student.name,
                "birth": student.birth_date,
                "package_name": change.name,
                "package_birth": change.birth_date,
            },
            **facts,
        )
    record = (
        StudentRecord.objects.filter(student=student, status__in=OPEN_STATUSES)
        .select_related("school")
        .first()
    )
    if record is None:
        return _conflict(
            _("Student: %(who)s has no open record in the registry.") % {"who": who}, **facts
        )
    if record.school_id != from_school.pk:
        return _conflict(
            _("Student: the registry has %(who)s at %(school)s, not at %(from)s.")
            % {"who": who, "school": record.school.name, "from": from_school.name},
            **facts,
        )
    if change.kind == Kind.TRANSFER and to_school is None:
        return _conflict(
            _("Receiving school: %(code)s is not a school of this county.")
            % {"code": change.to_code or "—"},
            **facts,
        )
    if change.state in CLOSED_STATES:
        return Judgement(
            PackageChange.Verdict.UNKNOWN,
            _("%(state)s at the unit: not entered.") % {"state": _state_label(change.state)},
            **facts,
        )
    pending = ChangeRequest.objects.filter(record=record, state__in=PENDING_STATES).first()
    if pending is not None:
        return _conflict(
            _("The student already has a pending request here (%(kind)s, %(state)s).")
            % {"kind": pending.get_kind_display(), "state": pending.get_state_display()},
            request=None,
            **facts,
        )
    target = change.state if rank(change.state) <= rank(LAST_ENTERED_STEP) else LAST_ENTERED_STEP
    reason = _("Not in the registry: it enters the bureau's queue at “%(step)s”.") % {
        "step": _state_label(target)
    }
    if change.state in DECIDED:
        reason += " " + _(
            "The package says %(state)s, but only the bureau decides, in its Wednesday session."
        ) % {"state": _state_label(change.state)}
    return Judgement(
        PackageChange.Verdict.UNKNOWN,
        reason,
        action="enter",
        target_state=target,
        record=record,
        to_school=to_school,
        **facts,
    )


def judge(change: CarriedChange, *, county, reported: set[int]) -> Judgement:
    """The verdict on one carried change. `reported` are the ids of the schools the package
    reports on (its selection, within the signing unit's scope)."""
    from_school = unit_by_code(change.from_code, county)
    to_school = unit_by_code(change.to_code, county) if change.to_code else None
    if from_school is not None and from_school.pk in reported:
        school = from_school
    elif to_school is not None and to_school.pk in reported:
        school = to_school
    else:
        return _conflict(
            _("The change concerns none of the schools the package reports on."),
            school=from_school or to_school,
        )
    request = (
        ChangeRequest.objects.select_related("student", "from_school", "to_school")
        .filter(uid=change.uid)
        .first()
    )
    if request is not None:
        return _known(change, request, school)
    if from_school is None:
        return _conflict(
            _("Sending school: %(code)s is not a school of this county.")
            % {"code": change.from_code},
            school=school,
        )
    return _unknown(change, from_school, to_school, school)


# --- findings -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Finding:
    kind: str
    school: Unit | None
    message: str
    student_name: str = ""
    request: ChangeRequest | None = None
    record: StudentRecord | None = None

    @property
    def kind_label(self) -> str:
        return str(FINDING_KINDS.get(self.kind, self.kind))


FINDING_KINDS = {
    "conflicting": gettext_lazy("Conflicts with the registry"),
    "not_carried": gettext_lazy("In the registry, not in the package"),
    "not_recorded": gettext_lazy("Approved, never recorded"),
    "not_confirmed": gettext_lazy("Transfer approved, arrival not confirmed"),
    "left_without_change": gettext_lazy("Left without an approved change"),
}
LEFT_STATUSES = (
    Status.TRANSFERRED_OUT,
    Status.ABROAD,
    Status.DECEASED,
    Status.MISSING,
    Status.LEFT_OTHER,
)


@dataclasses.dataclass(frozen=True)
class Selection:
    schools: list[Unit]
    grades: list[int] | None
    date_from: datetime.date
    date_to: datetime.date


def selection_of(package: Package) -> Selection | None:
    chosen = package.selection or {}
    try:
        date_from = datetime.date.fromisoformat(chosen["from"])
        date_to = datetime.date.fromisoformat(chosen["to"])
    except (KeyError, TypeError, ValueError):
        return None
    schools = [
        school
        for code in chosen.get("schools") or []
        if (school := unit_by_code(code, package.unit.county)) is not None
    ]
    grades = chosen.get("grades") or None
    return Selection(schools, grades, date_from, date_to)


def _school_of(request: ChangeRequest, school_ids: set[int]) -> Unit | None:
    if request.from_school_id in school_ids:
        return request.from_school
    return request.to_school


def findings(package: Package) -> list[Finding]:
    """What the bureau must follow up for this package (see the module's docstring). An
    exported package was made from this registry, so it carries all its requests and
    conflicts with none: only the registry-side findings apply."""
    from xueji.packages.services import select_requests

    selection = selection_of(package)
    result: list[Finding] = []
    if package.direction == Package.Direction.IMPORT:
        for carried in package.changes.filter(
            verdict=PackageChange.Verdict.CONFLICTING
        ).select_related("school", "request"):
            result.append(
                Finding(
                    "conflicting",
                    carried.school,
                    carried.reason,
                    student_name=carried.student_name,
                    request=carried.request,
                )
            )
    if selection is None or not selection.schools:
        return result
    school_ids = {school.pk for school in selection.schools}
    in_range = select_requests(
        selection.schools, selection.grades, selection.date_from, selection.date_to
    ).select_related("student", "from_school", "to_school")
    if package.direction == Package.Direction.IMPORT:
        carried_uids = set(package.changes.values_list("change_uid", flat=True))
        for request in in_range.filter(created_at__lte=package.made_at).exclude(
            uid__in=carried_uids
        ):
            result.append(
                Finding(
                    "not_carried",
                    _school_of(request, school_ids),
                    _(
                        "The registry holds this request (%(kind)s, %(state)s); the package does "
                        "not carry it."
                    )
                    % {"kind": request.get_kind_display(), "state": request.get_state_display()},
                    student_name=request.student.name,
                    request=request,
                )
            )
    for request in in_range.filter(state=State.APPROVED):
        if request.kind == Kind.TRANSFER:
            message = _(
                "Transfer to %(school)s approved on %(date)s: the receiving school has not "
                "confirmed the arrival."
            ) % {"school": request.to_school, "date": _day(request.decided_at)}
            kind = "not_confirmed"
        else:
            message = _("Approved on %(date)s, never recorded (step 5).") % {
                "date": _day(request.decided_at)
            }
            kind = "not_recorded"
        result.append(
            Finding(
                kind,
                _school_of(request, school_ids),
                message,
                student_name=request.student.name,
                request=request,
            )
        )
    approved = ChangeRequest.objects.filter(record=OuterRef("pk"), state__in=DECIDED)
    left = (
        StudentRecord.objects.filter(
            school__in=selection.schools,
            status__in=LEFT_STATUSES,
            exit_date__gte=selection.date_from,
            exit_date__lte=selection.date_to,
        )
        .filter(~Exists(approved))
        .select_related("student", "school")
    )
    if selection.grades:
        left = left.filter(Q(placements__grade__in=selection.grades)).distinct()
    for record in left:
        result.append(
            Finding(
                "left_without_change",
                record.school,
                _("Left the school (%(status)s) on %(date)s without an approved change.")
                % {"status": record.get_status_display(), "date": record.exit_date},
                student_name=record.student.name,
                record=record,
            )
        )
    return result


def _day(moment) -> str:
    return moment.date().isoformat() if moment else "—"


def by_school(package: Package) -> list[dict]:
    """The reconciliation report: per school of the package, its changes with their
    verdicts and the findings."""
    selection = selection_of(package)
    schools = list(selection.schools) if selection else []
    changes = list(
        package.changes.select_related("school", "request", "checked_by").order_by(
            "school_id", "effective_date", "pk"
        )
    )
    found = findings(package)
    items: list[Any] = [*changes, *found]
    for item in items:
        if item.school is not None and item.school not in schools:
            schools.append(item.school)
    rows = []
    for school in schools:
        own = [change for change in changes if change.school_id == school.pk]
        counts = {verdict: 0 for verdict in PackageChange.Verdict.values}
        for change in own:
            counts[change.verdict] += 1
        rows.append(
            {
                "school": school,
                "changes": own,
                "counts": counts,
                "findings": [finding for finding in found if finding.school == school],
            }
        )
    orphans = [change for change in changes if change.school is None]
    if orphans or any(finding.school is None for finding in found):
        rows.append(
            {
                "school": None,
                "changes": orphans,
                "counts": {},
                "findings": [finding for finding in found if finding.school is None],
            }
        )
    return rows


__all__ = ["STATE_ORDER", "Finding", "Judgement", "by_school", "findings", "judge"]
