"""New-student intake (N1-N9) and the year's end: entries through their states from
entry to acceptance, photos, numbers, the bureau's photo sheets, junior number
collection and conversion.

Reads go through the caller's scope (an id outside it is answered 404, like one that does
not exist); each write calls one service of xueji.intake with the caller as actor, which
decides who may take the step (the school, the reviewing unit, the bureau).
"""

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from xueji.api.common import caller, scope_of, uploaded_file
from xueji.api.intake_schemas import (
    CandidateIdsIn,
    CandidateOut,
    CatchmentIn,
    CatchmentOut,
    ConvertedOut,
    EntriesOut,
    EntryCreatedOut,
    EntryIdsIn,
    EntryOut,
    ExceptionIn,
    IntakeEntryIn,
    IntakeSummaryOut,
    JuniorIn,
    NumberIn,
    ReturnIn,
    ReviewIn,
    YearEndIn,
    YearEndOut,
    YearEndPreviewOut,
)
from xueji.api.schemas import (
    DETAIL_ERRORS,
    MULTIPART_FILE,
    READ_ERRORS,
    WRITE_ERRORS,
    pdf_openapi,
)
from xueji.api.student_schemas import PhotoOut, item_values
from xueji.api.students import (
    PHOTO_READ_LIMIT,
    STUDENT_WRITE_ERRORS,
    _problems,
    _refused,
    _violation,
)
from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.core.scope import Scope
from xueji.intake import catchment_services, photo_sheet, services
from xueji.intake.models import EntryState, IntakeEntry, JuniorCandidate
from xueji.orgs.models import Unit
from xueji.students.models import Placement
from xueji.students.validation import validate_student

router = Router(tags=["intake"])

MULTIPART_PHOTO = MULTIPART_FILE
PDF_RESPONSE = pdf_openapi("The photo sheet as an A4 PDF.")


# --- Finding things in the scope --------------------------------------------------------


def _entries(scope: Scope) -> QuerySet[IntakeEntry]:
    scope.require("students.view")
    return (
        IntakeEntry.objects.filter(school__in=scope.schools())
        .select_related("record__student", "school", "school_year")
        .prefetch_related(Prefetch("record__placements", queryset=Placement.objects.all()))
    )


def _entry(scope: Scope, entry_id: int) -> IntakeEntry:
    entry = _entries(scope).filter(pk=entry_id).first()
    if entry is None:
        raise Http404(_("No such intake entry in your scope."))
    return entry


def _entries_by_id(scope: Scope, ids: list[int]) -> list[IntakeEntry]:
    """Every entry named, or 404 when one does not exist or lies outside the scope."""
    found = list(_entries(scope).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise Http404(_("No such intake entry in your scope."))
    return found


def _fresh(entries: list[IntakeEntry], count: int) -> dict[str, Any]:
    """The entries as they now stand, after a service moved them."""
    fresh = (
        IntakeEntry.objects.filter(pk__in=[entry.pk for entry in entries])
        .select_related("record__student", "school", "school_year")
        .prefetch_related("record__placements")
        .order_by("pk")
    )
    return {"count": count, "entries": list(fresh)}


def _candidates(scope: Scope) -> QuerySet[JuniorCandidate]:
    scope.require("students.view")
    return JuniorCandidate.objects.filter(school__in=scope.schools()).select_related(
        "school", "school_year", "primary_record__student", "junior_record"
    )


def _current_year(scope: Scope) -> SchoolYear:
    county = scope.county()
    year = calendar.current_school_year(county) if county is not None else None
    if year is None:
        raise RuleViolation(_("No school year is open yet."))
    return year


def _school_year(scope: Scope, start_year: int, field: str) -> SchoolYear:
    year = SchoolYear.objects.filter(county=scope.county(), start_year=start_year).first()
    if year is None:
        raise RuleViolation(
            _("School year: %(year)s-%(next)s has not been set up.")
            % {"year": start_year, "next": start_year + 1},
            field=field,
        )
    return year


# --- The intake at a glance -------------------------------------------------------------


@router.get(
    "/intake",
    response={200: list[IntakeSummaryOut], **READ_ERRORS},
    summary="Intake counts per school",
)
def get_intake(request):
    """Per school of your scope, the current school year's entries in each state."""
    scope = scope_of(request)
    scope.require("students.view")
    county = scope.county()
    year = calendar.current_school_year(county) if county is not None else None
    schools = list(scope.schools().order_by("school_code", "pk"))
    counts: dict[int, dict[str, int]] = {school.pk: {} for school in schools}
    junior: dict[int, int] = {}
    if year is not None:
        rows = (
            IntakeEntry.objects.filter(school__in=schools, school_year=year)
            .values("school_id", "state")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            counts[row["school_id"]][row["state"]] = row["n"]
        junior = dict(
            JuniorCandidate.objects.filter(school__in=schools, school_year=year)
            .values("school_id")
            .annotate(n=Count("pk"))
            .values_list("school_id", "n")
        )
    return [
        {
            "school_id": school.pk,
            "school_name": school.name,
            "school_code": school.school_code,
            "school_year": year.start_year if year else None,
            "counts": {state: counts[school.pk].get(state, 0) for state in EntryState.values},
            "total": sum(counts[school.pk].values()),
            "junior_candidates": junior.get(school.pk, 0),
        }
        for school in schools
    ]


class EntryFilters(Schema):
    school: int | None = Field(None, description="Entries of this school (id).")
    state: EntryState | None = None
    school_year: int | None = Field(None, description="A school year's start year.")


@router.get(
    "/intake/entries",
    response={200: list[EntryOut], **READ_ERRORS},
    summary="List intake entries",
)
@paginate(LimitOffsetPagination, max_limit=500)
def list_intake_entries(request, filters: Query[EntryFilters]):
    entries = _entries(scope_of(request))
    if filters.school is not None:
        entries = entries.filter(school_id=filters.school)
    if filters.state is not None:
        entries = entries.filter(state=filters.state)
    if filters.school_year is not None:
        entries = entries.filter(school_year__start_year=filters.school_year)
    return entries.order_by("school_id", "pk")


@router.post(
    "/intake/entries",
    response={201: EntryCreatedOut, **STUDENT_WRITE_ERRORS},
    summary="Enter a new pupil",
)
def enter_pupil(request, payload: IntakeEntryIn):
    """N1: the items of the national form from the household register, checked as the
    form checks them (every problem listed); the answer names the eligibility problems
    (entry age, catchment) the reviewing unit will see."""
    scope = scope_of(request)
    scope.require("students.edit")
    school = scope.get_unit(payload.school_id)
    sent = item_values(payload)
    checked = validate_student(sent, today=calendar.today())
    if not checked.ok:
        return _refused(checked)
    try:
        entry = services.do_enter_pupil(
            checked.values, actor=caller(request), school=school, school_year=_current_year(scope)
        )
    except RuleViolation as error:
        return _violation(error, checked, sent)
    return Status(
        201,
        {"entry": _entry(scope, entry.pk), "warnings": _problems(checked.warnings)},
    )


# Static paths before /intake/entries/{entry_id}/...: ninja tries routes in order.


def _bulk_step(request, entry_ids: list[int], step) -> dict:
    """One bulk step on pupils of the caller's scope: the service decides who may act."""
    scope = scope_of(request)
    scope.require("students.edit")
    entries = _entries_by_id(scope, entry_ids)
    return _fresh(entries, step(entries, actor=caller(request)))


@router.post(
    "/intake/entries/send-for-review",
    response={200: EntriesOut, **WRITE_ERRORS},
    summary="Send pupils for review",
)
def send_for_review(request, payload: EntryIdsIn):
    return _bulk_step(request, payload.entry_ids, services.do_send_for_review)


@router.post(
    "/intake/entries/review",
    response={200: EntriesOut, **WRITE_ERRORS},
    summary="Admit pupils or return them",
)
def review_entries(request, payload: ReviewIn):
    """N2: the central school for its rural primary schools, the bureau for the others."""
    return _bulk_step(
        request,
        payload.entry_ids,
        lambda entries, actor: services.do_review(
            entries, actor=actor, admit=payload.admit, reason=payload.reason
        ),
    )


@router.post(
    "/intake/entries/number",
    response={200: EntriesOut, **WRITE_ERRORS},
    summary="Number admitted pupils",
)
def number_entries(request, payload: NumberIn):
    """N3: provincial and national numbers in one action; the batch is reported to the
    bureau."""
    return _bulk_step(
        request,
        payload.entry_ids,
        lambda entries, actor: services.do_number(
            entries, actor=actor, identity_confirmed=payload.identity_confirmed
        ),
    )


@router.post(
    "/intake/entries/submit",
    response={200: EntriesOut, **WRITE_ERRORS},
    summary="Submit completed records",
)
def submit_entries(request, payload: EntryIdsIn):
    """N5: the school submits; the reported items lock."""
    return _bulk_step(request, payload.entry_ids, services.do_submit)


@router.post(
    "/intake/entries/forward",
    response={200: EntriesOut, **WRITE_ERRORS},
    summary="Forward rural schools' submissions",
)
def forward_entries(request, payload: EntryIdsIn):
    return _bulk_step(request, payload.entry_ids, services.do_forward)


@router.post(
    "/intake/entries/accept",
    response={200: EntriesOut, **WRITE_ERRORS},
    summary="Accept submitted records",
)
def accept_entries(request, payload: EntryIdsIn):
    """The bureau accepts: the pupils are at school."""
    return _bulk_step(request, payload.entry_ids, services.do_accept)


@router.post(
    "/intake/entries/return",
    response={200: EntriesOut, **WRITE_ERRORS},
    summary="Return submitted records with a reason",
)
def return_entries(request, payload: ReturnIn):
    """The records reopen for the school to correct and go up again by a new submission."""
    return _bulk_step(
        request,
        payload.entry_ids,
        lambda entries, actor: services.do_return_submitted(entries, payload.reason, actor=actor),
    )


@router.post(
    "/intake/entries/{entry_id}/exception",
    response={200: EntryOut, **WRITE_ERRORS},
    summary="Record a documented exception",
)
def record_exception(request, entry_id: int, payload: ExceptionIn):
    """N1: a pupil who fails eligibility is admitted only as a recorded exception."""
    scope = scope_of(request)
    scope.require("students.edit")
    entry = _entry(scope, entry_id)
    services.do_record_exception(entry, payload.kind, payload.note, actor=caller(request))
    return _entry(scope, entry_id)


@router.put(
    "/intake/entries/{entry_id}/photo",
    response={200: PhotoOut, **WRITE_ERRORS},
    summary="Collect an admitted pupil's photo",
    openapi_extra=MULTIPART_PHOTO,
)
def collect_photo(request, entry_id: int):
    """N2: a JPEG or PNG as the multipart field `file`, checked against the national
    standard; the first photo moves the pupil to "photographed"."""
    scope = scope_of(request)
    scope.require("students.edit")
    entry = _entry(scope, entry_id)
    data = uploaded_file(request, what=_("Photo")).read(PHOTO_READ_LIMIT)
    return {"warnings": services.do_collect_photo(entry, data, actor=caller(request))}


# --- Photo sheets (N4) ------------------------------------------------------------------


class SheetQuery(Schema):
    class_name: str | None = Field(None, description="The class to print.")
    grade: int | None = Field(None, description="Its grade; without it, every grade's class.")
    all: bool = Field(False, description="true: every class of the school, one PDF.")


@router.get(
    "/intake/photo-sheet/{school_id}",
    response={**WRITE_ERRORS},
    summary="Print a class's photo sheet",
    openapi_extra=PDF_RESPONSE,
)
def get_photo_sheet(request, school_id: int, query: Query[SheetQuery]):
    """The bureau's A4 photo sheet of the current school year's numbered pupils: photo,
    name and provincial number, with a verification code."""
    params = {
        "class_name": query.class_name or "",
        "grade": "" if query.grade is None else str(query.grade),
        "all": "1" if query.all else "",
    }
    return photo_sheet.photo_sheet_pdf(caller(request), school_id, params)


# --- Junior intake (N7, N8) -------------------------------------------------------------


class CandidateFilters(Schema):
    school: int | None = Field(None, description="Candidates of this junior school (id).")
    problem: JuniorCandidate.Problem | None = Field(
        None, description="Only candidates with this problem (empty: found)."
    )
    converted: bool | None = None


@router.post(
    "/intake/junior",
    response={201: list[CandidateOut], **WRITE_ERRORS},
    summary="Collect new junior students' primary numbers",
)
def collect_junior(request, payload: JuniorIn):
    """N7: each row the primary number (or ID number) typed and the document shown; the
    answer says which primary records were found and which not."""
    scope = scope_of(request)
    scope.require("students.edit")
    school = scope.get_unit(payload.school_id)
    made = services.do_collect_junior(
        school,
        _current_year(scope),
        [(row.typed, row.document_shown) for row in payload.rows],
        actor=caller(request),
    )
    return Status(201, list(_candidates(scope).filter(pk__in=[c.pk for c in made])))


@router.get(
    "/intake/junior",
    response={200: list[CandidateOut], **READ_ERRORS},
    summary="List junior intake candidates",
)
@paginate(LimitOffsetPagination, max_limit=500)
def list_junior_candidates(request, filters: Query[CandidateFilters]):
    candidates = _candidates(scope_of(request))
    if filters.school is not None:
        candidates = candidates.filter(school_id=filters.school)
    if filters.problem is not None:
        candidates = candidates.filter(problem=filters.problem)
    if filters.converted is not None:
        candidates = candidates.filter(junior_record__isnull=not filters.converted)
    return candidates.order_by("school_id", "pk")


@router.post(
    "/intake/junior/convert",
    response={200: ConvertedOut, **WRITE_ERRORS},
    summary="Convert primary records into junior records",
)
def convert_junior(request, payload: CandidateIdsIn):
    """N8: the bureau assigns junior numbers and converts each found primary record;
    candidates with a problem are left as they are."""
    scope = scope_of(request)
    scope.require("students.edit")
    found = list(_candidates(scope).filter(pk__in=payload.candidate_ids))
    if len(found) != len(set(payload.candidate_ids)):
        raise Http404(_("No such candidate in your scope."))
    count = services.do_convert_junior(found, actor=caller(request))
    fresh = _candidates(scope).filter(pk__in=[c.pk for c in found]).order_by("pk")
    return {"count": count, "candidates": list(fresh)}


# --- The year's end ---------------------------------------------------------------------


class YearEndQuery(Schema):
    from_year: int = Field(description="The ending school year's start year.")
    to_year: int = Field(description="The new school year's start year.")


def _blocked(placement: Placement) -> dict[str, Any]:
    record = placement.record
    return {
        "record_id": record.pk,
        "student_id": record.student_id,
        "name": record.student.name,
        "school_id": record.school_id,
        "school_name": record.school.name,
        "grade": placement.grade,
        "class_name": placement.class_name,
    }


@router.get(
    "/year-end/preview",
    response={200: YearEndPreviewOut, **WRITE_ERRORS},
    summary="Preview the year's end",
)
def preview_year_end(request, query: Query[YearEndQuery]):
    """What the year's end would do in your scope: promotions, graduations, and the
    students a pending change request keeps where they are."""
    scope = scope_of(request)
    scope.require("students.view")
    from_year = _school_year(scope, query.from_year, "from_year")
    to_year = _school_year(scope, query.to_year, "to_year")
    schools: QuerySet[Unit] | None = None if scope.level == Scope.COUNTY else scope.schools()
    plan = services.year_end_preview(scope.county(), from_year, to_year, schools=schools)
    return {
        "from_year": from_year.start_year,
        "to_year": to_year.start_year,
        "promote": len(plan["promote"]),
        "graduate": len(plan["graduate"]),
        "blocked": [_blocked(placement) for placement in plan["blocked"]],
    }


@router.post(
    "/year-end",
    response={200: YearEndOut, **WRITE_ERRORS},
    summary="Run the year's end",
)
def run_year_end(request, payload: YearEndIn):
    """The bureau promotes, graduates and moves the county to the new year in one
    audited transaction; running it again changes nothing."""
    scope = scope_of(request)
    scope.require("students.edit")
    from_year = _school_year(scope, payload.from_year, "from_year")
    to_year = _school_year(scope, payload.to_year, "to_year")
    return services.do_year_end(scope.county(), from_year, to_year, actor=caller(request))


# --- Catchments (N1) --------------------------------------------------------------------


def _catchment_school(scope: Scope, school_id: int) -> Unit:
    scope.require("students.view")
    school = scope.get_unit(school_id)
    if not school.is_school:
        raise Http404(_("No such unit in your scope."))
    return school


@router.get(
    "/catchments/{school_id}",
    response={200: CatchmentOut, **DETAIL_ERRORS},
    summary="A school's catchment",
)
def get_catchment(request, school_id: int):
    """The village or community division codes whose children the school admits (N1)."""
    school = _catchment_school(scope_of(request), school_id)
    return {
        "school_id": school.pk,
        "school_name": school.name,
        "codes": services.catchment_codes(school),
    }


@router.put(
    "/catchments/{school_id}",
    response={200: CatchmentOut, **WRITE_ERRORS},
    summary="Replace a school's catchment",
)
def set_catchment(request, school_id: int, payload: CatchmentIn):
    """The bureau keeps the catchments; each code is checked against the division codes."""
    school = _catchment_school(scope_of(request), school_id)
    codes = catchment_services.do_set_catchment(school, payload.codes, actor=caller(request))
    return {"school_id": school.pk, "school_name": school.name, "codes": codes}
