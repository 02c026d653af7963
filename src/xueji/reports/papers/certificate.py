"""The certificate of enrolment (学籍证明): the school certifies that a student holds a
record there, for the family to show elsewhere (a transfer out of the province, a
subsidy, a residence permit).

The paper is about the record. Its facts are the student's identity, the numbers, the
school, grade and class and the entry; the date it was issued is the paper's own. A
student who leaves, or moves to another class, makes the certificate "changed".
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from reportlab.lib.units import mm

from xueji.reports.models import IssuedPaper
from xueji.reports.papers.common import grade_and_class, placement_of, plain, right_line
from xueji.reports.pdf import Document
from xueji.reports.verify import register_facts
from xueji.students import codes
from xueji.students.models import Status, StudentRecord

KIND = IssuedPaper.Kind.CERTIFICATE

FACT_LABELS: dict[str, Any] = {
    "name": pgettext_lazy("person", "Name"),
    "sex": gettext_lazy("Sex"),
    "birth_date": gettext_lazy("Birth date"),
    "id_number": gettext_lazy("ID number"),
    "national_number": gettext_lazy("National number"),
    "provincial_number": gettext_lazy("Provincial number"),
    "school": gettext_lazy("School"),
    "school_code": gettext_lazy("School code"),
    "grade": gettext_lazy("Grade"),
    "class_name": gettext_lazy("Class"),
    "entry_year_month": gettext_lazy("Entry year and month"),
    "status": gettext_lazy("Status"),
}


def problem(record: StudentRecord | None) -> str | None:
    """Why there is no certificate, or None: only a student at school has one."""
    if record is None:
        return _("This student holds no record at a school of your scope.")
    if record.status != Status.ENROLLED:
        return _(
            "A certificate of enrolment is issued only for a student at school; this "
            "record's status is %(status)s."
        ) % {"status": record.get_status_display()}
    return None


def certificate_facts_for(record: StudentRecord) -> dict[str, Any]:
    student = record.student
    placement = placement_of(record)
    return {
        "name": student.name,
        "sex": codes.name_of("sex", student.sex),
        "birth_date": plain(student.birth_date),
        "id_number": student.id_number,
        "national_number": student.national_number or "",
        "provincial_number": record.provincial_number or "",
        "school": record.school.name,
        "school_code": record.school.school_code or "",
        "grade": placement.grade if placement else None,
        "class_name": placement.class_name if placement else "",
        "entry_year_month": record.entry_year_month,
        "status": record.status,
    }


def certificate_facts(record_id: str) -> dict[str, Any] | None:
    """What the certificate of this record states, read live; None when it is gone."""
    record = (
        StudentRecord.objects.select_related("student", "school__county")
        .filter(pk=record_id)
        .first()
    )
    return certificate_facts_for(record) if record is not None else None


register_facts(KIND, certificate_facts, labels=FACT_LABELS)


# --- The paper --------------------------------------------------------------------------


def _year_month(text: str) -> str:
    if len(text) == 6 and text.isdigit():
        return _("%(year)s-%(month)s") % {"year": text[:4], "month": text[4:]}
    return text


def draw_certificate(document: Document, facts: dict[str, Any], issued_on: str) -> None:
    document.space(12 * mm)
    document.title(_("Certificate of enrolment"), size=22)
    document.space(6 * mm)
    document.paragraph(
        _(
            "This is to certify that %(name)s, %(sex)s, born on %(birth_date)s, ID number "
            "%(id_number)s, is a student of %(school)s in %(grade)s, enrolled since "
            "%(entry)s, with the national student number %(national)s and the provincial "
            "student number %(provincial)s."
        )
        % {
            "name": facts["name"],
            "sex": facts["sex"],
            "birth_date": facts["birth_date"],
            "id_number": facts["id_number"] or "—",
            "school": facts["school"],
            "grade": grade_and_class(facts["grade"], facts["class_name"]) or "—",
            "entry": _year_month(facts["entry_year_month"]),
            "national": facts["national_number"] or "—",
            "provincial": facts["provincial_number"] or "—",
        },
        size=13,
    )
    document.paragraph(_("Hereby certified."), size=13)
    document.space(4 * mm)
    document.grid(
        [
            (pgettext("person", "Name"), facts["name"]),
            (_("Sex"), facts["sex"]),
            (_("Birth date"), facts["birth_date"]),
            (_("ID number"), facts["id_number"]),
            (_("National number"), facts["national_number"]),
            (_("Provincial number"), facts["provincial_number"]),
            (_("Grade and class"), grade_and_class(facts["grade"], facts["class_name"])),
            (_("Entry year and month"), _year_month(facts["entry_year_month"])),
            (_("School"), facts["school"], 2),
        ],
        size=10.5,
    )
    document.space(8 * mm)
    right_line(document, facts["school"], size=13)
    right_line(document, issued_on, size=13)
    document.space(4 * mm)
    document.signatures([_("School registrar"), _("School stamp")], height=42 * mm)
