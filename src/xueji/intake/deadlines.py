"""Intake tells the dashboards when its deadlines are met (P3): the primary review (N2)
once every entered pupil of the schools the unit answers for has been reviewed, the junior
number collection (N7) once the junior school has collected numbers."""

from xueji.core.calendar import DONE_CHECKS
from xueji.core.scope import supervised_by_central_q
from xueji.intake.models import EntryState, IntakeEntry, JuniorCandidate
from xueji.orgs.models import Unit

WAITING_FOR_REVIEW = (EntryState.ENTERED, EntryState.AWAITING_REVIEW, EntryState.RETURNED)


def _schools(unit: Unit):
    """The schools whose intake the unit owes: the bureau its county, a central school the
    rural primary schools it reviews, a school itself."""
    if unit.is_bureau:
        return Unit.objects.filter(county=unit.county, kind=Unit.Kind.SCHOOL)
    if unit.is_central:
        return Unit.objects.filter(supervised_by_central_q(unit))
    return Unit.objects.filter(pk=unit.pk)


def primary_review_done(unit: Unit, year) -> bool:
    entries = IntakeEntry.objects.filter(
        school_year=year, stage="primary", school__in=_schools(unit)
    )
    return entries.exists() and not entries.filter(state__in=WAITING_FOR_REVIEW).exists()


def junior_numbers_done(unit: Unit, year) -> bool:
    return JuniorCandidate.objects.filter(school_year=year, school__in=_schools(unit)).exists()


DONE_CHECKS["primary_review"] = primary_review_done
DONE_CHECKS["junior_numbers"] = junior_numbers_done
