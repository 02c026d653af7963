"""Printed forms (B4, C4, N4, N6): each form as an A4 PDF, and bulk prints as background
jobs. The same print services as the pages: every PDF is an issued paper whose QR code
verifies at /verify/<code>/, and every print writes an audit event naming its students.
"""

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from xueji.api.common import caller, scope_of
from xueji.api.schemas import WRITE_ERRORS, JobOut, pdf_openapi
from xueji.core.errors import RuleViolation
from xueji.reports import print_services
from xueji.reports.papers.common import pdf_response

router = Router(tags=["printing"])


@router.get(
    "/changes/{request_id}/transfer-certificate.pdf",
    response={**WRITE_ERRORS},
    summary="Print the transfer certificate with its receipt",
    openapi_extra=pdf_openapi(
        "The transfer certificate: the sending school's copy, the student's copy and the "
        "receiving school's receipt."
    ),
)
def get_transfer_certificate(request, request_id: int):
    """C4: for an approved transfer within the county or out of it. Printed by whoever
    prints the request's change report."""
    change = scope_of(request).get_request(request_id)
    printed = print_services.do_print_transfer_certificate(change, actor=caller(request))
    return pdf_response(printed)


@router.get(
    "/changes/{request_id}/name-change-application.pdf",
    response={**WRITE_ERRORS},
    summary="Print the name-change application",
    openapi_extra=pdf_openapi("The name-change application as an A4 PDF."),
)
def get_name_change_application(request, request_id: int):
    """N6: for a correction that changes the name, once its documents are checked."""
    change = scope_of(request).get_request(request_id)
    printed = print_services.do_print_name_change_application(change, actor=caller(request))
    return pdf_response(printed)


@router.get(
    "/students/{student_id}/record-card.pdf",
    response={**WRITE_ERRORS},
    summary="Print a student's record card",
    openapi_extra=pdf_openapi("The record card (every item, photo, history) as an A4 PDF."),
)
def get_record_card(request, student_id: int):
    """Every item unmasked; needs the right to reveal ID numbers and addresses."""
    student = scope_of(request).get_student(student_id)
    return pdf_response(print_services.do_print_record_card(student, actor=caller(request)))


@router.get(
    "/students/{student_id}/certificate.pdf",
    response={**WRITE_ERRORS},
    summary="Print a certificate of enrolment",
    openapi_extra=pdf_openapi("The certificate of enrolment as an A4 PDF."),
)
def get_certificate_of_enrolment(request, student_id: int):
    """For a student at a school of the caller's scope; the school stamps it."""
    student = scope_of(request).get_student(student_id)
    return pdf_response(print_services.do_print_certificate(student, actor=caller(request)))


@router.get(
    "/rosters/class.pdf",
    response={**WRITE_ERRORS},
    summary="Print a class roster",
    openapi_extra=pdf_openapi("The class roster of the current school year as an A4 PDF."),
)
def get_class_roster(request, grade: int, class_name: str, school_id: int | None = None):
    """One row per student of the class; a school registrar may leave out school_id."""
    scope = print_services.student_papers_scope(caller(request))
    school = print_services.school_in_scope(scope, school_id)
    if not 1 <= grade <= 9:
        raise RuleViolation(_("Grade: choose a grade from 1 to 9."), field="grade")
    class_name = print_services.parse_class(class_name, required=True)
    printed = print_services.do_print_class_roster(school, grade, class_name, actor=caller(request))
    return pdf_response(printed)


class RecordCardsIn(Schema):
    school_id: int | None = Field(None, description="The school; a school registrar may omit it.")
    grade: int | None = Field(None, description="Only this grade.")
    class_name: str = Field("", description="Only this class (with or without a grade).")


class RostersIn(Schema):
    school_id: int | None = Field(None, description="The school; a school registrar may omit it.")


class PhotoSheetsIn(Schema):
    township_id: int | None = Field(None, description="Only this township; empty: the county.")


@router.post(
    "/print/record-cards",
    response={202: JobOut, **WRITE_ERRORS},
    summary="Print a school's record cards in one PDF (a background job)",
)
def print_record_cards(request, payload: RecordCardsIn):
    """One card per student in class order; follow GET /jobs/{job_id} and download the
    PDF from /jobs/{job_id}/download/."""
    job = print_services.do_start_print_job(
        print_services.RECORD_CARDS_JOB,
        {"school": payload.school_id, "grade": payload.grade, "class_name": payload.class_name},
        actor=caller(request),
    )
    return Status(202, job)


@router.post(
    "/print/rosters",
    response={202: JobOut, **WRITE_ERRORS},
    summary="Print the rosters of every class of a school in one PDF (a background job)",
)
def print_rosters(request, payload: RostersIn):
    job = print_services.do_start_print_job(
        print_services.ROSTERS_JOB, {"school": payload.school_id}, actor=caller(request)
    )
    return Status(202, job)


@router.post(
    "/print/photo-sheets",
    response={202: JobOut, **WRITE_ERRORS},
    summary="Print the photo sheets of the county or a township in one PDF (a background job)",
)
def print_photo_sheets(request, payload: PhotoSheetsIn):
    """N4: the bureau's; one sheet per class of every school."""
    job = print_services.do_start_print_job(
        print_services.PHOTO_SHEETS_JOB, {"township": payload.township_id}, actor=caller(request)
    )
    return Status(202, job)
