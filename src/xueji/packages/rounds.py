"""Reading the reporting rounds (C8): their dates, and where each school stands in one.

A round asks every active school of the county for a package of its changes within a
date range, by a due date. Two kinds exist:

- the regular round of each semester, which the calendar makes (round_services.
  ensure_regular_rounds): it takes the changes from the previous semester's start up to
  the day before this semester starts, and is due `change_report_days` (21) days after
  the start. The ranges of consecutive rounds meet without a gap or an overlap, every day
  of a range lies in the past when the round opens, so a school's package is complete
  when it is made. A change made in the first weeks of a semester goes in the next round.
- extra rounds the bureau registrar announces, with their own title, range and due date.

A school has reported in a round when a change package of that round exists for it: the
one it exported on this installation, or, for a unit working offline, the one the bureau
imported. Its status is "reported", "not yet" (due date still ahead) or "overdue".

Pure rules come first (no database), then the reading functions.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.orgs.models import County, Unit
from xueji.packages import reconcile
from xueji.packages.key_services import signing_key_of
from xueji.packages.models import ChangeRound, Package, SigningKey
from xueji.packages.services import select_requests

REPORTED = "reported"
NOT_YET = "not_yet"
OVERDUE = "overdue"
STATES = (REPORTED, NOT_YET, OVERDUE)
STATE_LABELS = {
    REPORTED: gettext_lazy("Reported"),
    NOT_YET: gettext_lazy("Not yet reported"),
    OVERDUE: gettext_lazy("Overdue"),
}
# The longest title the model holds.
TITLE_MAX = 60
# The first regular round of a county has no earlier semester to start from: it takes the
# half year before its semester, about one semester and its holiday.
FIRST_ROUND_MONTHS = 6
# Rounds a dashboard lists at most.
DASHBOARD_ROUNDS = 5


# --- Pure rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundDates:
    changes_from: datetime.date
    changes_to: datetime.date
    due_date: datetime.date


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` months before `day`'s month."""
    index = day.year * 12 + (day.month - 1) - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def regular_round_dates(
    start: datetime.date, previous_start: datetime.date | None, report_days: int
) -> RoundDates:
    """A semester's regular round: the changes since the previous semester started, up to
    the day before this one starts, due `report_days` days after the start (C8: three
    weeks by default)."""
    changes_to = start - datetime.timedelta(days=1)
    if previous_start is None or previous_start > changes_to:
        changes_from = months_before(start, FIRST_ROUND_MONTHS)
    else:
        changes_from = previous_start
    return RoundDates(changes_from, changes_to, start + datetime.timedelta(days=report_days))


def report_opens_on(changes_to: datetime.date) -> datetime.date:
    """A school reports once the range is over: a package made earlier would miss the
    changes of its last days, and the next round starts after them."""
    return changes_to + datetime.timedelta(days=1)


def check_due_date(changes_to: datetime.date, due_date: datetime.date, today: datetime.date):
    if due_date <= changes_to:
        raise RuleViolation(
            _("Due date: it must come after the last day of the changes (%(date)s).")
            % {"date": changes_to.isoformat()},
            field="due_date",
        )
    if due_date < today:
        raise RuleViolation(
            _("Due date: %(date)s has already passed; choose today or a later day.")
            % {"date": due_date.isoformat()},
            field="due_date",
        )


def check_extra_round(
    title: str,
    changes_from: datetime.date,
    changes_to: datetime.date,
    due_date: datetime.date,
    today: datetime.date,
) -> None:
    """The bureau's extra round: a title, a range in order, a due date after the range
    and not in the past."""
    if not title.strip():
        raise RuleViolation(_("Title: say what the round is for."), field="title")
    if len(title.strip()) > TITLE_MAX:
        raise RuleViolation(
            _("Title: at most %(count)d characters.") % {"count": TITLE_MAX}, field="title"
        )
    if changes_from > changes_to:
        raise RuleViolation(
            _("Changes to: the range ends before it starts (%(start)s).")
            % {"start": changes_from.isoformat()},
            field="changes_to",
        )
    check_due_date(changes_to, due_date, today)


def state_of(reported: bool, due_date: datetime.date, today: datetime.date) -> str:
    if reported:
        return REPORTED
    return OVERDUE if today > due_date else NOT_YET


# --- Reading ------------------------------------------------------------------------------


@dataclass
class RoundStatus:
    """Where one school stands in one round."""

    school: Unit
    state: str
    package: Package | None = None
    changes: int | None = None
    findings: int | None = None
    late: bool = False

    @property
    def reported_at(self) -> datetime.datetime | None:
        return self.package.handled_at if self.package is not None else None

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


def is_regular(change_round: ChangeRound) -> bool:
    return change_round.semester_id is not None


def round_title(change_round: ChangeRound) -> str:
    """A regular round is named by its semester in the reader's language; an extra round
    by the title the bureau gave it."""
    semester = change_round.semester
    if semester is None:
        return change_round.title
    return _("Change reporting, %(year)s %(term)s") % {
        "year": semester.school_year.label,
        "term": semester.get_term_display(),
    }


def visible_schools(scope) -> QuerySet[Unit]:
    """The schools whose statuses a user sees: every school of the county for the bureau,
    the ones a central school supervises (itself included), a school's own; by township."""
    if scope.level == scope.COUNTY:
        schools = owing_schools(scope.unit.county_id)
    else:
        schools = scope.schools().filter(is_active=True)
    return schools.select_related("parent").order_by(
        "parent__ordinal", "parent__name", "-is_central", "ordinal", "name", "pk"
    )


def owing_schools(county: County | int) -> QuerySet[Unit]:
    """Every active school of the county owes every round (townships and the bureau do not)."""
    county_id = county if isinstance(county, int) else county.pk
    return Unit.objects.filter(county_id=county_id, kind=Unit.Kind.SCHOOL, is_active=True)


def round_packages(change_round: ChangeRound) -> QuerySet[Package]:
    return Package.objects.filter(round=change_round, content=Package.Content.CHANGES)


def covered_codes(package: Package) -> set[str]:
    """The codes of the schools a package reports on: the schools its selection names (a
    central school's package may carry several); a school's package without a list, the
    school itself. Whether the unit may speak for them was checked when it was made or
    imported."""
    codes = {str(code) for code in (package.selection or {}).get("schools") or []}
    if not codes and package.unit.is_school and package.unit.school_code:
        codes = {package.unit.school_code}
    return codes


def latest_packages(change_round: ChangeRound, schools: Iterable[Unit]) -> dict[int, Package]:
    """The newest package of the round covering each school: a school that reported again
    is judged by its last package."""
    by_code = {school.school_code: school.pk for school in schools if school.school_code}
    found: dict[int, Package] = {}
    packages = round_packages(change_round).select_related("unit").order_by("handled_at", "pk")
    for package in packages:
        for code in covered_codes(package):
            if code in by_code:
                found[by_code[code]] = package
    return found


def package_change_count(package: Package) -> int:
    """How many changes a package carried: as its manifest counted them, or as imported."""
    counted = (package.counts or {}).get("changes")
    if isinstance(counted, int):
        return counted
    return package.changes.count()


def school_change_count(package: Package, school: Unit) -> int:
    """The changes of one school in a package: all of them when the package is the
    school's alone; of a central school's package for several schools, the school's share
    (as the import assigned them, or as the registry held them when it was made)."""
    if len(covered_codes(package)) <= 1:
        return package_change_count(package)
    if package.direction == Package.Direction.IMPORT:
        return package.changes.filter(school=school).count()
    selection = reconcile.selection_of(package)
    if selection is None:
        return package_change_count(package)
    return (
        select_requests([school], selection.grades, selection.date_from, selection.date_to)
        .filter(created_at__lte=package.made_at)
        .count()
    )


def school_findings(found: list[reconcile.Finding], package: Package, school: Unit) -> int:
    """A school's findings among its package's: the registry's mismatches the bureau must
    follow up (reconcile.findings: conflicting changes, requests the package left out,
    approvals never recorded, pupils gone without an approved change)."""
    if len(covered_codes(package)) <= 1:
        return len(found)
    return sum(1 for finding in found if finding.school is not None and finding.school == school)


def school_statuses(
    change_round: ChangeRound,
    schools: Iterable[Unit],
    on: datetime.date | None = None,
    *,
    with_findings: bool = True,
) -> dict[int, RoundStatus]:
    """Each school's status in the round, keyed by unit id, in the order given. Findings
    are computed from the live registry, once per package; lists that need only the
    states pass with_findings=False."""
    today = on or calendar.today()
    schools = list(schools)
    packages = latest_packages(change_round, schools)
    found: dict[int, list[reconcile.Finding]] = {}
    statuses: dict[int, RoundStatus] = {}
    for school in schools:
        package = packages.get(school.pk)
        status = RoundStatus(school, state_of(package is not None, change_round.due_date, today))
        if package is not None:
            status.package = package
            status.changes = school_change_count(package, school)
            if with_findings:
                if package.pk not in found:
                    found[package.pk] = reconcile.findings(package)
                status.findings = school_findings(found[package.pk], package, school)
            status.late = timezone.localdate(package.handled_at) > change_round.due_date
        statuses[school.pk] = status
    return statuses


def state_counts(statuses: Iterable[RoundStatus]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for status in statuses:
        counts[status.state] += 1
    return counts


def has_reported(change_round: ChangeRound, unit: Unit) -> bool:
    return unit.pk in latest_packages(change_round, [unit])


def is_offline(unit: Unit) -> bool:
    """A unit works offline when the bureau registered its key for packages made
    elsewhere: the private half lives on the unit's own installation, not here. Its
    packages come by import; it cannot report through this installation."""
    return SigningKey.objects.filter(
        unit=unit,
        revoked_at__isnull=True,
        registered_at__isnull=False,
        private_file="",
    ).exists()


def may_report(scope, school: Unit) -> bool:
    """A school reports for itself, by its registrar (a central school for itself too: it
    is a school with pupils). The bureau receives the reports and makes none."""
    if not scope.may("packages.export") or scope.level == scope.COUNTY:
        return False
    return scope.unit is not None and scope.unit.pk == school.pk and school.is_school


def report_problem(change_round: ChangeRound, school: Unit, on: datetime.date | None = None):
    """Why the school cannot report in this round now, or None."""
    today = on or calendar.today()
    if school.county_id != change_round.county_id or not school.is_school:
        return _("This round belongs to another county.")
    if not school.is_active:
        return _("%(school)s is no longer active.") % {"school": school.name}
    opens = report_opens_on(change_round.changes_to)
    if today < opens:
        return _("This round takes the changes up to %(end)s; you can report from %(opens)s.") % {
            "end": change_round.changes_to.isoformat(),
            "opens": opens.isoformat(),
        }
    if is_offline(school):
        return _(
            "%(school)s works offline: export the package on its own installation and bring "
            "the file to the bureau, which imports it."
        ) % {"school": school.name}
    try:
        signing_key_of(school)
    except RuleViolation as error:
        return error.message
    return None


# --- Rounds per school year (dashboards, deadlines) ---------------------------------------


def regular_round(year: SchoolYear, term: str) -> ChangeRound | None:
    return ChangeRound.objects.filter(semester__school_year=year, semester__term=term).first()


def regular_round_done(term: str) -> Callable[[Unit, SchoolYear], bool]:
    """The DONE_CHECKS entry of a semester's C8 deadline: a school is done once it has
    reported in that semester's regular round; the bureau once every school has."""

    def done(unit: Unit, year: SchoolYear) -> bool:
        change_round = regular_round(year, term)
        if change_round is None:
            return False
        if unit.is_bureau:
            schools = list(owing_schools(unit.county_id))
            return len(latest_packages(change_round, schools)) == len(schools)
        if unit.is_school:
            return has_reported(change_round, unit)
        return False

    return done


def register_done_checks() -> None:
    """Called from the packages app's ready(): the keys are core.rules.deadlines_for's."""
    for semester_term in ("autumn", "spring"):
        calendar.DONE_CHECKS[f"change_report_{semester_term}"] = regular_round_done(semester_term)


def open_rounds(county_id: int, on: datetime.date | None = None) -> QuerySet[ChangeRound]:
    """Rounds whose due date is today or later, soonest first."""
    today = on or calendar.today()
    return ChangeRound.objects.filter(county_id=county_id, due_date__gte=today).order_by(
        "due_date", "pk"
    )


def dashboard_rounds(scope, on: datetime.date | None = None) -> list[dict]:
    """The rounds a dashboard shows: the coming ones, and for a school also the ones of
    this school year it still owes (overdue). A school sees its own status; the bureau and
    a central school how many schools of their scope have reported."""
    if scope.unit is None or not scope.may("changes.view"):
        return []
    today = on or calendar.today()
    unit = scope.unit
    candidates = scope.rounds().select_related("semester__school_year")
    year = calendar.current_school_year(unit.county, today)
    first_start = min((s.start_date for s in year.semesters.all()), default=None) if year else None
    if unit.is_school and first_start is not None:
        candidates = candidates.filter(due_date__gte=min(today, first_start))
    else:
        candidates = candidates.filter(due_date__gte=today)
    schools = list(visible_schools(scope)) if scope.level != scope.SCHOOL else []
    found = []
    for change_round in candidates.order_by("due_date", "pk"):
        row: dict = {
            "round": change_round,
            "title": round_title(change_round),
            "days_left": (change_round.due_date - today).days,
        }
        if unit.is_school:
            own = school_statuses(change_round, [unit], today, with_findings=False)[unit.pk]
            if change_round.due_date < today and own.state == REPORTED:
                continue
            row["own"] = own
        if schools:
            statuses = school_statuses(change_round, schools, today, with_findings=False)
            row["counts"] = state_counts(statuses.values())
            row["total"] = len(schools)
        found.append(row)
    return found[:DASHBOARD_ROUNDS]
