"""Changes to the calendar: school years with their semesters, holidays and make-up days."""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from xueji.audit.services import changes, record_event
from xueji.core.errors import RuleViolation
from xueji.core.models import CalendarDay, SchoolYear, Semester, Term
from xueji.core.scope import scope_for
from xueji.orgs.models import County

YEAR_FIELDS = (
    "entry_age",
    "entry_age_cutoff",
    "approval_weekday",
    "review_days",
    "junior_numbers_days",
    "change_report_days",
    "step_limit_working_days",
)


def _require_calendar(actor, county: County) -> None:
    if actor is None:
        return
    scope = scope_for(actor)
    scope.require("setup.manage")
    if scope.county() != county:
        raise RuleViolation(_("This county is outside your scope."))


def _check_year(start_year: int, autumn_start, spring_start, values: dict) -> None:
    if not 2000 <= start_year <= 2100:
        raise RuleViolation(
            _("Start year: enter a year between 2000 and 2100."), field="start_year"
        )
    if autumn_start.year != start_year:
        raise RuleViolation(
            _("Autumn start: the autumn semester of %(year)d must start in %(year)d.")
            % {"year": start_year},
            field="autumn_start",
        )
    if not autumn_start < spring_start <= datetime.date(start_year + 1, 8, 31):
        raise RuleViolation(
            _(
                "Spring start: the spring semester must start after the autumn semester and "
                "before September %(year)d."
            )
            % {"year": start_year + 1},
            field="spring_start",
        )
    if not 0 <= int(values.get("approval_weekday", 2)) <= 4:
        raise RuleViolation(
            _("Session weekday: choose a day from Monday to Friday."), field="approval_weekday"
        )
    for field in ("review_days", "junior_numbers_days", "change_report_days"):
        if field in values and not 1 <= int(values[field]) <= 120:
            raise RuleViolation(_("Deadline days: enter between 1 and 120 days."), field=field)
    if (
        "step_limit_working_days" in values
        and not 1 <= int(values["step_limit_working_days"]) <= 60
    ):
        raise RuleViolation(
            _("Waiting limit: enter between 1 and 60 working days."),
            field="step_limit_working_days",
        )
    if "entry_age" in values and not 3 <= int(values["entry_age"]) <= 9:
        raise RuleViolation(_("Entry age: enter an age between 3 and 9."), field="entry_age")


def do_save_school_year(
    *,
    actor,
    county: County,
    start_year: int,
    autumn_start: datetime.date,
    spring_start: datetime.date,
    **values,
) -> SchoolYear:
    """Open a school year or change it: its two semesters and the numbers of its deadlines."""
    _require_calendar(actor, county)
    unknown = set(values) - set(YEAR_FIELDS)
    if unknown:
        raise RuleViolation(_("Unknown field: %(field)s") % {"field": ", ".join(sorted(unknown))})
    _check_year(start_year, autumn_start, spring_start, values)
    with transaction.atomic():
        existing = (
            SchoolYear.objects.select_for_update()
            .filter(county=county, start_year=start_year)
            .first()
        )
        created = existing is None
        before: dict = {}
        if existing is None:
            year = SchoolYear(
                county=county,
                start_year=start_year,
                entry_age_cutoff=datetime.date(start_year, 8, 31),
            )
        else:
            year = existing
            before = {field: getattr(year, field) for field in YEAR_FIELDS}
            before |= {s.term: s.start_date for s in year.semesters.all()}
        for field, value in values.items():
            setattr(year, field, value)
        year.save()
        for term, start in ((Term.AUTUMN, autumn_start), (Term.SPRING, spring_start)):
            Semester.objects.update_or_create(
                school_year=year, term=term, defaults={"start_date": start}
            )
        after = {field: getattr(year, field) for field in YEAR_FIELDS}
        after |= {Term.AUTUMN.value: autumn_start, Term.SPRING.value: spring_start}
        diff = changes(before, after)
        if diff:
            record_event(
                "calendar.year_opened" if created else "calendar.year_changed",
                actor=actor,
                target=year,
                data={"changes": diff},
            )
        # C8: each semester's regular reporting round follows the calendar.
        from xueji.packages.round_services import ensure_regular_rounds

        ensure_regular_rounds(county, year, actor=actor)
    return year


def do_set_calendar_day(
    *, actor, county: County, date: datetime.date, kind: str, name: str = ""
) -> CalendarDay:
    """Mark a day as a holiday, or a weekend as a make-up working day (调休)."""
    _require_calendar(actor, county)
    if kind not in CalendarDay.Kind.values:
        raise RuleViolation(_("Kind: choose holiday or make-up working day."), field="kind")
    if kind == CalendarDay.Kind.WORKDAY and date.weekday() < 5:
        raise RuleViolation(
            _("Date: %(date)s is a weekday already; only a weekend can be a make-up day.")
            % {"date": date.isoformat()},
            field="date",
        )
    with transaction.atomic():
        day, created = CalendarDay.objects.update_or_create(
            county=county, date=date, defaults={"kind": kind, "name": name.strip()[:40]}
        )
        record_event(
            "calendar.day_set",
            actor=actor,
            target=day,
            data={"date": date, "kind": kind, "name": day.name, "new": created},
        )
    return day


def do_remove_calendar_day(day: CalendarDay, *, actor) -> None:
    _require_calendar(actor, day.county)
    with transaction.atomic():
        record_event(
            "calendar.day_removed",
            actor=actor,
            target=day,
            data={"date": day.date, "kind": day.kind, "name": day.name},
        )
        day.delete()
