"""Pure rules about students: stages and grades, masking, what a lock forbids."""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from xueji.orgs.models import Stage
from xueji.students.form_items import (
    FAMILY_1,
    ITEMS,
    LOCKED_RECORD_FIELDS,
    LOCKED_STUDENT_FIELDS,
    RECORD,
    STUDENT,
)
from xueji.students.models import RecordStage

PRIMARY_GRADES = range(1, 7)
JUNIOR_GRADES = range(7, 10)


def stage_for_grade(grade: int) -> str:
    return RecordStage.PRIMARY if grade in PRIMARY_GRADES else RecordStage.JUNIOR


def grade_problem(school_stage: str, grade: int) -> str | None:
    """A primary school teaches grades 1-6, a junior school 7-9, a nine-year school all."""
    if grade not in range(1, 10):
        return _("the grade must be between 1 and 9.")
    if school_stage == Stage.PRIMARY and grade not in PRIMARY_GRADES:
        return _("a primary school has grades 1 to 6.")
    if school_stage == Stage.JUNIOR and grade not in JUNIOR_GRADES:
        return _("a junior high school has grades 7 to 9.")
    return None


def mask_id_number(value: str) -> str:
    """370828201501011234 → 370828********1234: enough to tell two apart, not to copy."""
    if not value:
        return ""
    if len(value) <= 8:
        return value[:2] + "*" * (len(value) - 2)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_address(value: str) -> str:
    """Keep the first six characters (the township or street), hide the rest."""
    if not value:
        return ""
    keep = min(6, max(1, len(value) // 2))
    return value[:keep] + "*" * 4


def locked_fields_touched(
    changed_student_fields: Iterable[str], changed_record_fields: Iterable[str] = ()
) -> list[str]:
    """N5: the reported fields among the changed ones, in the form's order."""
    students = set(changed_student_fields) & LOCKED_STUDENT_FIELDS
    records = set(changed_record_fields) & LOCKED_RECORD_FIELDS
    return [
        item.field
        for item in ITEMS
        if (item.where == STUDENT and item.field in students)
        or (item.where == RECORD and item.field in records)
    ]


# The family items a submission locks (the same for both members).
LOCKED_FAMILY_FIELDS: frozenset[str] = frozenset(
    item.field for item in ITEMS if item.where == FAMILY_1 and item.reported
)
