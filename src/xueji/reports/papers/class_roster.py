"""The class roster (花名册, B4): one row per student of a class of a school in a school
year, with the data a teacher and the school office look up; A4 portrait, the header
row repeated on every page.

A roster is about a class, not a row: its target is a `RosterTarget` whose id names the
school, the school year, the grade and the class, so `/verify/<code>/` reads the same
class again later. The students are the open records placed in that class (at school,
suspended, dropped out but kept, or not yet accepted), each marked when not at school.
"""

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from xueji.core.models import SchoolYear
from xueji.orgs.models import Unit
from xueji.reports.fonts import text_width
from xueji.reports.models import IssuedPaper
from xueji.reports.papers.common import grade_and_class, plain, school_year_label
from xueji.reports.pdf import PADDING, Document
from xueji.reports.verify import register_facts
from xueji.students import codes
from xueji.students.models import OPEN_STATUSES, FamilyMember, Placement, Status

KIND = IssuedPaper.Kind.ROSTER

FACT_LABELS: dict[str, Any] = {
    "school": gettext_lazy("School"),
    "school_code": gettext_lazy("School code"),
    "school_year": gettext_lazy("School year"),
    "grade": gettext_lazy("Grade"),
    "class_name": gettext_lazy("Class"),
    "students": gettext_lazy("Students"),
}


@dataclass(frozen=True)
class RosterTarget:
    """A class of a school in a school year. It stands in for a model row as the target
    of the issued paper and of its audit events; its id is all the facts need."""

    school_id: int
    start_year: int
    grade: int
    class_name: str

    _meta: ClassVar = SimpleNamespace(label_lower="reports.classroster")

    @property
    def pk(self) -> str:
        return f"{self.school_id}:{self.start_year}:{self.grade}:{self.class_name}"

    def __str__(self) -> str:
        return self.pk

    @classmethod
    def parse(cls, target_id: str) -> "RosterTarget | None":
        parts = str(target_id).split(":", 3)
        if len(parts) != 4 or not all(part.isdigit() for part in parts[:3]):
            return None
        return cls(int(parts[0]), int(parts[1]), int(parts[2]), parts[3])


def class_key(class_name: str) -> tuple[int, str]:
    """Class "2" before class "10"; named classes after the numbered ones."""
    return (int(class_name) if class_name.isdigit() else 10**6, class_name)


def class_placements(school: Unit, year: SchoolYear, grade: int, class_name: str):
    return Placement.objects.filter(
        school_year=year,
        record__school=school,
        record__status__in=OPEN_STATUSES,
        grade=grade,
        class_name=class_name,
    ).select_related("record__student")


def classes_of(school: Unit, year: SchoolYear) -> list[tuple[int, str]]:
    """Every (grade, class) of the school in the year that has a student, in order."""
    pairs = (
        Placement.objects.filter(
            school_year=year, record__school=school, record__status__in=OPEN_STATUSES
        )
        .values_list("grade", "class_name")
        .distinct()
    )
    return sorted(set(pairs), key=lambda pair: (pair[0], class_key(pair[1])))


def _guardian(members: list[FamilyMember]) -> FamilyMember | None:
    return next((member for member in members if member.is_guardian), None) or (
        members[0] if members else None
    )


def roster_facts_for(school: Unit, target: RosterTarget, placements) -> dict[str, Any]:
    rows = sorted(
        placements,
        key=lambda p: (class_key(p.seat_number), p.record.student.pinyin_key, p.record_id),
    )
    family: dict[int, list[FamilyMember]] = {}
    for member in FamilyMember.objects.filter(
        student_id__in=[p.record.student_id for p in rows]
    ).order_by("position"):
        family.setdefault(member.student_id, []).append(member)
    students = []
    for placement in rows:
        student = placement.record.student
        guardian = _guardian(family.get(student.pk, []))
        students.append(
            {
                "student_id": student.pk,
                "seat_number": placement.seat_number,
                "name": student.name,
                "sex": codes.name_of("sex", student.sex),
                "birth_date": plain(student.birth_date),
                "id_number": student.id_number,
                "ethnicity": codes.name_of("ethnicity", student.ethnicity),
                "hukou_type": codes.name_of("hukou_type", student.hukou_type),
                "provincial_number": placement.record.provincial_number or "",
                "guardian": guardian.name if guardian else "",
                "guardian_phone": (guardian.phone if guardian else "") or student.phone,
                "status": placement.record.status,
            }
        )
    return {
        "school": school.name,
        "school_code": school.school_code or "",
        "school_year": target.start_year,
        "grade": target.grade,
        "class_name": target.class_name,
        "students": students,
    }


def class_roster_facts(target_id: str) -> dict[str, Any] | None:
    """What the roster with this target states, read live; None when it is gone."""
    target = RosterTarget.parse(target_id)
    if target is None:
        return None
    school = Unit.objects.filter(pk=target.school_id, kind=Unit.Kind.SCHOOL).first()
    if school is None:
        return None
    year = SchoolYear.objects.filter(county_id=school.county_id, start_year=target.start_year)
    school_year = year.first()
    if school_year is None:
        return None
    placements = class_placements(school, school_year, target.grade, target.class_name)
    return roster_facts_for(school, target, placements)


register_facts(KIND, class_roster_facts, labels=FACT_LABELS)


# --- The paper --------------------------------------------------------------------------

# The roster's type size: the largest at which every column fits without wrapping.
SIZES = (8.0, 7.5, 7.0)
# Numbers and dates never break across lines; names and code names may.
UNBROKEN = {0, 3, 4, 7, 9}


def _natural(header: list[str], rows: list[list[str]], size: float) -> list[float]:
    """Each column as wide as its longest cell and its header's longest word (a Chinese
    header may wrap after four characters)."""
    natural = []
    for index, title in enumerate(header):
        cells = [text_width(str(row[index]), size) for row in rows]
        if title.isascii():
            least = max(text_width(word, size) for word in title.split() or [title])
        else:
            least = min(text_width(title, size), 4 * size)
        natural.append(max([least, *cells]) + 2 * PADDING + 1)
    return natural


def layout(header: list[str], rows: list[list[str]], width: float) -> tuple[float, list[float]]:
    """The type size and column widths: the first size at which all columns fit, the
    spare width shared out; else the smallest size, the columns that may wrap giving way."""
    for size in SIZES:
        natural = _natural(header, rows, size)
        total = sum(natural)
        if total <= width:
            return size, [value * width / total for value in natural]
    fixed = sum(value for index, value in enumerate(natural) if index in UNBROKEN)
    flexible = total - fixed
    scale = max(width - fixed, 0.0) / flexible if flexible else 1.0
    return size, [
        value if index in UNBROKEN else value * scale for index, value in enumerate(natural)
    ]


def _remark(status: str) -> str:
    # Only what a teacher must know: a student not at school.
    if status == Status.ENROLLED:
        return ""
    return str(Status(status).label) if status in Status.values else status


def draw_class_roster(document: Document, facts: dict[str, Any]) -> None:
    document.title(
        _("Class roster"),
        subtitle=" · ".join(
            [
                facts["school"],
                school_year_label(facts["school_year"]),
                grade_and_class(facts["grade"], facts["class_name"]),
            ]
        ),
    )
    students = facts["students"]
    boys = sum(1 for row in students if row["sex"] == codes.name_of("sex", "1"))
    document.paragraph(
        ngettext(
            "%(count)d student: %(boys)d boys, %(girls)d girls.",
            "%(count)d students: %(boys)d boys, %(girls)d girls.",
            len(students),
        )
        % {"count": len(students), "boys": boys, "girls": len(students) - boys},
        size=10,
    )
    header = [
        _("No."),
        pgettext("person", "Name"),
        _("Sex"),
        _("Birth date"),
        _("ID number"),
        _("Ethnicity"),
        _("Household registration type"),
        _("Provincial number"),
        pgettext("roster column", "Guardian"),
        _("Guardian's telephone"),
        _("Remarks"),
    ]
    rows = [
        [
            row["seat_number"] or str(number),
            row["name"],
            row["sex"],
            row["birth_date"],
            row["id_number"],
            row["ethnicity"],
            row["hukou_type"],
            row["provincial_number"],
            row["guardian"],
            row["guardian_phone"],
            _remark(row["status"]),
        ]
        for number, row in enumerate(students, start=1)
    ]
    size, widths = layout(header, rows, document.width)
    document.table(header, rows, widths=widths, size=size)
