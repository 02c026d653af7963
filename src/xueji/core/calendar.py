"""Reading the calendar: the current school year, special days, the deadlines of a unit.

These read the database and hand plain facts to the pure rules in core/rules.py.
"""

import datetime
import functools
from collections.abc import Callable

from django.db import connection
from django.db.models import prefetch_related_objects
from django.utils import timezone

from xueji.core import reads, rules
from xueji.core.models import CalendarDay, SchoolYear
from xueji.orgs.models import County, Stage, Unit

# Apps say when a unit has done the work a deadline asks for: key → (unit, year) → done.
# Without a check a deadline is never done, and a past one stays red (overdue).
DONE_CHECKS: dict[str, Callable[[Unit, SchoolYear], bool]] = {}


def today() -> datetime.date:
    return timezone.localdate()


def current_school_year(
    county: County | int, on: datetime.date | None = None, *, semesters: bool = True
) -> SchoolYear | None:
    """The latest school year whose autumn semester has started; before any has started,
    the first one configured (so a new county sees its coming deadlines). The county may
    be given by its id, when only that is at hand (a school's county_id: no query).

    semesters=False leaves the year's semesters unread: the student list wants the year
    only to filter by, and their query was a fifth of a search's time."""
    on = on or today()
    county_id = county.pk if isinstance(county, County) else county
    # One statement written out: almost every page asks for the year, and the ORM's
    # compiling of the two queries it took (started, else first) cost three times as
    # much Python as this (issue 9: 0.6 -> 0.2 ms a call); read by core/reads.py, not as a
    # raw queryset, which matched its columns to the model's on every call.
    rows = reads.read(
        _current_year_statement(),
        [connection.ops.adapt_datefield_value(on), county_id],
        [SchoolYear],
    )
    year = rows[0][0] if rows else None
    if year is not None and semesters:
        prefetch_related_objects([year], "semesters")
    return year


@functools.cache
def _current_year_statement() -> str:
    return _CURRENT_YEAR.format(columns=reads.columns(SchoolYear, "year"))


# The started years first, the latest of them; else the earliest year configured. The
# semester is unique per year and term, so the join adds at most one row to a year.
_CURRENT_YEAR = """
    SELECT {columns} FROM core_schoolyear AS year
    LEFT JOIN core_semester AS autumn
        ON autumn.school_year_id = year.id AND autumn.term = 'autumn' AND autumn.start_date <= %s
    WHERE year.county_id = %s
    ORDER BY (autumn.id IS NOT NULL) DESC,
        CASE WHEN autumn.id IS NOT NULL THEN -year.start_year ELSE year.start_year END
    LIMIT 1
"""


def special_days(county: County) -> dict[datetime.date, str]:
    return dict(CalendarDay.objects.filter(county=county).values_list("date", "kind"))


def year_facts(year: SchoolYear) -> rules.YearFacts:
    return rules.YearFacts(
        label=year.label,
        semesters=tuple(
            rules.SemesterFacts(s.term, s.start_date, s.get_term_display())
            for s in year.semesters.all()
        ),
        review_days=year.review_days,
        junior_numbers_days=year.junior_numbers_days,
        change_report_days=year.change_report_days,
    )


def unit_facts(unit: Unit) -> rules.UnitFacts:
    return rules.UnitFacts(
        is_bureau=unit.is_bureau,
        is_central=unit.is_school and unit.is_central,
        admits_primary=unit.is_school and unit.stage in (Stage.PRIMARY, Stage.NINE_YEAR),
        admits_junior=unit.is_school and unit.stage in (Stage.JUNIOR, Stage.NINE_YEAR),
    )


def deadlines_of(unit: Unit, on: datetime.date | None = None) -> list[rules.DeadlineStatus]:
    """The current school year's deadlines this unit owes, with days left or overdue."""
    on = on or today()
    year = current_school_year(unit.county, on)
    if year is None:
        return []
    return [
        rules.deadline_status(deadline, on, done=_done(deadline.key, unit, year))
        for deadline in rules.deadlines_for(year_facts(year), unit_facts(unit))
    ]


def _done(key: str, unit: Unit, year: SchoolYear) -> bool:
    check = DONE_CHECKS.get(key)
    return bool(check and check(unit, year))


def next_session(county: County, on: datetime.date | None = None) -> datetime.date | None:
    on = on or today()
    year = current_school_year(county, on)
    if year is None:
        return None
    return rules.next_session_date(on, year.approval_weekday, special_days(county))
