"""The transfer certificate with its receipt (转学证及回执, C4): what it states and the paper.

After the bureau approved a transfer, the sending school prints it: page one is the copy
the sending school keeps (存根); page two is the certificate the student carries to the
receiving school and, below a cut line, the receipt (回执) the receiving school fills in,
stamps and sends back. Within the county the receiving school and the new provincial
number are known and printed; out of the county the paper names the school outside.

The paper is about the request. Its facts are the student, both schools, the numbers and
the dates; the request moving from approved to recorded does not change them.
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from reportlab.lib.units import mm

from xueji.changes import rules
from xueji.changes.models import ChangeRequest, Kind, State
from xueji.reports.models import IssuedPaper
from xueji.reports.papers.common import (
    cut_line,
    grade_and_class,
    placement_of,
    plain,
)
from xueji.reports.pdf import Document, Pair
from xueji.reports.verify import register_facts
from xueji.students import codes

KIND = IssuedPaper.Kind.TRANSFER_CERTIFICATE
# Within the county and out of it; a transfer into the county brings the certificate the
# school outside issued.
PRINTED_KINDS = (Kind.TRANSFER, Kind.TRANSFER_OUT)
PRINTED_STATES = (State.APPROVED, State.RECORDED)

FACT_LABELS: dict[str, Any] = {
    "student_name": pgettext_lazy("person", "Name"),
    "sex": gettext_lazy("Sex"),
    "birth_date": gettext_lazy("Birth date"),
    "id_number": gettext_lazy("ID number"),
    "national_number": gettext_lazy("National number"),
    "provincial_number": gettext_lazy("Provincial number"),
    "from_school": gettext_lazy("Sending school"),
    "grade": gettext_lazy("Grade"),
    "class_name": gettext_lazy("Class"),
    "kind": gettext_lazy("Kind of change"),
    "to_school": gettext_lazy("Receiving school"),
    "outside_school": gettext_lazy("School outside the county"),
    "to_grade": gettext_lazy("Grade at the receiving school"),
    "to_class": gettext_lazy("Class at the receiving school"),
    "new_provincial_number": gettext_lazy("New provincial number"),
    "reason": gettext_lazy("Reason"),
    "effective_date": gettext_lazy("Effective date"),
    "approved_on": gettext_lazy("Approved on"),
}


def problem(change: ChangeRequest) -> str | None:
    """Why this request has no transfer certificate yet, or None when it has one."""
    if change.kind not in PRINTED_KINDS:
        return _("Only a transfer out of a school has a transfer certificate.")
    if change.state not in PRINTED_STATES:
        return _("The transfer certificate is printed after the bureau approved the transfer.")
    return None


def transfer_certificate_facts(request_id: str) -> dict[str, Any] | None:
    """What the certificate of this request states, read live; None when it is gone."""
    change = (
        ChangeRequest.objects.select_related(
            "student", "record__school__county", "from_school", "to_school", "new_record"
        )
        .filter(pk=request_id)
        .first()
    )
    if change is None:
        return None
    student, record = change.student, change.record
    placement = placement_of(record)
    reason = rules.reasons(change.kind).get(change.reason, {})
    return {
        "student_name": student.name,
        "sex": codes.name_of("sex", student.sex),
        "birth_date": plain(student.birth_date),
        "id_number": student.id_number,
        "national_number": student.national_number or "",
        "provincial_number": record.provincial_number or "",
        "from_school": change.from_school.name,
        "grade": placement.grade if placement else None,
        "class_name": placement.class_name if placement else "",
        "kind": change.kind,
        "to_school": change.to_school.name if change.to_school else "",
        "outside_school": change.outside_school,
        "to_grade": change.to_grade,
        "to_class": change.to_class,
        "new_provincial_number": (
            change.new_record.provincial_number or "" if change.new_record else ""
        ),
        "reason": reason.get("label", change.reason),
        "effective_date": plain(change.effective_date),
        "approved_on": plain(change.decided_at),
    }


register_facts(KIND, transfer_certificate_facts, labels=FACT_LABELS)


# --- The paper --------------------------------------------------------------------------


def _destination(facts: dict[str, Any]) -> str:
    return facts["to_school"] or facts["outside_school"]


def _student_grid(document: Document, facts: dict[str, Any], *, size: float = 9.5) -> None:
    pairs: list[Pair] = [
        (pgettext("person", "Name"), facts["student_name"]),
        (_("Sex"), facts["sex"]),
        (_("Birth date"), facts["birth_date"]),
        (_("ID number"), facts["id_number"]),
        (_("National number"), facts["national_number"]),
        (_("Provincial number"), facts["provincial_number"]),
        (_("Sending school"), facts["from_school"]),
        (_("Grade and class"), grade_and_class(facts["grade"], facts["class_name"])),
        (
            _("Receiving school") if facts["to_school"] else _("School outside the county"),
            _destination(facts),
        ),
        (_("New provincial number"), facts["new_provincial_number"] or "—"),
        (_("Reason"), facts["reason"]),
        (_("Effective date"), facts["effective_date"]),
    ]
    if facts["to_grade"]:
        pairs.append(
            (
                _("Grade and class at the receiving school"),
                grade_and_class(facts["to_grade"], facts["to_class"]),
                2,
            )
        )
    document.grid(pairs, label_width=30 * mm, size=size)


def _statement(facts: dict[str, Any]) -> str:
    return _(
        "The student named above transfers from %(from)s to %(to)s. The county education "
        "bureau approved the transfer on %(approved)s. Please admit the student and return "
        "the receipt below to the sending school."
    ) % {
        "from": facts["from_school"],
        "to": _destination(facts),
        "approved": facts["approved_on"] or "—",
    }


def draw_transfer_certificate(document: Document, facts: dict[str, Any], request_pk: int) -> None:
    """The three parts: the sending school's copy (page one), the certificate the student
    carries and, below a cut line, the receiving school's receipt (page two)."""
    title = _("Transfer certificate")
    number = _("Certificate no. %(number)s") % {"number": request_pk}

    document.title(
        title,
        subtitle=" · ".join([_("Copy kept by the sending school"), number, facts["from_school"]]),
    )
    _student_grid(document, facts)
    document.paragraph(_statement(facts))
    document.signatures([_("Sending school"), _("Education bureau approval")])

    document.new_page()
    document.title(
        title,
        subtitle=" · ".join([_("Copy the student carries to the receiving school"), number]),
    )
    _student_grid(document, facts, size=9)
    document.paragraph(_statement(facts), size=10)
    document.signatures([_("Sending school")], height=30 * mm)

    cut_line(document, _("Cut along this line: the receiving school returns the receipt"))
    document.title(_("Receipt"), subtitle=number, size=15)
    grade = (
        grade_and_class(facts["to_grade"], facts["to_class"])
        if facts["to_grade"]
        else _("grade ____, class ____")
    )
    document.paragraph(
        _(
            "To %(from)s: the student %(name)s (ID number %(id_number)s) transferred from "
            "your school arrived at our school on ____ (year) ____ (month) ____ (day) and "
            "attends %(grade)s. The student's new provincial number is %(number)s."
        )
        % {
            "from": facts["from_school"],
            "name": facts["student_name"],
            "id_number": facts["id_number"] or "—",
            "grade": grade,
            "number": facts["new_provincial_number"] or "____________",
        },
        size=10.5,
    )
    document.signatures([_("Receiving school")], height=30 * mm)
