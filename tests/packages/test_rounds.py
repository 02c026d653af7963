"""C8: the reporting rounds. Each semester has one regular round made by the calendar; the
bureau registrar announces, moves and cancels extra rounds (audited); each school of the
county is reported, not yet reported or overdue in a round; the C8 deadline is done once
the school reported in its semester's regular round."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from tests.packages.round_helpers import key_of, open_year, put_package, regular, today
from xueji.audit.models import AuditEvent
from xueji.core import calendar
from xueji.core import services as calendar_services
from xueji.core.errors import RuleViolation
from xueji.packages import round_services, rounds
from xueji.packages.models import ChangeRound, Package, PackageChange


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the msgids); the UI default is Chinese."""
    with translation.override("en"):
        yield


DAY = datetime.timedelta(days=1)


def save_year(cast, start_year, autumn, spring, actor=None, **values):
    return calendar_services.do_save_school_year(
        actor=actor,
        county=cast.county,
        start_year=start_year,
        autumn_start=autumn,
        spring_start=spring,
        **values,
    )


def announce(cast, **overrides):
    values = {
        "title": "期中异动核查",
        "changes_from": today() - 60 * DAY,
        "changes_to": today() - DAY,
        "due_date": today() + 10 * DAY,
    }
    values.update(overrides)
    return round_services.do_announce_round(actor=cast.bureau_registrar, **values)


# --- Regular rounds ------------------------------------------------------------------------


def test_saving_a_school_year_makes_one_regular_round_per_semester_with_its_dates(cast):
    """C8: due three weeks after each start; the changes since the previous semester
    started, up to the day before this one; the county's first takes the half year before."""
    year = save_year(cast, 2025, datetime.date(2025, 9, 1), datetime.date(2026, 2, 24))
    autumn, spring = regular(year, "autumn"), regular(year, "spring")
    assert (autumn.changes_from, autumn.changes_to, autumn.due_date) == (
        datetime.date(2025, 3, 1),
        datetime.date(2025, 8, 31),
        datetime.date(2025, 9, 22),
    )
    assert (spring.changes_from, spring.changes_to, spring.due_date) == (
        datetime.date(2025, 9, 1),
        datetime.date(2026, 2, 23),
        datetime.date(2026, 3, 17),
    )
    assert ChangeRound.objects.filter(county=cast.county).count() == 2
    assert AuditEvent.objects.filter(action="round.regular_opened").count() == 2


def test_saving_the_year_again_makes_nothing_new(cast):
    save_year(cast, 2025, datetime.date(2025, 9, 1), datetime.date(2026, 2, 24))
    events = AuditEvent.objects.count()
    save_year(cast, 2025, datetime.date(2025, 9, 1), datetime.date(2026, 2, 24))
    round_services.ensure_regular_rounds(cast.county)
    assert ChangeRound.objects.filter(county=cast.county).count() == 2
    assert AuditEvent.objects.count() == events


def test_a_moved_semester_start_or_longer_reporting_time_moves_the_round(cast):
    year = save_year(cast, 2025, datetime.date(2025, 9, 1), datetime.date(2026, 2, 24))
    save_year(
        cast,
        2025,
        datetime.date(2025, 9, 1),
        datetime.date(2026, 3, 2),
        actor=cast.bureau_registrar,
        change_report_days=28,
    )
    spring = regular(year, "spring")
    assert (spring.changes_to, spring.due_date) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 30),
    )
    assert regular(year, "autumn").due_date == datetime.date(2025, 9, 29)
    moved = AuditEvent.objects.filter(action="round.regular_changed", target_id=str(spring.pk))
    assert moved.get().actor == cast.bureau_registrar
    assert ChangeRound.objects.count() == 2


def test_the_next_years_first_round_starts_where_the_last_spring_started(cast):
    """Saving an earlier year afterwards joins the ranges: no gap, no overlap."""
    later = save_year(cast, 2026, datetime.date(2026, 9, 1), datetime.date(2027, 2, 22))
    assert regular(later).changes_from == datetime.date(2026, 3, 1)
    save_year(cast, 2025, datetime.date(2025, 9, 1), datetime.date(2026, 2, 24))
    assert regular(later).changes_from == datetime.date(2026, 2, 24)
    ranges = sorted(
        (r.changes_from, r.changes_to) for r in ChangeRound.objects.filter(county=cast.county)
    )
    for (_start, end), (next_start, _end) in zip(ranges, ranges[1:], strict=False):
        assert next_start == end + DAY


def test_regular_round_dates_as_a_pure_rule():
    dates = rounds.regular_round_dates(datetime.date(2027, 2, 22), datetime.date(2026, 9, 1), 21)
    assert dates == rounds.RoundDates(
        datetime.date(2026, 9, 1), datetime.date(2027, 2, 21), datetime.date(2027, 3, 15)
    )
    first = rounds.regular_round_dates(datetime.date(2026, 2, 20), None, 21)
    assert first.changes_from == datetime.date(2025, 8, 1)


# --- Extra rounds ----------------------------------------------------------------------------


def test_the_bureau_registrar_announces_an_extra_round_audited(cast):
    change_round = announce(cast)
    assert change_round.semester is None
    assert change_round.announced_by == cast.bureau_registrar
    event = AuditEvent.objects.get(action="round.announced")
    assert event.actor == cast.bureau_registrar
    assert event.data["title"] == "期中异动核查"
    assert event.data["due_date"] == (today() + 10 * DAY).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "长" * 61}, "title"),
        ({"changes_from": today(), "changes_to": today() - DAY}, "changes_to"),
        ({"due_date": today() - 2 * DAY}, "due_date"),
        ({"changes_to": today() + 10 * DAY}, "due_date"),
        ({"due_date": today() - 3 * DAY, "changes_to": today() - 5 * DAY}, "due_date"),
    ],
)
def test_an_extra_round_with_a_bad_title_or_dates_is_refused(cast, overrides, field):
    with pytest.raises(RuleViolation) as refused:
        announce(cast, **overrides)
    assert refused.value.field == field
    assert not ChangeRound.objects.exists()


@pytest.mark.parametrize("who", ["bureau_leader", "central_a_registrar", "a1_registrar"])
def test_only_the_bureau_registrar_announces(cast, who):
    with pytest.raises(PermissionDenied):
        round_services.do_announce_round(
            actor=getattr(cast, who),
            title="x",
            changes_from=today() - 9 * DAY,
            changes_to=today() - DAY,
            due_date=today() + DAY,
        )
    assert not ChangeRound.objects.exists()


def test_the_bureau_moves_an_extra_rounds_due_date_audited(cast):
    change_round = announce(cast)
    moved = round_services.do_change_round_due_date(
        change_round, today() + 20 * DAY, actor=cast.bureau_registrar
    )
    assert moved.due_date == today() + 20 * DAY
    event = AuditEvent.objects.get(action="round.due_date_changed")
    assert event.data["changes"]["due_date"] == [
        (today() + 10 * DAY).isoformat(),
        (today() + 20 * DAY).isoformat(),
    ]
    with pytest.raises(RuleViolation) as refused:
        round_services.do_change_round_due_date(
            change_round, today() - DAY, actor=cast.bureau_registrar
        )
    assert refused.value.field == "due_date"


def test_a_regular_round_moves_only_with_the_calendar(cast):
    year = open_year(cast, autumn_start=today() - 30 * DAY)
    with pytest.raises(RuleViolation, match="school calendar"):
        round_services.do_change_round_due_date(
            regular(year), today() + 5 * DAY, actor=cast.bureau_registrar
        )
    with pytest.raises(RuleViolation):
        round_services.do_cancel_round(regular(year), actor=cast.bureau_registrar)


def test_an_extra_round_nobody_reported_in_is_cancelled_and_the_audit_keeps_it(cast):
    change_round = announce(cast)
    pk = change_round.pk
    round_services.do_cancel_round(change_round, actor=cast.bureau_registrar)
    assert not ChangeRound.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action="round.cancelled")
    assert (event.target_id, event.data["title"]) == (str(pk), "期中异动核查")
    assert event.actor == cast.bureau_registrar


def test_a_round_someone_reported_in_cannot_be_cancelled(cast):
    change_round = announce(cast)
    put_package(cast.school_a1, change_round)
    with pytest.raises(RuleViolation, match="already reported"):
        round_services.do_cancel_round(change_round, actor=cast.bureau_registrar)
    assert ChangeRound.objects.filter(pk=change_round.pk).exists()
    assert not AuditEvent.objects.filter(action="round.cancelled").exists()


def test_a_school_cannot_move_or_cancel_a_round(cast):
    change_round = announce(cast)
    with pytest.raises(PermissionDenied):
        round_services.do_change_round_due_date(
            change_round, today() + 30 * DAY, actor=cast.a1_registrar
        )
    with pytest.raises(PermissionDenied):
        round_services.do_cancel_round(change_round, actor=cast.central_a_registrar)


# --- Statuses ----------------------------------------------------------------------------------


def schools(cast):
    return [cast.central_a, cast.school_a1, cast.school_c, cast.central_b, cast.school_b1]


def test_every_active_school_owes_a_round_and_no_township_or_bureau_does(cast):
    owing = set(rounds.owing_schools(cast.county))
    assert owing == set(schools(cast))


def test_statuses_are_reported_not_yet_or_overdue(cast):
    """C8: the bureau sees who reported (when, how many changes, how many findings), who
    has not yet, and who is overdue."""
    year = open_year(cast, autumn_start=today() - 30 * DAY)
    past = regular(year)  # due 9 days ago
    put_package(cast.school_a1, past, changes=5)
    statuses = rounds.school_statuses(past, schools(cast))
    assert statuses[cast.school_a1.pk].state == rounds.REPORTED
    assert statuses[cast.school_a1.pk].changes == 5
    assert statuses[cast.school_b1.pk].state == rounds.OVERDUE
    assert rounds.state_counts(statuses.values()) == {"reported": 1, "not_yet": 0, "overdue": 4}

    coming = announce(cast)
    statuses = rounds.school_statuses(coming, schools(cast))
    assert {status.state for status in statuses.values()} == {rounds.NOT_YET}


def test_a_late_report_counts_as_reported_and_is_marked_late(cast):
    year = open_year(cast, autumn_start=today() - 30 * DAY)
    put_package(cast.school_b1, regular(year))
    status = rounds.school_statuses(regular(year), [cast.school_b1])[cast.school_b1.pk]
    assert status.state == rounds.REPORTED
    assert status.late


def test_a_school_that_reported_twice_is_judged_by_its_latest_package(cast):
    change_round = announce(cast)
    put_package(cast.school_a1, change_round, changes=1)
    latest = put_package(cast.school_a1, change_round, changes=4)
    status = rounds.school_statuses(change_round, [cast.school_a1])[cast.school_a1.pk]
    assert status.package == latest
    assert status.changes == 4


def test_an_offline_units_imported_package_reports_it_with_its_findings(cast):
    """An offline unit's package, imported by the bureau, counts for the round; a change
    that conflicts with the registry is a finding (an unknown one enters the bureau's
    queue instead)."""
    change_round = announce(cast)
    verdicts = [
        PackageChange.Verdict.RECONCILED,
        PackageChange.Verdict.UNKNOWN,
        PackageChange.Verdict.CONFLICTING,
        PackageChange.Verdict.PENDING,
    ]
    put_package(
        cast.school_b1,
        change_round,
        direction=Package.Direction.IMPORT,
        changes=4,
        verdicts=verdicts,
        offline=True,
    )
    status = rounds.school_statuses(change_round, [cast.school_b1])[cast.school_b1.pk]
    assert status.state == rounds.REPORTED
    assert (status.changes, status.findings) == (4, 1)


def test_a_central_schools_package_for_its_schools_reports_each_it_names(cast):
    change_round = announce(cast)
    put_package(
        cast.central_a,
        change_round,
        direction=Package.Direction.IMPORT,
        schools=[cast.central_a, cast.school_a1],
        offline=True,
    )
    statuses = rounds.school_statuses(change_round, schools(cast))
    reported = {pk for pk, status in statuses.items() if status.state == rounds.REPORTED}
    assert reported == {cast.central_a.pk, cast.school_a1.pk}


def test_a_package_outside_the_round_does_not_count(cast):
    change_round = announce(cast)
    other = announce(cast, title="另一轮")
    put_package(cast.school_a1, other)
    assert not rounds.has_reported(change_round, cast.school_a1)
    assert rounds.has_reported(other, cast.school_a1)


# --- Who reports, and when --------------------------------------------------------------------


def test_a_school_reports_only_after_the_rounds_range_is_over(cast):
    key_of(cast.school_a1)
    change_round = announce(cast, changes_to=today(), due_date=today() + 5 * DAY)
    problem = rounds.report_problem(change_round, cast.school_a1)
    assert problem is not None and (today() + DAY).isoformat() in problem
    assert rounds.report_problem(change_round, cast.school_a1, today() + DAY) is None


def test_an_offline_school_cannot_report_here_and_is_told_to_bring_its_file(cast):
    key_of(cast.school_a1)
    key_of(cast.school_b1, offline=True)
    change_round = announce(cast)
    assert "offline" in rounds.report_problem(change_round, cast.school_b1)
    assert rounds.report_problem(change_round, cast.school_a1) is None


def test_only_a_schools_own_registrar_may_report_for_it(cast):
    from xueji.core.scope import scope_for

    assert rounds.may_report(scope_for(cast.a1_registrar), cast.school_a1)
    assert rounds.may_report(scope_for(cast.central_a_registrar), cast.central_a)
    assert not rounds.may_report(scope_for(cast.central_a_registrar), cast.school_a1)
    assert not rounds.may_report(scope_for(cast.b1_registrar), cast.school_a1)
    assert not rounds.may_report(scope_for(cast.a1_leader), cast.school_a1)
    assert not rounds.may_report(scope_for(cast.bureau_registrar), cast.school_a1)


def test_reporting_for_another_school_is_refused(cast):
    change_round = announce(cast)
    with pytest.raises(PermissionDenied):
        round_services.do_report_round(change_round, cast.school_a1, actor=cast.b1_registrar)
    with pytest.raises(PermissionDenied):
        round_services.do_report_round(change_round, cast.school_a1, actor=cast.bureau_registrar)


def test_reporting_before_the_range_is_over_is_refused(cast):
    change_round = announce(cast, changes_to=today(), due_date=today() + 5 * DAY)
    with pytest.raises(RuleViolation, match="you can report from"):
        round_services.do_report_round(change_round, cast.school_a1, actor=cast.a1_registrar)
    assert not Package.objects.exists()


# --- The C8 deadline ---------------------------------------------------------------------------


def c8(unit):
    return {s.deadline.key: s for s in calendar.deadlines_of(unit)}["change_report_autumn"]


def test_the_c8_deadline_is_done_once_the_school_reported_in_the_regular_round(cast):
    year = open_year(cast, autumn_start=today() - 30 * DAY)
    assert c8(cast.school_a1).overdue
    put_package(cast.school_a1, regular(year))
    assert c8(cast.school_a1).done and not c8(cast.school_a1).overdue
    assert not c8(cast.school_b1).done
    # An extra round's report does not do the semester's regular deadline.
    put_package(cast.school_b1, announce(cast))
    assert not c8(cast.school_b1).done


def test_the_bureaus_c8_deadline_is_done_when_every_school_reported(cast):
    year = open_year(cast, autumn_start=today() - 30 * DAY)
    for school in schools(cast)[:-1]:
        put_package(school, regular(year))
    assert not c8(cast.bureau).done
    put_package(cast.school_b1, regular(year))
    assert c8(cast.bureau).done
