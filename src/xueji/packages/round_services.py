"""Changes to the reporting rounds (C8): the regular round of each semester, the bureau's
extra rounds, and a school's report in a round.

Each function checks the rule, writes, and records an audit event in one transaction
naming the actor. The report itself is a change package made by the export service.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from xueji.audit.services import changes, record_event
from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear, Semester
from xueji.core.scope import scope_for
from xueji.orgs.models import County, Unit
from xueji.packages import rounds
from xueji.packages.models import ChangeRound, Package

ROUND_FIELDS = ("changes_from", "changes_to", "due_date")


def _facts(change_round: ChangeRound) -> dict:
    return {field: getattr(change_round, field) for field in ROUND_FIELDS}


def _regular_title(semester: Semester) -> str:
    """The semester's name in the installation's language ("2026-2027学年 秋季学期"), for
    lists that show the stored title; pages translate it for the reader
    (rounds.round_title)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(semester)[: rounds.TITLE_MAX]


def ensure_regular_rounds(
    county: County, year: SchoolYear | None = None, *, actor=None
) -> list[ChangeRound]:
    """Make each semester's regular round, or bring its dates in line with the calendar;
    safe to run any number of times. With `year`, its two semesters and the semester after
    them (whose range starts where this year's last semester starts); else every semester
    of the county. Called when the bureau saves a school year, and by `xueji demo`."""
    semesters = list(
        Semester.objects.filter(school_year__county=county)
        .select_related("school_year")
        .order_by("start_date", "pk")
    )
    if year is None:
        wanted = {semester.pk for semester in semesters}
    else:
        own = [index for index, s in enumerate(semesters) if s.school_year_id == year.pk]
        wanted = {semesters[index].pk for index in own}
        if own and own[-1] + 1 < len(semesters):
            wanted.add(semesters[own[-1] + 1].pk)
    touched: list[ChangeRound] = []
    with transaction.atomic():
        existing = {
            change_round.semester_id: change_round
            for change_round in ChangeRound.objects.select_for_update().filter(
                semester_id__in=wanted
            )
        }
        previous_start: datetime.date | None = None
        for semester in semesters:
            dates = rounds.regular_round_dates(
                semester.start_date, previous_start, semester.school_year.change_report_days
            )
            previous_start = semester.start_date
            if semester.pk not in wanted:
                continue
            after = {
                "changes_from": dates.changes_from,
                "changes_to": dates.changes_to,
                "due_date": dates.due_date,
            }
            change_round = existing.get(semester.pk)
            if change_round is None:
                change_round = ChangeRound.objects.create(
                    county=county,
                    semester=semester,
                    title=_regular_title(semester),
                    announced_by=actor,
                    **after,
                )
                record_event(
                    "round.regular_opened",
                    actor=actor,
                    target=change_round,
                    data={"semester": str(semester)} | after,
                )
                touched.append(change_round)
                continue
            diff = changes(_facts(change_round), after)
            if diff:
                for field, value in after.items():
                    setattr(change_round, field, value)
                change_round.save(update_fields=list(after))
                record_event(
                    "round.regular_changed",
                    actor=actor,
                    target=change_round,
                    data={
                        "changes": diff,
                        "reported": rounds.round_packages(change_round).count(),
                    },
                )
                touched.append(change_round)
    return touched


def _require_manager(actor, county: County | None) -> County:
    """The bureau registrar of the round's county; None is the system (the demo loader),
    which must name the county."""
    if actor is None:
        if county is None:
            raise RuleViolation(_("Name the county of the round."))
        return county
    scope = scope_for(actor)
    scope.require("rounds.manage")
    own = scope.county()
    if own is None or (county is not None and county.pk != own.pk):
        raise PermissionDenied(_("This county is outside your scope."))
    return own


def _require_extra(change_round: ChangeRound) -> None:
    if rounds.is_regular(change_round):
        raise RuleViolation(
            _(
                "A semester's regular round follows the school calendar: change the semester's "
                "start date or the days for change reporting there."
            ),
            field="due_date",
        )


def do_announce_round(
    *,
    actor,
    title: str,
    changes_from: datetime.date,
    changes_to: datetime.date,
    due_date: datetime.date,
    county: County | None = None,
) -> ChangeRound:
    """The bureau announces an extra round: every school reports the changes of the range
    by the due date (C8, "at other times the bureau announces")."""
    county = _require_manager(actor, county)
    title = title.strip()
    rounds.check_extra_round(title, changes_from, changes_to, due_date, calendar.today())
    with transaction.atomic():
        change_round = ChangeRound.objects.create(
            county=county,
            semester=None,
            title=title,
            changes_from=changes_from,
            changes_to=changes_to,
            due_date=due_date,
            announced_by=actor,
        )
        record_event(
            "round.announced",
            actor=actor,
            target=change_round,
            data={"title": title} | _facts(change_round),
        )
    return change_round


def do_change_round_due_date(
    change_round: ChangeRound, due_date: datetime.date, *, actor
) -> ChangeRound:
    """Move an extra round's due date (earlier or later); the schools see the new date at
    once. Allowed after some schools reported: their reports stand."""
    _require_manager(actor, change_round.county)
    _require_extra(change_round)
    with transaction.atomic():
        locked = ChangeRound.objects.select_for_update().get(pk=change_round.pk)
        if locked.due_date == due_date:
            return locked
        rounds.check_due_date(locked.changes_to, due_date, calendar.today())
        before = locked.due_date
        locked.due_date = due_date
        locked.save(update_fields=["due_date"])
        record_event(
            "round.due_date_changed",
            actor=actor,
            target=locked,
            data={"changes": {"due_date": [before, due_date]}},
        )
    return locked


def do_cancel_round(change_round: ChangeRound, *, actor) -> None:
    """Cancel an extra round nobody has reported in yet. The round is removed; the audit
    event keeps what it was."""
    _require_manager(actor, change_round.county)
    _require_extra(change_round)
    with transaction.atomic():
        locked = ChangeRound.objects.select_for_update().get(pk=change_round.pk)
        reported = Package.objects.filter(round=locked).values("unit_id").distinct().count()
        if reported:
            raise RuleViolation(
                ngettext(
                    "%(count)d school has already reported in this round: it can no longer be "
                    "cancelled. Move its due date instead.",
                    "%(count)d schools have already reported in this round: it can no longer "
                    "be cancelled. Move its due date instead.",
                    reported,
                )
                % {"count": reported}
            )
        record_event(
            "round.cancelled",
            actor=actor,
            target=locked,
            data={"title": locked.title} | _facts(locked),
        )
        locked.delete()


def do_report_round(change_round: ChangeRound, school: Unit, *, actor) -> Package:
    """A networked school reports in a round: its change package of the round's range,
    made and signed on this installation by the export service, which records it."""
    scope = scope_for(actor)
    scope.require("packages.export")
    if not rounds.may_report(scope, school):
        raise PermissionDenied(_("You may not report for this school."))
    problem = rounds.report_problem(change_round, school)
    if problem is not None:
        raise RuleViolation(problem)
    from xueji.packages.services import do_export_changes

    return do_export_changes(
        actor=actor,
        schools=[school],
        grades=None,
        date_from=change_round.changes_from,
        date_to=change_round.changes_to,
        round=change_round,
    )
