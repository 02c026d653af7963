"""P3: which school year is the current one, as every page and rule asks (core/calendar.py):
the latest year whose autumn semester has started; before any has, the first configured;
never another county's."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xueji.core.calendar import current_school_year
from xueji.core.services import do_save_school_year
from xueji.orgs import services as org_services

pytestmark = pytest.mark.django_db

YEAR_FACTS = {
    "entry_age": 6,
    "approval_weekday": 2,
    "review_days": 14,
    "junior_numbers_days": 7,
    "change_report_days": 21,
    "step_limit_working_days": 10,
}


def _open_year(county, start_year: int, autumn: datetime.date):
    return do_save_school_year(
        actor=None,
        county=county,
        start_year=start_year,
        autumn_start=autumn,
        spring_start=datetime.date(start_year + 1, 2, 20),
        entry_age_cutoff=datetime.date(start_year, 8, 31),
        **YEAR_FACTS,
    )


def _reference(years: dict[int, datetime.date], on: datetime.date) -> int | None:
    """The rule read plainly, over (start year → autumn start)."""
    started = [start for start, autumn in years.items() if autumn <= on]
    if started:
        return max(started)
    return min(years) if years else None


@pytest.fixture
def years(cast):
    # Opened out of order, with an autumn that starts late (2026) and one early (2027).
    autumns = {
        2026: datetime.date(2026, 9, 7),
        2024: datetime.date(2024, 9, 1),
        2025: datetime.date(2025, 9, 1),
        2027: datetime.date(2027, 8, 30),
    }
    for start, autumn in autumns.items():
        _open_year(cast.county, start, autumn)
    # Another county's later years never answer for this one.
    other, _bureau = org_services.do_create_county(
        actor=None, division_code="370829", name="嘉祥县", bureau_name="嘉祥县教育局"
    )
    _open_year(other, 2028, datetime.date(2028, 9, 1))
    _open_year(other, 2023, datetime.date(2023, 9, 1))
    return autumns


DAYS = [
    datetime.date(2020, 1, 1),  # before every year: the first configured
    datetime.date(2024, 8, 31),
    datetime.date(2024, 9, 1),
    datetime.date(2025, 6, 30),
    datetime.date(2026, 9, 6),  # the day before the late autumn start
    datetime.date(2026, 9, 7),
    datetime.date(2027, 8, 29),
    datetime.date(2027, 8, 30),
    datetime.date(2031, 1, 1),  # past every year: the latest
]


@pytest.mark.parametrize("on", DAYS, ids=str)
def test_the_current_year_is_the_latest_started_else_the_first(cast, years, on):
    found = current_school_year(cast.county, on)
    assert found is not None
    assert found.start_year == _reference(years, on)
    # By the county's id, as a school's county_id gives it, the same year.
    assert current_school_year(cast.county.pk, on, semesters=False).pk == found.pk


def test_a_county_without_years_has_no_current_year(cast):
    assert current_school_year(cast.county, datetime.date(2026, 9, 1)) is None


def test_the_year_comes_with_its_semesters_when_asked_in_one_query_more(cast, years):
    on = datetime.date(2026, 10, 1)
    with CaptureQueriesContext(connection) as asked:
        year = current_school_year(cast.county, on)
        terms = {semester.term: semester.start_date for semester in year.semesters.all()}
    assert len(asked.captured_queries) == 2  # the year, then its semesters
    assert terms["autumn"] == years[2026]
    with CaptureQueriesContext(connection) as asked:
        current_school_year(cast.county, on, semesters=False)
    assert len(asked.captured_queries) == 1
