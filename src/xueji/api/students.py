"""Students and their records (B1, B3, N5, N11): search, the student file, registration
and edits with the forms' checks and messages, placements, the lock, numbers, photos,
revealing masked values, candidate double registrations, and the national form itself.

Reads go through the caller's scope (an id outside it is answered 404, like one that
does not exist); each write calls one service with the caller as actor.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from xueji.api.common import caller, require_member, scope_of, uploaded_file
from xueji.api.schemas import (
    DETAIL_ERRORS,
    MULTIPART_FILE,
    READ_ERRORS,
    WRITE_ERRORS,
    JobOut,
)
from xueji.api.student_schemas import (
    CodeOut,
    DecisionIn,
    DuplicateOut,
    FormItemOut,
    NumbersIn,
    NumbersOut,
    PhotoOut,
    PlacementIn,
    RecordOut,
    RegistrationOut,
    ReopenIn,
    RevealIn,
    StudentFilters,
    StudentIn,
    StudentListItem,
    StudentOut,
    StudentPatch,
    StudentRefusal,
    StudentSavedOut,
    item_values,
)
from xueji.core import calendar, uploads
from xueji.core.errors import RuleViolation
from xueji.core.jobs import do_enqueue_job
from xueji.core.models import SchoolYear
from xueji.core.scope import Scope
from xueji.students import codes, form_items, photo_services, rules, services
from xueji.students.form_items import FAMILY_1, FAMILY_2, ITEMS, PLACEMENT, RECORD, Item
from xueji.students.models import (
    OPEN_STATUSES,
    DuplicateCandidate,
    Placement,
    Student,
    StudentRecord,
)
from xueji.students.queries import StudentFilter, filtered_records
from xueji.students.validation import FieldProblem, Validated, validate_student

router = Router(tags=["students"])

# Registration and edits answer 400 with every problem, not only the first.
STUDENT_WRITE_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 400: StudentRefusal}
# What the student file hides until revealed (POST /students/{id}/reveal).
MASKED_ID_NUMBERS = {"id_number", "family1.id_number", "family2.id_number"}
MASKED_ADDRESSES = {
    "current_address",
    "mailing_address",
    "home_address",
    *(f"family{n}.{field}" for n in (1, 2) for field in ("current_address", "hukou_address")),
}
# A photo upload is read up to just past the largest input process_photo accepts, so an
# oversized file is refused with its message without being read whole.
PHOTO_READ_LIMIT = 10 * 1024 * 1024 + 1


# --- Finding records and students in the scope --------------------------------------------


def _record(scope: Scope, record_id: int) -> StudentRecord:
    record = (
        scope.records()
        .select_related("school__county", "school__parent", "student")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise Http404(_("No such record in your scope."))
    return record


def _records_of(student: Student):
    return student.records.select_related("school").prefetch_related(
        Prefetch("placements", queryset=Placement.objects.select_related("school_year"))
    )


def _current_year(scope: Scope) -> SchoolYear | None:
    county = scope.county()
    return calendar.current_school_year(county) if county is not None else None


# --- The student file ----------------------------------------------------------------------


def _plain(value: object) -> object:
    """A stored value as JSON carries it."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime.date):  # a datetime is a date too
        return value.isoformat()
    return value


def _item_out(item: Item, value: object) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _plain(value), "name": None, "masked": False}
    if item.kind == form_items.YES_NO and isinstance(value, bool):
        out["name"] = codes.name_of("yes_no", "1" if value else "0")
    elif item.table and value not in (None, ""):
        out["name"] = codes.name_of(item.table, str(value))
    if item.key in MASKED_ID_NUMBERS and value:
        out.update(value=rules.mask_id_number(str(value)), masked=True)
    elif item.key in MASKED_ADDRESSES and value:
        out.update(value=rules.mask_address(str(value)), masked=True)
    return out


def _items(student: Student, record: StudentRecord | None, year: SchoolYear | None):
    placements = list(record.placements.all()) if record is not None else []
    placement = next((p for p in placements if year and p.school_year_id == year.pk), None)
    if placement is None and placements:
        placement = max(placements, key=lambda p: p.school_year.start_year)
    family = {member.position: member for member in student.family.all()}
    rows: dict[str, object | None] = {
        form_items.STUDENT: student,
        RECORD: record,
        PLACEMENT: placement,
        FAMILY_1: family.get(1),
        FAMILY_2: family.get(2),
    }
    items = {}
    for item in ITEMS:
        if item.kind == form_items.PHOTO:
            value: object = f"/api/v1/students/{student.pk}/photo" if student.photo else None
        else:
            row = rows[item.where]
            value = getattr(row, item.field) if row is not None else None
        items[item.key] = _item_out(item, value)
    return items


def student_file(student: Student, scope: Scope) -> dict[str, Any]:
    """Everything about a student: every item, every record with its placements, every
    number; ID numbers and addresses masked."""
    records = list(_records_of(student))
    open_record = next((r for r in records if r.status in OPEN_STATUSES), None)
    current = open_record or (records[0] if records else None)
    return {
        "id": student.pk,
        "name": student.name,
        "national_number": student.national_number,
        "national_number_kind": student.national_number_kind,
        "has_photo": bool(student.photo),
        "locked": open_record is not None and open_record.is_locked,
        "open_record_id": open_record.pk if open_record else None,
        "created_at": student.created_at,
        "created_by_id": student.created_by_id,
        "items": _items(student, current, _current_year(scope)),
        "records": records,
        "numbers": list(student.numbers.order_by("assigned_at", "pk")),
    }


# --- Refusals with every problem -----------------------------------------------------------


def _problems(problems: list[FieldProblem]) -> list[dict[str, str]]:
    return [{"field": problem.key, "message": problem.message} for problem in problems]


def _refused(checked: Validated) -> tuple[int, dict[str, Any]]:
    first = checked.errors[0]
    return 400, {
        "detail": first.message,
        "field": first.key,
        "errors": _problems(checked.errors),
        "warnings": _problems(checked.warnings),
    }


def _violation(
    error: RuleViolation, checked: Validated, sent: dict[str, object]
) -> tuple[int, dict[str, Any]]:
    """A service's refusal in the same shape, its field named by the item key sent."""
    field = error.field
    if field == "school":
        field = "school_id"
    elif field and field not in sent:
        # The family's fields come back as the member's field ("name"): name the item.
        field = next((p + field for p in ("family1.", "family2.") if p + field in sent), field)
    return 400, {
        "detail": error.message,
        "field": field,
        "errors": [{"field": field, "message": error.message}],
        "warnings": _problems(checked.warnings),
    }


# --- Students ------------------------------------------------------------------------------


@router.get(
    "/students",
    response={200: list[StudentListItem], **READ_ERRORS},
    summary="Find students",
)
@paginate(LimitOffsetPagination, max_limit=500)
def list_students(request, filters: Query[StudentFilters]):
    """The student list with the list page's filters: one row per record (open records
    unless `status` says otherwise), ID numbers and addresses masked."""
    scope = scope_of(request)
    scope.require("students.view")
    params = {
        name: "" if value is None else str(value) for name, value in filters.model_dump().items()
    }
    records = filtered_records(scope, StudentFilter.from_params(params))
    return records.prefetch_related(
        Prefetch(
            "placements",
            queryset=Placement.objects.filter(school_year=_current_year(scope)),
            to_attr="current_placements",
        )
    )


@router.get(
    "/students/{student_id}",
    response={200: StudentOut, **DETAIL_ERRORS},
    summary="One student's file",
)
def get_student(request, student_id: int):
    """Every item of the national form, every record with its placements, every number."""
    scope = scope_of(request)
    scope.require("students.view")
    return student_file(scope.get_student(student_id), scope)


@router.post(
    "/students",
    response={201: RegistrationOut, **STUDENT_WRITE_ERRORS},
    summary="Register a student",
)
def register_student(request, payload: StudentIn):
    """Register a student at a school with the items of the national form, checked as the
    form checks them. A person already holding an open record is refused, naming the
    school; one who looks like a registered person is held for the bureau."""
    scope = scope_of(request)
    scope.require("students.edit")
    school = scope.get_unit(payload.school_id)
    sent = item_values(payload)
    checked = validate_student(sent, today=calendar.today())
    if not checked.ok:
        return _refused(checked)
    year = _current_year(scope)
    if year is None:
        return _violation(RuleViolation(_("No school year is open yet.")), checked, sent)
    try:
        done = services.do_register_student(
            checked.values,
            actor=caller(request),
            school=school,
            school_year=year,
            status=payload.status,
        )
    except RuleViolation as error:
        return _violation(error, checked, sent)
    return Status(
        201,
        {
            "student": student_file(done.student, scope),
            "record_id": done.record.pk,
            "known_person": done.reused_student,
            "held_for_bureau": [candidate.pk for candidate in done.duplicates],
            "warnings": _problems(checked.warnings),
        },
    )


@router.patch(
    "/students/{student_id}",
    response={200: StudentSavedOut, **STUDENT_WRITE_ERRORS},
    summary="Change a student's items",
)
def update_student(request, student_id: int, payload: StudentPatch):
    """Change the items sent (the person's and the family's); the others keep their
    values. Once the record is submitted, its reported items are locked."""
    scope = scope_of(request)
    scope.require("students.edit")
    student = scope.get_student(student_id)
    sent = item_values(payload)
    checked = validate_student(sent, today=calendar.today(), partial=True)
    if not checked.ok:
        return _refused(checked)
    try:
        student = services.do_update_student(student, checked.values, actor=caller(request))
    except RuleViolation as error:
        return _violation(error, checked, sent)
    return {"student": student_file(student, scope), "warnings": _problems(checked.warnings)}


@router.post(
    "/students/{student_id}/reveal",
    response={200: dict[str, Any], **WRITE_ERRORS},
    summary="Show a masked ID number or address in full",
)
def reveal_student(request, student_id: int, payload: RevealIn):
    """The ID number, the addresses, or the family members' ID numbers and addresses, in
    full. Every reveal is written to the audit log."""
    scope = scope_of(request)
    scope.require("students.reveal")
    student = scope.get_student(student_id)
    return services.do_reveal(student, payload.what, actor=caller(request))


@router.put(
    "/students/{student_id}/photo",
    response={200: PhotoOut, **WRITE_ERRORS},
    summary="Upload a student's photo",
    openapi_extra=MULTIPART_FILE,
)
def set_photo(request, student_id: int):
    """A JPEG or PNG as the multipart field `file`, checked against the national
    standard, cropped to 26:32 and re-encoded; the answer lists warnings (a background
    far from light blue)."""
    scope = scope_of(request)
    scope.require("students.edit")
    student = scope.get_student(student_id)
    data = uploaded_file(request, what=_("Photo")).read(PHOTO_READ_LIMIT)
    return {"warnings": photo_services.do_set_photo(student, data, actor=caller(request))}


@router.get(
    "/students/{student_id}/photo",
    response={**DETAIL_ERRORS},
    summary="A student's photo",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The photo as JPEG.",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def get_photo(request, student_id: int):
    scope = scope_of(request)
    scope.require("students.view")
    student = scope.get_student(student_id)
    if not student.photo:
        raise Http404(_("This student has no photo."))
    with student.photo.open("rb") as photo:
        response = HttpResponse(photo.read(), content_type=uploads.JPEG)
    # Always the JPEG photos.py re-encoded; a child's face is never kept by a shared cache.
    response["Content-Disposition"] = f'inline; filename="photo-{student.pk}.jpg"'
    return uploads.protect(response, uploads.JPEG)


# --- Records -------------------------------------------------------------------------------


@router.put(
    "/records/{record_id}/placement",
    response={200: RecordOut, **WRITE_ERRORS},
    summary="Set a record's grade and class for a school year",
)
def set_placement(request, record_id: int, payload: PlacementIn):
    scope = scope_of(request)
    scope.require("students.edit")
    record = _record(scope, record_id)
    year = SchoolYear.objects.filter(county=scope.county(), start_year=payload.school_year).first()
    if year is None:
        raise RuleViolation(_("No school year is open yet."), field="school_year")
    services.do_set_placement(
        record,
        actor=caller(request),
        school_year=year,
        grade=payload.grade,
        class_name=payload.class_name.strip(),
        seat_number=payload.seat_number.strip(),
    )
    return _records_of(record.student).get(pk=record.pk)


@router.post(
    "/records/{record_id}/lock",
    response={200: RecordOut, **WRITE_ERRORS},
    summary="Lock a record's reported items",
)
def lock_record(request, record_id: int):
    """N5: what the intake flow does when a school submits. Afterwards only a correction
    changes the reported items."""
    scope = scope_of(request)
    scope.require("students.edit")
    record = _record(scope, record_id)
    # The service trusts its caller (the intake flow); here the caller is a person, who
    # may submit only the records they may edit.
    if not scope.can_edit_school(record.school):
        raise PermissionDenied(
            _("You may not change the students of %(school)s.") % {"school": record.school.name}
        )
    services.do_lock_record(record, actor=caller(request))
    return _records_of(record.student).get(pk=record.pk)


@router.post(
    "/records/{record_id}/reopen",
    response={200: RecordOut, **WRITE_ERRORS},
    summary="Return a locked record to its school",
)
def reopen_record(request, record_id: int, payload: ReopenIn):
    scope = scope_of(request)
    scope.require("students.edit")
    record = _record(scope, record_id)
    services.do_reopen_record(record, payload.reason, actor=caller(request))
    return _records_of(record.student).get(pk=record.pk)


@router.post(
    "/records/{record_id}/numbers",
    response={200: NumbersOut, **WRITE_ERRORS},
    summary="Assign a record's provincial and national numbers",
)
def assign_numbers(request, record_id: int, payload: NumbersIn):
    """Gives what is missing: the provincial number from the county's template, and a
    national number (G from a confirmed ID number, L until identity is confirmed, J
    without a usable ID number). A temporary L becomes G once identity is confirmed."""
    scope = scope_of(request)
    scope.require("students.edit")
    record = _record(scope, record_id)
    record = services.do_assign_numbers(
        record, actor=caller(request), identity_confirmed=payload.identity_confirmed
    )
    return {
        "record_id": record.pk,
        "provincial_number": record.provincial_number,
        "national_number": record.student.national_number,
        "national_number_kind": record.student.national_number_kind,
    }


# --- Candidate double registrations (N11) ----------------------------------------------


def _brief(student: Student) -> dict[str, Any]:
    open_record = next((r for r in student.records.all() if r.status in OPEN_STATUSES), None)
    return {
        "id": student.pk,
        "name": student.name,
        "sex": student.sex,
        "birth_date": student.birth_date,
        "id_number": rules.mask_id_number(student.id_number),
        "name_pinyin": student.name_pinyin,
        "national_number": student.national_number,
        "school_name": open_record.school.name if open_record else None,
        "created_at": student.created_at,
        "created_by_id": student.created_by_id,
    }


def _pair(candidate: DuplicateCandidate) -> dict[str, Any]:
    return {
        "id": candidate.pk,
        "reason": candidate.reason,
        "state": candidate.state,
        "created_at": candidate.created_at,
        "decided_at": candidate.decided_at,
        "existing": _brief(candidate.existing),
        "newer": _brief(candidate.newer),
    }


def _candidates(scope: Scope):
    scope.require("duplicates.decide")
    return DuplicateCandidate.objects.filter(
        # Correlated: `newer__in` made SQLite list every student of the scope first.
        Exists(scope.students().filter(pk=OuterRef("newer_id")))
    ).prefetch_related(
        Prefetch("existing__records", queryset=StudentRecord.objects.select_related("school")),
        Prefetch("newer__records", queryset=StudentRecord.objects.select_related("school")),
    )


@router.get(
    "/duplicates",
    response={200: list[DuplicateOut], **READ_ERRORS},
    tags=["duplicates"],
    summary="List candidate double registrations waiting for a decision",
)
def list_duplicates(request):
    """Pairs of a registered person and a newer registration that may be the same
    person, side by side, newest first."""
    candidates = _candidates(scope_of(request)).filter(state=DuplicateCandidate.State.OPEN)
    return [_pair(candidate) for candidate in candidates.select_related("existing", "newer")]


@router.post(
    "/duplicates/{candidate_id}/decision",
    response={200: DuplicateOut, **WRITE_ERRORS},
    tags=["duplicates"],
    summary="Decide a candidate double registration",
)
def decide_duplicate(request, candidate_id: int, payload: DecisionIn):
    """different: two people, the newer registration goes on; withdraw: the newer
    registration is withdrawn (its record closes). Both are audited."""
    candidate = _candidates(scope_of(request)).filter(pk=candidate_id).first()
    if candidate is None:
        raise Http404(_("No such candidate pair in your scope."))
    decided = services.do_decide_duplicate(candidate, payload.decision, actor=caller(request))
    return _pair(_candidates(scope_of(request)).get(pk=decided.pk))


@router.post(
    "/duplicates/scan",
    response={202: JobOut, **WRITE_ERRORS},
    tags=["duplicates"],
    summary="Scan the county for double registrations in the background",
)
def scan_duplicates(request):
    """Starts the `students.scan_duplicates` job (the bureau's): pairs the registration
    did not hold join the queue above. Follow it with GET /jobs/{job_id}; its message
    says how many pairs were found and how many were new."""
    scope_of(request).require("duplicates.decide")
    return Status(202, do_enqueue_job("students.scan_duplicates", actor=caller(request)))


# --- The national form ---------------------------------------------------------------------


@router.get(
    "/items",
    response={200: list[FormItemOut], **READ_ERRORS},
    tags=["national form"],
    summary="List the 72 items of the national form",
)
def list_items(request):
    """In the form's order, with the keys the student operations use, so a client can
    build its forms."""
    require_member(scope_of(request))
    return [
        {
            "key": item.key,
            "header": item.header,
            "label": str(item.label),
            "kind": item.kind,
            "table": item.table,
            "required": item.required,
            "max_length": item.max_length,
            "locked_when_submitted": item.reported,
        }
        for item in ITEMS
    ]


@router.get(
    "/codes/{table}",
    response={200: list[CodeOut], **DETAIL_ERRORS},
    tags=["national form"],
    summary="List a code table",
)
def list_codes(request, table: str):
    """A national code table (ethnicity, health …) in the standard's order. Coded items
    accept the code or the name."""
    require_member(scope_of(request))
    if table not in codes.tables():
        raise Http404(_("No such code table."))
    return [{"code": code, "name": name} for code, name in codes.names(table).items()]


# --- The provincial number rule --------------------------------------------------------------


class NumberTemplatesIO(Schema):
    primary_number_template: str
    junior_number_template: str


@router.get(
    "/number-templates",
    response={200: NumberTemplatesIO, **READ_ERRORS},
    tags=["national form"],
    summary="Read the county's provincial number templates",
)
def get_number_templates(request):
    scope = scope_of(request)
    scope.require("setup.manage")
    county = scope.county()
    return {
        "primary_number_template": county.primary_number_template,
        "junior_number_template": county.junior_number_template,
    }


@router.put(
    "/number-templates",
    response={200: NumberTemplatesIO, **WRITE_ERRORS},
    tags=["national form"],
    summary="Set the county's provincial number templates",
)
def set_number_templates(request, payload: NumberTemplatesIO):
    """New numbers follow the templates; numbers already given keep their value."""
    county = services.do_set_number_templates(
        scope_of(request).county(),
        actor=caller(request),
        primary=payload.primary_number_template,
        junior=payload.junior_number_template,
    )
    return {
        "primary_number_template": county.primary_number_template,
        "junior_number_template": county.junior_number_template,
    }
