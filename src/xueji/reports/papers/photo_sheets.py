"""The photo sheets of many schools in one PDF (N4): the bureau's bulk print.

Each class of each school is one paper, drawn exactly as intake/photo_sheet.py draws a
class's sheet and verified by the same facts (its `SheetTarget` names the school, the
school year, the grade and the class), so a sheet taken out of the county's stack is
the same paper the bureau would have printed for that class alone.
"""

from typing import Any

from django.utils.translation import gettext as _

from xueji.core.models import SchoolYear
from xueji.intake.photo_sheet import (
    KIND,
    Pupil,
    SheetTarget,
    _class_heading,
    _grid,
    sheet_facts,
    sheet_pupils,
)
from xueji.orgs.models import Unit
from xueji.reports.papers.common import school_year_label
from xueji.reports.pdf import Document

__all__ = ["KIND", "class_sheets", "draw_class_sheet"]


def class_sheets(school: Unit, year: SchoolYear) -> list[tuple[SheetTarget, list[Pupil]]]:
    """The school's numbered pupils of the year, one sheet per grade and class."""
    groups: dict[tuple[int, str], list[Pupil]] = {}
    for pupil in sheet_pupils(school, year):
        groups.setdefault((pupil.grade, pupil.class_name), []).append(pupil)
    return [
        (SheetTarget(school.pk, year.start_year, grade, class_name), pupils)
        for (grade, class_name), pupils in groups.items()
    ]


def facts_of(school: Unit, target: SheetTarget, pupils: list[Pupil]) -> dict[str, Any]:
    return sheet_facts(school, target, pupils)


def draw_class_sheet(
    document: Document, school: Unit, facts: dict[str, Any], photos: dict[int, bytes | None]
) -> None:
    """One class's sheet from the top of a fresh page (as render_photo_sheet draws it)."""
    subtitle = " · ".join(
        [
            school.name,
            school_year_label(facts["school_year"]),
            _class_heading(facts["grade"], facts["class_name"]),
        ]
    )
    document.title(_("Photo sheet"), subtitle=subtitle)
    _grid(document, facts["pupils"], photos)
