"""The "Print" buttons other apps' pages show: `{% load printing %}` then
`{% request_print_links change %}`, `{% student_print_links student %}` or
`{% roster_print_link %}`. Each shows only what the user may print now; the print
itself checks again (reports/print_services.py)."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from xueji.changes.models import ChangeRequest
from xueji.changes.services import may_print
from xueji.core.scope import Scope, scope_for
from xueji.reports.papers import certificate, name_change_application, transfer_certificate
from xueji.reports.print_services import printable_records
from xueji.students.models import Student

register = template.Library()


@dataclass(frozen=True)
class PrintLink:
    id: str
    label: str
    url: str


def request_links(user, change: ChangeRequest) -> list[PrintLink]:
    """The papers of a request the user may print now (the request page's buttons)."""
    if not may_print(user, change):
        return []
    links = []
    if transfer_certificate.problem(change) is None:
        links.append(
            PrintLink(
                "print-transfer-certificate",
                _("Print the transfer certificate"),
                reverse("print_transfer_certificate", args=[change.pk]),
            )
        )
    if name_change_application.problem(change) is None:
        links.append(
            PrintLink(
                "print-name-change-application",
                _("Print the name-change application"),
                reverse("print_name_change_application", args=[change.pk]),
            )
        )
    return links


def student_links(user, student: Student, records=None) -> list[PrintLink]:
    """The student's papers the user may print (the student page's buttons). `records`:
    every record of the student with its school, when the caller has read them."""
    scope = scope_for(user)
    if not scope.may("students.reveal"):
        return []
    # One query at most, as card_record and open_record would decide (the page asked three
    # times); none when the page passes the records it shows.
    has_record, opened = printable_records(scope, student, records)
    links = []
    if has_record:
        links.append(
            PrintLink(
                "print-record-card",
                _("Print the record card"),
                reverse("print_record_card", args=[student.pk]),
            )
        )
    if certificate.problem(opened) is None:
        links.append(
            PrintLink(
                "print-certificate",
                _("Print a certificate of enrolment"),
                reverse("print_certificate", args=[student.pk]),
            )
        )
    return links


def roster_link(user, params) -> PrintLink | None:
    """The student list filtered to one class offers that class's roster."""
    scope = scope_for(user)
    grade = str(params.get("grade") or "").strip()
    class_name = str(params.get("class_name") or "").strip()
    school = str(params.get("school") or "").strip()
    if not scope.may("students.reveal") or not grade or not class_name:
        return None
    if not school and not (scope.level == Scope.SCHOOL and scope.unit is not None):
        return None
    query = urlencode({"school": school, "grade": grade, "class_name": class_name})
    return PrintLink(
        "print-class-roster",
        _("Print this class's roster"),
        reverse("print_class_roster") + "?" + query,
    )


@register.inclusion_tag("reports/print_links.html", takes_context=True)
def request_print_links(context, change):
    return {"links": request_links(context["request"].user, change)}


@register.inclusion_tag("reports/print_links.html", takes_context=True)
def student_print_links(context, student, records=None):
    return {"links": student_links(context["request"].user, student, records)}


@register.inclusion_tag("reports/print_links.html", takes_context=True)
def roster_print_link(context):
    request = context["request"]
    link = roster_link(request.user, request.GET)
    return {"links": [link] if link is not None else []}
