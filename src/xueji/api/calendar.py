"""The calendar (P3): school years and semesters, holidays and make-up days, deadlines and
the next approval session. Everyone in the county reads it; the bureau registrar writes it."""

import datetime
from typing import Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from xueji.api.common import caller, require_member, scope_of
from xueji.api.schemas import READ_ERRORS, WRITE_ERRORS, omittable
from xueji.core import calendar, services
from xueji.core.models import CalendarDay, SchoolYear, Weekday

router = Router(tags=["calendar"])


class SchoolYearOut(Schema):
    start_year: int
    label: str
    autumn_start: datetime.date | None
    spring_start: datetime.date | None
    entry_age: int
    entry_age_cutoff: datetime.date
    approval_weekday: int = Field(description="0 = Monday … 6 = Sunday")
    review_days: int
    junior_numbers_days: int
    change_report_days: int
    step_limit_working_days: int

    @staticmethod
    def _start(year: SchoolYear, term: str) -> datetime.date | None:
        return next((s.start_date for s in year.semesters.all() if s.term == term), None)

    @staticmethod
    def resolve_autumn_start(year: SchoolYear) -> datetime.date | None:
        return SchoolYearOut._start(year, "autumn")

    @staticmethod
    def resolve_spring_start(year: SchoolYear) -> datetime.date | None:
        return SchoolYearOut._start(year, "spring")


class SchoolYearIn(Schema):
    """The two semester starts are required; every other number keeps its current value
    (or the default, for a new year) when left out."""

    autumn_start: datetime.date
    spring_start: datetime.date
    entry_age: int = omittable()
    entry_age_cutoff: datetime.date = omittable()
    approval_weekday: Weekday = omittable()
    review_days: int = omittable()
    junior_numbers_days: int = omittable()
    change_report_days: int = omittable()
    step_limit_working_days: int = omittable()


class CalendarDayOut(Schema):
    id: int
    date: datetime.date
    kind: str
    name: str


class CalendarDayIn(Schema):
    date: datetime.date
    # CalendarDay.Kind's values, spelt out: every enum class called Kind would share one
    # schema named "Kind" in the OpenAPI document (the change kinds have it).
    kind: Literal["holiday", "workday"] = "holiday"
    name: str = ""


class DeadlineOut(Schema):
    key: str
    title: str
    requirement: str = Field(description="The requirement it comes from, e.g. N2.")
    due: datetime.date
    days_left: int
    overdue: bool
    due_soon: bool
    done: bool


class NextSessionOut(Schema):
    date: datetime.date | None = Field(description="None until a school year is configured.")
    school_year: str | None


@router.get(
    "/school-years",
    response={200: list[SchoolYearOut], **READ_ERRORS},
    summary="List the county's school years",
)
def list_school_years(request):
    scope = scope_of(request)
    require_member(scope)
    return SchoolYear.objects.filter(county=scope.county()).prefetch_related("semesters")


@router.put(
    "/school-years/{start_year}",
    response={200: SchoolYearOut, **WRITE_ERRORS},
    summary="Open or change a school year",
)
def save_school_year(request, start_year: int, payload: SchoolYearIn):
    scope = scope_of(request)
    scope.require("setup.manage")
    values = payload.model_dump(exclude_unset=True)
    return services.do_save_school_year(
        actor=caller(request),
        county=scope.county(),
        start_year=start_year,
        autumn_start=values.pop("autumn_start"),
        spring_start=values.pop("spring_start"),
        **values,
    )


@router.get(
    "/calendar-days",
    response={200: list[CalendarDayOut], **READ_ERRORS},
    summary="List holidays and make-up working days",
)
def list_calendar_days(
    request, date_from: datetime.date | None = None, date_to: datetime.date | None = None
):
    scope = scope_of(request)
    require_member(scope)
    days = CalendarDay.objects.filter(county=scope.county())
    if date_from is not None:
        days = days.filter(date__gte=date_from)
    if date_to is not None:
        days = days.filter(date__lte=date_to)
    return days


@router.post(
    "/calendar-days",
    response={200: CalendarDayOut, **WRITE_ERRORS},
    summary="Mark a holiday or a make-up working day",
)
def set_calendar_day(request, payload: CalendarDayIn):
    """A day already marked is changed to the new kind and name."""
    scope = scope_of(request)
    scope.require("setup.manage")
    return services.do_set_calendar_day(
        actor=caller(request), county=scope.county(), **payload.model_dump()
    )


@router.delete(
    "/calendar-days/{day_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a holiday or make-up working day",
)
def remove_calendar_day(request, day_id: int):
    scope = scope_of(request)
    scope.require("setup.manage")
    day = CalendarDay.objects.filter(county=scope.county(), pk=day_id).first()
    if day is None:
        raise Http404(_("No such day in your county's calendar."))
    services.do_remove_calendar_day(day, actor=caller(request))
    return 204, None


@router.get(
    "/deadlines",
    response={200: list[DeadlineOut], **READ_ERRORS},
    summary="Your unit's deadlines this school year",
)
def list_deadlines(request):
    scope = scope_of(request)
    require_member(scope)
    return [
        {
            "key": status.deadline.key,
            "title": status.deadline.title,
            "requirement": status.deadline.requirement,
            "due": status.deadline.due,
            "days_left": status.days_left,
            "overdue": status.overdue,
            "due_soon": status.due_soon,
            "done": status.done,
        }
        for status in calendar.deadlines_of(scope.unit)
    ]


@router.get(
    "/next-session",
    response={200: NextSessionOut, **READ_ERRORS},
    summary="The next bureau approval session",
)
def get_next_session(request):
    scope = scope_of(request)
    require_member(scope)
    county = scope.county()
    year = calendar.current_school_year(county)
    return {
        "date": calendar.next_session(county),
        "school_year": year.label if year is not None else None,
    }
