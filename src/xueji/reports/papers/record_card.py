"""The student record card (学籍卡, B4): every item of the national form, the photo, and
the student's history, on one or two A4 pages.

The card is the official paper of one record (one stay at one school), so nothing on it
is masked; printing it is an audited act that names the student (print_services). Its
facts are every item as printed (code names, not codes), the SHA-256 of the photo, and
the history: the stays at schools, grade and class per school year, every number held
and the approved changes. Any of them changing makes a printed card "changed".
"""

import hashlib
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from reportlab.lib.units import mm

from xueji.changes import rules
from xueji.changes.models import ChangeRequest, Kind, State
from xueji.reports.models import IssuedPaper
from xueji.reports.papers.common import (
    PHOTO_HEIGHT,
    PHOTO_WIDTH,
    draw_photo,
    heading,
    item_text,
    photo_bytes,
    placement_of,
    plain,
    school_year_label,
)
from xueji.reports.pdf import Document, Pair
from xueji.reports.verify import register_facts
from xueji.students import codes, form_items
from xueji.students.forms import sections
from xueji.students.models import (
    NumberKind,
    Placement,
    Status,
    StudentNumber,
    StudentRecord,
)

KIND = IssuedPaper.Kind.RECORD_CARD
SIZE = 9

# Items printed across a whole row: addresses and the like run to 60 characters.
WIDE = {
    "current_address",
    "mailing_address",
    "home_address",
    "homepage",
    "family1.employer",
    "family1.current_address",
    "family1.hukou_address",
    "family2.employer",
    "family2.current_address",
    "family2.hukou_address",
}
# Inside a family member's section the "Member 1:" prefix of the form's labels says what
# the heading already says; the card prints the item's own name.
FAMILY_LABELS: dict[str, Any] = {
    "name": pgettext_lazy("person", "Name"),
    "relation": gettext_lazy("Relation"),
    "relation_note": gettext_lazy("Relation note"),
    "ethnicity": gettext_lazy("Ethnicity"),
    "employer": gettext_lazy("Employer"),
    "current_address": gettext_lazy("Current address"),
    "hukou_address": gettext_lazy("Household registration place"),
    "phone": gettext_lazy("Telephone"),
    "is_guardian": gettext_lazy("Guardian"),
    "id_type": gettext_lazy("ID document type"),
    "id_number": gettext_lazy("ID number"),
    "position_title": gettext_lazy("Position"),
}

FACT_LABELS: dict[str, Any] = {
    **{item.key: item.label for item in form_items.ITEMS},
    "photo_sha256": gettext_lazy("Photo (SHA-256)"),
    "school": gettext_lazy("School"),
    "status": gettext_lazy("Status"),
    "records": gettext_lazy("Stays at schools"),
    "placements": gettext_lazy("Grade and class by school year"),
    "numbers": gettext_lazy("Numbers held"),
    "changes": gettext_lazy("Approved changes"),
}


# --- The facts --------------------------------------------------------------------------


def _sources(record: StudentRecord) -> dict[str, object]:
    student = record.student
    family = {member.position: member for member in student.family.all()}
    return {
        form_items.STUDENT: student,
        form_items.RECORD: record,
        form_items.PLACEMENT: placement_of(record),
        form_items.FAMILY_1: family.get(1),
        form_items.FAMILY_2: family.get(2),
    }


def _history(record: StudentRecord) -> dict[str, list[dict[str, Any]]]:
    student = record.student
    records = StudentRecord.objects.filter(student=student).select_related("school")
    placements = Placement.objects.filter(record__student=student).select_related(
        "school_year", "record__school"
    )
    numbers = StudentNumber.objects.filter(student=student)
    changes = ChangeRequest.objects.filter(
        student=student, state__in=(State.APPROVED, State.RECORDED)
    ).select_related("from_school", "to_school")
    return {
        "records": [
            {
                "school": each.school.name,
                "provincial_number": each.provincial_number or "",
                "entry_date": plain(each.entry_date),
                "entry_change": codes.name_of("change_kind", each.entry_change),
                "exit_date": plain(each.exit_date),
                "exit_change": codes.name_of("change_kind", each.exit_change),
                "status": each.status,
            }
            for each in records.order_by("entry_date", "pk")
        ],
        "placements": [
            {
                "school_year": placement.school_year.start_year,
                "school": placement.record.school.name,
                "grade": placement.grade,
                "class_name": placement.class_name,
            }
            for placement in placements.order_by("school_year__start_year", "pk")
        ],
        "numbers": [
            {"kind": number.kind, "value": number.value, "retired": number.retired_at is not None}
            for number in numbers.order_by("assigned_at", "pk")
        ],
        "changes": [
            {
                "kind": change.kind,
                "reason": rules.reasons(change.kind)
                .get(change.reason, {})
                .get("label", change.reason),
                "effective_date": plain(change.effective_date),
                "from_school": change.from_school.name,
                "to": change.to_school.name if change.to_school else change.outside_school,
                "approved_on": plain(change.decided_at),
            }
            for change in changes.order_by("effective_date", "pk")
        ],
    }


def card_facts(record: StudentRecord, photo: bytes | None) -> dict[str, Any]:
    """The card's facts; `photo` is the stored photo's content, read once by the caller
    so the card prints the very photo whose hash it states."""
    sources = _sources(record)
    items: dict[str, Any] = {}
    for item in form_items.ITEMS:
        if item.kind == form_items.PHOTO:
            continue
        row = sources[item.where]
        items[item.key] = item_text(item, getattr(row, item.field, None) if row else None)
    return {
        **items,
        "photo_sha256": hashlib.sha256(photo).hexdigest() if photo else "",
        "school": record.school.name,
        "status": record.status,
        **_history(record),
    }


def record_card_facts(record_id: str) -> dict[str, Any] | None:
    """What the card of this record states, read live; None when it is gone."""
    record = (
        StudentRecord.objects.select_related("student", "school__county")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        return None
    return card_facts(record, photo_bytes(record.student))


register_facts(KIND, record_card_facts, labels=FACT_LABELS)


# --- The paper --------------------------------------------------------------------------


def _label(item: form_items.Item) -> str:
    if item.where in (form_items.FAMILY_1, form_items.FAMILY_2):
        return str(FAMILY_LABELS.get(item.field, item.label))
    return str(item.label)


def _pairs(items: list[form_items.Item], facts: dict[str, Any], columns: int) -> list[Pair]:
    """The section's items as grid cells, in the form's order except that each wide item
    (an address) takes all but one column and a narrow item fills the rest of its row, so
    a section needs as few rows as it can."""
    shown = [item for item in items if item.kind != form_items.PHOTO]
    narrow = [item for item in shown if item.key not in WIDE]
    wide = [item for item in shown if item.key in WIDE]
    # The last narrow items keep the wide ones company, in order.
    alone = len(narrow) - min(len(wide), len(narrow)) if columns > 1 else len(narrow)
    partners = iter(narrow[alone:])
    pairs: list[Pair] = [(_label(item), facts.get(item.key, "")) for item in narrow[:alone]]
    for item in wide:
        pairs.append((_label(item), facts.get(item.key, ""), max(columns - 1, 1)))
        partner = next(partners, None)
        if partner is not None:
            pairs.append((_label(partner), facts.get(partner.key, "")))
    return pairs


def _first_section(document: Document, title: str, pairs: list[Pair], photo: bytes | None):
    """The basic items at the left and the photo at the right, at its real size."""
    heading(document, title)
    top = document.y
    draw_photo(document, photo, document.right - PHOTO_WIDTH, top)
    right, width = document.right, document.width
    document.right = right - PHOTO_WIDTH - 3 * mm
    document.width = document.right - document.left
    try:
        document.grid(pairs, columns=2, label_width=24 * mm, size=SIZE)
    finally:
        document.right, document.width = right, width
    document.y = min(document.y, top - PHOTO_HEIGHT - 3 * mm)


def _history_tables(document: Document, facts: dict[str, Any]) -> None:
    heading(document, _("Stays at schools"))
    document.table(
        [_("School"), _("Provincial number"), _("Entered"), _("Left"), _("Status")],
        [
            [
                row["school"],
                row["provincial_number"],
                " ".join(part for part in (row["entry_date"], row["entry_change"]) if part),
                " ".join(part for part in (row["exit_date"], row["exit_change"]) if part),
                Status(row["status"]).label if row["status"] in Status.values else row["status"],
            ]
            for row in facts["records"]
        ],
        widths=[2.2, 1.8, 1.5, 1.5, 1],
        size=8.5,
    )
    heading(document, _("Grade and class by school year"))
    document.table(
        [_("School year"), _("School"), _("Grade"), _("Class")],
        [
            [school_year_label(row["school_year"]), row["school"], row["grade"], row["class_name"]]
            for row in facts["placements"]
        ],
        widths=[1.2, 2.6, 0.8, 0.8],
        size=8.5,
    )
    heading(document, _("Numbers held"))
    document.grid(
        [
            (
                str(NumberKind(row["kind"]).label)
                if row["kind"] in NumberKind.values
                else row["kind"],
                row["value"] + (" " + _("(retired)") if row["retired"] else ""),
            )
            for row in facts["numbers"]
        ],
        columns=2,
        label_width=24 * mm,
        size=SIZE,
    )
    heading(document, _("Approved changes"))
    if not facts["changes"]:
        document.paragraph(_("No approved change."), size=9)
        return
    document.table(
        [
            _("Kind of change"),
            _("Reason"),
            _("Effective date"),
            _("From"),
            _("To"),
            _("Approved on"),
        ],
        [
            [
                Kind(row["kind"]).label if row["kind"] in Kind.values else row["kind"],
                row["reason"],
                row["effective_date"],
                row["from_school"],
                row["to"],
                row["approved_on"],
            ]
            for row in facts["changes"]
        ],
        widths=[1.3, 1.4, 1.1, 1.6, 1.6, 1.1],
        size=8.5,
    )


def draw_record_card(document: Document, facts: dict[str, Any], photo: bytes | None) -> None:
    """The card of one record, from the top of a fresh page."""
    document.title(
        _("Student record card"),
        size=16,
        subtitle=" · ".join(
            part for part in (facts["school"], facts.get("provincial_number", "")) if part
        ),
    )
    for index, (title, items) in enumerate(sections()):
        if index == 0:
            _first_section(document, str(title), _pairs(items, facts, 2), photo)
            continue
        heading(document, str(title))
        document.grid(_pairs(items, facts, 3), columns=3, label_width=24 * mm, size=SIZE)
    _history_tables(document, facts)
