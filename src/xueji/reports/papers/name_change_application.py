"""The name-change application (更名申请表, N6): what it states and the paper.

A registered name changes only by a correction request with one of the listed reasons
(parents' divorce, fostering, adoption, or another one explained), the changed household
register and the certificate of the county household registration authority, both
checked against the originals. The application is printed once those checks are done:
the guardian signs it, the school signs and stamps it, the bureau approves it.

It states the old and the new name as the request recorded them, so recording the
approved rename does not change the paper; the student's other data is read live.
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from reportlab.lib.units import mm

from xueji.changes import rules
from xueji.changes.models import ChangeRequest, Kind, State
from xueji.changes.services import needs_central_review
from xueji.reports.models import IssuedPaper
from xueji.reports.papers.common import (
    grade_and_class,
    guardians,
    heading,
    placement_of,
    plain,
    yes_no,
)
from xueji.reports.pdf import Document, Pair
from xueji.reports.verify import register_facts
from xueji.students import codes
from xueji.students.form_items import BY_KEY

KIND = IssuedPaper.Kind.NAME_CHANGE_APPLICATION

FACT_LABELS: dict[str, Any] = {
    "old_name": gettext_lazy("Registered name"),
    "new_name": gettext_lazy("New name"),
    "sex": gettext_lazy("Sex"),
    "birth_date": gettext_lazy("Birth date"),
    "id_number": gettext_lazy("ID number"),
    "national_number": gettext_lazy("National number"),
    "provincial_number": gettext_lazy("Provincial number"),
    "school": gettext_lazy("School"),
    "grade": gettext_lazy("Grade"),
    "class_name": gettext_lazy("Class"),
    "reason": gettext_lazy("Reason"),
    "reason_note": gettext_lazy("Explanation"),
    "documents": gettext_lazy("Documents"),
    "guardians": gettext_lazy("Guardians"),
    "other_corrections": gettext_lazy("Other corrections"),
    "central_review": gettext_lazy("Central school re-review"),
}


def problem(change: ChangeRequest) -> str | None:
    """Why this request has no name-change application, or None when it has one."""
    if change.kind != Kind.CORRECTION or "name" not in (change.corrections or {}):
        return _("Only a correction that changes the name has a name-change application.")
    if change.state == State.WITHDRAWN:
        return _("This request was withdrawn.")
    if change.state == State.DRAFT:
        return _(
            "The name-change application is printed after the documents are checked "
            "against the originals."
        )
    return None


def _documents(change: ChangeRequest) -> list[dict[str, Any]]:
    checked = set(
        change.evidence.filter(checked_at__isnull=False).values_list("document", flat=True)
    )
    return [
        {"document": code, "name": rules.document_name(code), "checked": code in checked}
        for code in rules.required_documents(change.kind, change.reason)
    ]


def name_change_facts(request_id: str) -> dict[str, Any] | None:
    """What the application of this request states, read live; None when it is gone."""
    change = (
        ChangeRequest.objects.select_related("student", "record__school__county", "from_school")
        .filter(pk=request_id)
        .first()
    )
    if change is None or "name" not in (change.corrections or {}):
        return None
    student, record = change.student, change.record
    placement = placement_of(record)
    old_name, new_name = change.corrections["name"]
    reason = rules.reasons(change.kind).get(change.reason, {})
    return {
        "old_name": old_name,
        "new_name": new_name,
        "sex": codes.name_of("sex", student.sex),
        "birth_date": plain(student.birth_date),
        "id_number": student.id_number,
        "national_number": student.national_number or "",
        "provincial_number": record.provincial_number or "",
        "school": change.from_school.name,
        "grade": placement.grade if placement else None,
        "class_name": placement.class_name if placement else "",
        "reason": reason.get("label", change.reason),
        "reason_note": change.reason_note,
        "documents": _documents(change),
        "guardians": guardians(student),
        "other_corrections": {
            key: values for key, values in change.corrections.items() if key != "name"
        },
        "central_review": needs_central_review(change),
    }


register_facts(KIND, name_change_facts, labels=FACT_LABELS)


# --- The paper --------------------------------------------------------------------------


def _correction_value(key: str, value: Any) -> str:
    item = BY_KEY.get(key)
    if item is not None and item.table and value not in (None, ""):
        return codes.name_of(item.table, str(value))
    if isinstance(value, bool):
        return yes_no(value)
    return "" if value is None else str(value)


def draw_name_change_application(
    document: Document, facts: dict[str, Any], request_pk: int
) -> None:
    title = _("Name change application")
    document.title(
        title,
        subtitle=_("Request no. %(number)s · %(school)s")
        % {"number": request_pk, "school": facts["school"]},
    )

    heading(document, pgettext("report section", "Student"))
    pairs: list[Pair] = [
        (_("Registered name"), facts["old_name"]),
        (_("New name"), facts["new_name"]),
        (_("Sex"), facts["sex"]),
        (_("Birth date"), facts["birth_date"]),
        (_("ID number"), facts["id_number"]),
        (_("National number"), facts["national_number"]),
        (_("Provincial number"), facts["provincial_number"]),
        (_("Grade and class"), grade_and_class(facts["grade"], facts["class_name"])),
        (_("School"), facts["school"], 2),
        (_("Reason"), facts["reason"], 2),
    ]
    if facts["reason_note"]:
        pairs.append((_("Explanation"), facts["reason_note"], 2))
    document.grid(pairs)

    if facts["other_corrections"]:
        heading(document, _("Other corrections"))
        rows = []
        for key, (recorded, corrected) in facts["other_corrections"].items():
            item = BY_KEY.get(key)
            rows.append(
                [
                    str(item.label) if item is not None else key,
                    _correction_value(key, recorded),
                    _correction_value(key, corrected),
                ]
            )
        document.table(
            [_("Item"), pgettext("value before correction", "Recorded"), _("Corrected")],
            rows,
            widths=[1, 1.5, 1.5],
        )

    heading(document, _("Documents seen"))
    document.table(
        [_("Document"), _("Checked against the original")],
        [[entry["name"], yes_no(entry["checked"])] for entry in facts["documents"]],
        widths=[3, 1.2],
    )

    names = "、".join(
        f"{person['name']}（{person['relation']}）" if person["relation"] else person["name"]
        for person in facts["guardians"]
    )
    document.paragraph(
        _(
            "I am the guardian of the student above (%(guardians)s). For the reason stated, "
            "the student's name in the household register changed from %(old)s to %(new)s; "
            "I apply to change the registered name accordingly and attach the changed "
            "household register and the certificate of the county household registration "
            "authority. The documents are true."
        )
        % {"guardians": names or "—", "old": facts["old_name"], "new": facts["new_name"]},
        size=10.5,
    )
    if facts["central_review"]:
        # Four boxes in two rows of two, so the paper stays one page.
        document.signatures([_("Guardian (applicant)"), _("School")], height=32 * mm)
        document.signatures(
            [_("Central school re-review"), _("Education bureau approval")], height=32 * mm
        )
    else:
        document.signatures(
            [_("Guardian (applicant)"), _("School"), _("Education bureau approval")],
            height=36 * mm,
        )
