"""The semester roster check (人籍一致, N10): each school confirms that every open record
is a pupil present, and that each registered name equals the household-register name.

The school states only the exceptions (flags); everything not flagged is confirmed by the
act itself. Confirming again the same semester replaces the flags, so the latest word of
the school is the one the bureau sees.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.core.calendar import current_school_year, today
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.core.scope import scope_for
from xueji.intake.models import RosterCheck, RosterFlag, RosterFlagKind
from xueji.orgs.models import County, Unit
from xueji.students.models import OPEN_STATUSES, StudentRecord

TERMS = ("autumn", "spring")


def current_semester(
    county: County, on: datetime.date | None = None
) -> tuple[SchoolYear | None, str]:
    """The school year and term in force: the latest started semester of the current
    year, the autumn one before any has started."""
    on = on or today()
    year = current_school_year(county, on)
    if year is None:
        return None, "autumn"
    started = [s for s in year.semesters.all() if s.start_date <= on]
    started.sort(key=lambda semester: semester.start_date)
    return year, started[-1].term if started else "autumn"


def open_records(school: Unit):
    """The open records of the school, the rows a roster check covers."""
    return StudentRecord.objects.filter(
        school=school, status__in=[status.value for status in OPEN_STATUSES]
    ).select_related("student")


def _clean_flags(school: Unit, flags: list[dict]) -> list[RosterFlag]:
    """Check every flag first, then the caller writes them all at once."""
    records = {record.pk: record for record in open_records(school)}
    cleaned: list[RosterFlag] = []
    seen: set[tuple[int, str]] = set()
    for flag in flags:
        record = records.get(_as_int(flag.get("record_id")))
        if record is None:
            raise RuleViolation(
                _("Student: the record is not an open record of this school."), field="record_id"
            )
        kind = flag.get("kind", "")
        if kind not in RosterFlagKind.values:
            raise RuleViolation(_("Kind: choose not present or name mismatch."), field="kind")
        household_name = (flag.get("household_name") or "").strip()
        if kind == RosterFlagKind.NAME_MISMATCH:
            if not household_name:
                raise RuleViolation(
                    _(
                        "Household-register name: give the name as the household register "
                        "shows it (%(name)s)."
                    )
                    % {"name": record.student.name},
                    field="household_name",
                )
            if household_name == record.student.name:
                raise RuleViolation(
                    _(
                        "Household-register name: it equals the registered name of %(name)s; "
                        "there is no mismatch."
                    )
                    % {"name": record.student.name},
                    field="household_name",
                )
        else:
            household_name = ""
        if (record.pk, kind) in seen:
            continue
        seen.add((record.pk, kind))
        cleaned.append(
            RosterFlag(
                record=record,
                kind=kind,
                household_name=household_name[:30],
                note=(flag.get("note") or "").strip()[:200],
            )
        )
    return cleaned


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def do_confirm_roster(
    school: Unit, school_year: SchoolYear, term: str, flags: list[dict], *, actor
) -> RosterCheck:
    """The school's registrar confirms its roster for the semester, flagging the exceptions."""
    if not scope_for(actor).can_edit_school(school):
        raise PermissionDenied(_("Only the school's registrar confirms its roster."))
    if term not in TERMS:
        raise RuleViolation(_("Semester: choose autumn or spring."), field="term")
    if school_year.county_id != school.county_id:
        raise RuleViolation(
            _("School year: not a school year of this county."), field="school_year"
        )
    with transaction.atomic():
        cleaned = _clean_flags(school, flags)
        check, created = RosterCheck.objects.select_for_update().get_or_create(
            school=school,
            school_year=school_year,
            term=term,
            defaults={"confirmed_by": actor, "confirmed_at": timezone.now()},
        )
        if not created:
            check.flags.all().delete()
            check.confirmed_by, check.confirmed_at = actor, timezone.now()
            check.save(update_fields=["confirmed_by", "confirmed_at"])
        for flag in cleaned:
            flag.roster_check = check
        RosterFlag.objects.bulk_create(cleaned)
        record_event(
            "roster.confirmed",
            actor=actor,
            target=school,
            unit=school,
            data={
                "school_year": school_year.start_year,
                "term": term,
                "again": not created,
                "records": open_records(school).count(),
                "not_present": sum(f.kind == RosterFlagKind.NOT_PRESENT for f in cleaned),
                "name_mismatch": sum(f.kind == RosterFlagKind.NAME_MISMATCH for f in cleaned),
                "flagged": sorted({f.record_id for f in cleaned}),
            },
        )
    return check


def roster_status(
    county: County, school_year: SchoolYear, term: str, schools=None
) -> list[tuple[Unit, RosterCheck | None]]:
    """Every active school of the county (or of `schools`) with its check of the semester,
    None where it has not confirmed."""
    if schools is None:
        schools = Unit.objects.filter(county=county, kind=Unit.Kind.SCHOOL)
    schools = (
        schools.filter(is_active=True)
        .select_related("parent")
        .order_by("parent__ordinal", "ordinal", "pk")
    )
    checks = {
        check.school_id: check
        for check in RosterCheck.objects.filter(
            school_year=school_year, term=term, school__in=schools
        )
        .select_related("confirmed_by")
        .prefetch_related("flags__record__student")
    }
    return [(school, checks.get(school.pk)) for school in schools]
