"""P3, P4: working days, the approval session and the deadlines, as pure rules."""

import datetime

from hypothesis import given
from hypothesis import strategies as st

from xueji.core import rules

D = datetime.date
NATIONAL_DAY = {D(2026, 10, day): rules.HOLIDAY for day in range(1, 8)}


def test_weekends_and_holidays_are_not_working_days_but_make_up_days_are():
    special = {D(2026, 10, 1): rules.HOLIDAY, D(2026, 10, 10): rules.WORKDAY}
    assert rules.is_working_day(D(2026, 9, 30), special)  # Wednesday
    assert not rules.is_working_day(D(2026, 10, 1), special)  # Thursday, holiday
    assert not rules.is_working_day(D(2026, 10, 3), special)  # Saturday
    assert rules.is_working_day(D(2026, 10, 10), special)  # Saturday made a working day


def test_a_step_waiting_over_the_national_day_counts_only_working_days():
    # Submitted Wednesday 30 September; 9 October is the 2nd working day after it.
    assert rules.working_days_between(D(2026, 9, 30), D(2026, 10, 9), NATIONAL_DAY) == 2


def test_a_step_is_flagged_after_ten_working_days():
    start = D(2026, 11, 2)  # Monday
    assert not rules.is_overdue_wait(start, D(2026, 11, 16), 10, {})
    assert rules.is_overdue_wait(start, D(2026, 11, 17), 10, {})


def test_the_next_session_is_the_coming_wednesday_and_skips_a_holiday():
    assert rules.next_session_date(D(2026, 11, 30), 2, {}) == D(2026, 12, 2)
    assert rules.next_session_date(D(2026, 12, 2), 2, {}) == D(2026, 12, 2)
    holiday = {D(2026, 12, 2): rules.HOLIDAY}
    assert rules.next_session_date(D(2026, 11, 30), 2, holiday) == D(2026, 12, 9)


YEAR = rules.YearFacts(
    label="2026-2027",
    semesters=(
        rules.SemesterFacts("autumn", D(2026, 9, 1), "autumn"),
        rules.SemesterFacts("spring", D(2027, 2, 22), "spring"),
    ),
)


def test_the_scenarios_deadlines_fall_on_8_15_and_22_september():
    bureau = rules.deadlines_for(YEAR, rules.UnitFacts(is_bureau=True))
    due = {deadline.key: deadline.due for deadline in bureau}
    assert due["junior_numbers"] == D(2026, 9, 8)  # N7
    assert due["primary_review"] == D(2026, 9, 15)  # N2
    assert due["change_report_autumn"] == D(2026, 9, 22)  # C8
    assert due["change_report_spring"] == D(2027, 3, 15)


def test_each_unit_sees_only_the_deadlines_it_owes():
    junior = {d.key for d in rules.deadlines_for(YEAR, rules.UnitFacts(admits_junior=True))}
    primary = {d.key for d in rules.deadlines_for(YEAR, rules.UnitFacts(admits_primary=True))}
    assert "junior_numbers" in junior and "primary_review" not in junior
    assert "primary_review" in primary and "junior_numbers" not in primary
    assert {"change_report_autumn", "change_report_spring"} <= junior & primary


def test_a_deadline_past_its_date_is_overdue_and_one_within_a_week_is_due_soon():
    deadline = rules.Deadline("x", "x", "C8", D(2026, 9, 22))
    assert rules.deadline_status(deadline, D(2026, 9, 23)).overdue
    assert rules.deadline_status(deadline, D(2026, 9, 23)).days_overdue == 1
    assert rules.deadline_status(deadline, D(2026, 9, 16)).due_soon
    assert not rules.deadline_status(deadline, D(2026, 9, 22)).overdue
    assert not rules.deadline_status(deadline, D(2026, 9, 30), done=True).overdue


dates = st.dates(min_value=D(2020, 1, 1), max_value=D(2030, 12, 31))
specials = st.dictionaries(dates, st.sampled_from([rules.HOLIDAY, rules.WORKDAY]), max_size=20)


@given(dates, st.integers(min_value=0, max_value=60), specials)
def test_adding_working_days_and_counting_them_agree(start, days, special):
    end = rules.add_working_days(start, days, special)
    assert rules.working_days_between(start, end, special) == days
    assert days == 0 or rules.is_working_day(end, special)


@given(dates, dates, dates, specials)
def test_working_days_add_up_over_consecutive_spans(a, b, c, special):
    a, b, c = sorted([a, b, c])
    total = rules.working_days_between(a, c, special)
    assert total == rules.working_days_between(a, b, special) + rules.working_days_between(
        b, c, special
    )


@given(dates, st.integers(min_value=0, max_value=4), specials)
def test_the_next_session_is_on_the_weekday_a_working_day_and_not_in_the_past(
    today, weekday, special
):
    session = rules.next_session_date(today, weekday, special)
    assert session >= today
    assert session.weekday() == weekday
    assert rules.is_working_day(session, special)
