"""Pure calendar rules: working days, the approval session, deadlines (P3, P4, N2, N7, C8).

Nothing here reads the database: callers pass the facts (dates, the county's holidays and
make-up days), so every rule is tested with plain values.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

HOLIDAY = "holiday"
WORKDAY = "workday"
# Days looked ahead at most when searching for the next working day; a county never has
# more than a few consecutive holidays, this only keeps a bad calendar from looping.
MAX_SEARCH_DAYS = 366

DayKinds = Mapping[datetime.date, str]


def is_working_day(day: datetime.date, special: DayKinds) -> bool:
    """Monday to Friday, except holidays; plus weekends the calendar makes working days."""
    kind = special.get(day)
    if kind == HOLIDAY:
        return False
    if kind == WORKDAY:
        return True
    return day.weekday() < 5


def working_days_between(start: datetime.date, end: datetime.date, special: DayKinds) -> int:
    """Working days after `start` up to and including `end`: a step submitted on Monday
    and still waiting on Tuesday has waited one working day."""
    if end <= start:
        return 0
    count = 0
    day = start + datetime.timedelta(days=1)
    while day <= end:
        if is_working_day(day, special):
            count += 1
        day += datetime.timedelta(days=1)
    return count


def add_working_days(start: datetime.date, days: int, special: DayKinds) -> datetime.date:
    """The date `days` working days after `start`."""
    day = start
    remaining = days
    for _step in range(MAX_SEARCH_DAYS * 4):
        if remaining <= 0:
            return day
        day += datetime.timedelta(days=1)
        if is_working_day(day, special):
            remaining -= 1
    raise ValueError("calendar has no working days")


def next_session_date(today: datetime.date, weekday: int, special: DayKinds) -> datetime.date:
    """The next approval session (C6): the first session weekday from today on that is a
    working day; a session day that falls on a holiday is skipped to the next week."""
    day = today
    for _step in range(MAX_SEARCH_DAYS):
        if day.weekday() == weekday and is_working_day(day, special):
            return day
        day += datetime.timedelta(days=1)
    raise ValueError("no session day found within a year")


def is_overdue_wait(
    since: datetime.date, today: datetime.date, limit: int, special: DayKinds
) -> bool:
    """P4: a step that has waited more than `limit` working days is flagged."""
    return working_days_between(since, today, special) > limit


# --- Deadlines ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SemesterFacts:
    term: str  # "autumn" or "spring"
    start_date: datetime.date
    label: str


@dataclass(frozen=True)
class YearFacts:
    label: str
    semesters: tuple[SemesterFacts, ...]
    review_days: int = 14
    junior_numbers_days: int = 7
    change_report_days: int = 21


@dataclass(frozen=True)
class UnitFacts:
    """What decides which deadlines a unit owes."""

    is_bureau: bool = False
    is_central: bool = False
    admits_primary: bool = False  # primary or nine-year school
    admits_junior: bool = False  # junior or nine-year school


@dataclass(frozen=True)
class Deadline:
    key: str
    title: str
    requirement: str
    due: datetime.date


@dataclass(frozen=True)
class DeadlineStatus:
    deadline: Deadline
    days_left: int
    done: bool

    @property
    def overdue(self) -> bool:
        return not self.done and self.days_left < 0

    @property
    def due_soon(self) -> bool:
        return not self.done and 0 <= self.days_left <= 7

    @property
    def days_overdue(self) -> int:
        return -self.days_left


def deadlines_for(year: YearFacts, unit: UnitFacts) -> list[Deadline]:
    """The deadlines of a school year that this unit owes or watches, by due date.

    - N2, primary eligibility review: central schools (for their rural primary schools),
      the bureau (for county-direct ones), and the primary schools whose pupils it covers.
    - N7, junior number collection: the junior and nine-year schools, and the bureau.
    - C8, change reporting: every unit, once per semester.
    """
    found: list[Deadline] = []
    autumn = next((s for s in year.semesters if s.term == "autumn"), None)
    if autumn is not None:
        if unit.is_bureau or unit.is_central or unit.admits_primary:
            found.append(
                Deadline(
                    "primary_review",
                    str(_("Primary intake: eligibility review and photos")),
                    "N2",
                    autumn.start_date + datetime.timedelta(days=year.review_days),
                )
            )
        if unit.is_bureau or unit.admits_junior:
            found.append(
                Deadline(
                    "junior_numbers",
                    str(_("Junior intake: collect primary numbers")),
                    "N7",
                    autumn.start_date + datetime.timedelta(days=year.junior_numbers_days),
                )
            )
    for semester in year.semesters:
        found.append(
            Deadline(
                f"change_report_{semester.term}",
                str(_("Change reporting for the %(semester)s") % {"semester": semester.label}),
                "C8",
                semester.start_date + datetime.timedelta(days=year.change_report_days),
            )
        )
    return sorted(found, key=lambda deadline: deadline.due)


def deadline_status(deadline: Deadline, today: datetime.date, done: bool = False) -> DeadlineStatus:
    return DeadlineStatus(deadline, (deadline.due - today).days, done)
