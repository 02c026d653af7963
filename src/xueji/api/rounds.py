"""Reporting rounds (C8): the county's rounds, where the schools stand in one, the bureau's
extra rounds, and a school's report.

Everyone with the changes view reads the rounds; the statuses are scoped: a school sees its
own, a central school the schools it supervises (itself included), the bureau every school
of the county. A round outside the caller's county is answered 404.
"""

import datetime
import uuid
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from xueji.api.common import caller, scope_of
from xueji.api.schemas import DETAIL_ERRORS, READ_ERRORS, WRITE_ERRORS
from xueji.core import calendar
from xueji.core.scope import Scope
from xueji.packages import round_services, rounds
from xueji.packages.models import ChangeRound, Package

router = Router(tags=["rounds"])


class RoundOut(Schema):
    id: int
    title: str = Field(description="A regular round is named by its semester.")
    kind: str = Field(description="`regular` (one per semester) or `extra` (announced).")
    semester: str | None = Field(description="`autumn` or `spring` for a regular round.")
    school_year: int | None = Field(description="Start year of a regular round's school year.")
    changes_from: datetime.date
    changes_to: datetime.date
    opens_on: datetime.date = Field(description="The first day a school can report.")
    due_date: datetime.date
    announced_at: datetime.datetime


class RoundStatusOut(Schema):
    school_id: int
    school_name: str
    school_code: str | None
    township_id: int | None
    township_name: str
    state: str = Field(description="`reported`, `not_yet` or `overdue`.")
    reported_at: datetime.datetime | None
    late: bool = Field(description="Reported after the due date.")
    package: int | None = Field(description="The id of the school's latest package.")
    changes: int | None = Field(description="How many changes that package carried.")
    findings: int | None = Field(
        description="How many of them the registry does not bear out (unknown, conflicting)."
    )


class RoundCountsOut(Schema):
    reported: int
    not_yet: int
    overdue: int


class RoundDetailOut(RoundOut):
    counts: RoundCountsOut
    statuses: list[RoundStatusOut]


class RoundIn(Schema):
    title: str
    changes_from: datetime.date
    changes_to: datetime.date
    due_date: datetime.date


class RoundDueDateIn(Schema):
    due_date: datetime.date


class ReportOut(Schema):
    id: int
    package_id: uuid.UUID
    sequence: int
    round_id: int | None
    unit_id: int
    handled_at: datetime.datetime
    changes: int
    sha256: str


def _round_out(change_round: ChangeRound) -> dict:
    semester = change_round.semester
    return {
        "id": change_round.pk,
        "title": rounds.round_title(change_round),
        "kind": "regular" if semester is not None else "extra",
        "semester": semester.term if semester is not None else None,
        "school_year": semester.school_year.start_year if semester is not None else None,
        "changes_from": change_round.changes_from,
        "changes_to": change_round.changes_to,
        "opens_on": rounds.report_opens_on(change_round.changes_to),
        "due_date": change_round.due_date,
        "announced_at": change_round.announced_at,
    }


def _status_out(status: rounds.RoundStatus) -> dict:
    school = status.school
    return {
        "school_id": school.pk,
        "school_name": school.name,
        "school_code": school.school_code,
        "township_id": school.parent_id,
        "township_name": school.parent.name if school.parent is not None else "",
        "state": status.state,
        "reported_at": status.reported_at,
        "late": status.late,
        "package": status.package.pk if status.package is not None else None,
        "changes": status.changes,
        "findings": status.findings,
    }


def _get_round(scope: Scope, round_id: int) -> ChangeRound:
    found = scope.rounds().select_related("semester__school_year").filter(pk=round_id).first()
    if found is None:
        raise Http404(_("No such reporting round in your county."))
    return found


def _readable(request) -> Scope:
    scope = scope_of(request)
    scope.require("changes.view")
    return scope


@router.get(
    "/rounds",
    response={200: list[RoundOut], **READ_ERRORS},
    summary="List the county's reporting rounds",
)
def list_rounds(request, open_only: bool = False):
    """Newest due date first. `open_only` keeps the rounds due today or later."""
    scope = _readable(request)
    found = scope.rounds().select_related("semester__school_year")
    if open_only:
        found = found.filter(due_date__gte=calendar.today())
    return [_round_out(change_round) for change_round in found]


@router.get(
    "/rounds/{round_id}",
    response={200: RoundDetailOut, **DETAIL_ERRORS},
    summary="A reporting round with the schools' statuses",
)
def get_round(
    request, round_id: int, status: Literal["reported", "not_yet", "overdue"] | None = None
):
    """The statuses the caller may see; `status` (`reported`, `not_yet`, `overdue`) keeps
    those schools only. The counts are of every school the caller sees."""
    scope = _readable(request)
    change_round = _get_round(scope, round_id)
    statuses = list(rounds.school_statuses(change_round, rounds.visible_schools(scope)).values())
    counts = rounds.state_counts(statuses)
    if status:
        statuses = [found for found in statuses if found.state == status]
    return _round_out(change_round) | {
        "counts": counts,
        "statuses": [_status_out(found) for found in statuses],
    }


@router.post(
    "/rounds",
    response={200: RoundOut, **WRITE_ERRORS},
    summary="Announce an extra reporting round",
)
def announce_round(request, payload: RoundIn):
    """The bureau registrar: every school of the county reports the changes of the range
    by the due date."""
    scope = scope_of(request)
    scope.require("rounds.manage")
    change_round = round_services.do_announce_round(actor=caller(request), **payload.dict())
    return _round_out(change_round)


@router.patch(
    "/rounds/{round_id}",
    response={200: RoundOut, **WRITE_ERRORS},
    summary="Move an extra round's due date",
)
def change_round_due_date(request, round_id: int, payload: RoundDueDateIn):
    scope = scope_of(request)
    scope.require("rounds.manage")
    change_round = _get_round(scope, round_id)
    change_round = round_services.do_change_round_due_date(
        change_round, payload.due_date, actor=caller(request)
    )
    return _round_out(change_round)


@router.delete(
    "/rounds/{round_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Cancel an extra round nobody has reported in",
)
def cancel_round(request, round_id: int):
    scope = scope_of(request)
    scope.require("rounds.manage")
    change_round = _get_round(scope, round_id)
    round_services.do_cancel_round(change_round, actor=caller(request))
    return 204, None


@router.post(
    "/rounds/{round_id}/report",
    response={200: ReportOut, **WRITE_ERRORS},
    summary="Report your school's changes in a round",
)
def report_in_round(request, round_id: int):
    """A networked school's registrar: Xueji makes and signs the school's change package of
    the round's range. A school may report again; its latest package counts."""
    scope = scope_of(request)
    scope.require("packages.export")
    change_round = _get_round(scope, round_id)
    if scope.unit is None or not rounds.may_report(scope, scope.unit):
        raise PermissionDenied(_("Only a school's registrar reports for the school."))
    package: Package = round_services.do_report_round(
        change_round, scope.unit, actor=caller(request)
    )
    return {
        "id": package.pk,
        "package_id": package.package_id,
        "sequence": package.sequence,
        "round_id": package.round_id,
        "unit_id": package.unit_id,
        "handled_at": package.handled_at,
        "changes": rounds.package_change_count(package),
        "sha256": package.sha256,
    }
