"""The photo sheet (新生照片表, N4): what it states, the A4 paper, and the view.

The bureau prints, per school and class of the current school year, a grid of the new
pupils: each cell the photo, the name and the provincial number. The pupils are the
school's intake entries that are numbered or later and, at a junior school, the records
the bureau converted from primary ones (N8). The paper states, per pupil, the SHA-256 of
the stored photo file, so a replaced photo or a changed number makes it "changed".

A sheet is about a class, not a row: its target is a `SheetTarget` whose id names the
school, the school year, the grade and the class, so `/verify/<code>/` can read the same
class again later.
"""

import hashlib
import io
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET
from reportlab.lib.colors import black
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader

from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.core.models import SchoolYear
from xueji.core.scope import Scope, scope_for
from xueji.intake.models import EntryState, IntakeEntry, JuniorCandidate
from xueji.orgs.models import Unit
from xueji.reports.fonts import text_width
from xueji.reports.models import IssuedPaper
from xueji.reports.pdf import LEADING, MUTED, PADDING, Document, draw_text
from xueji.reports.verify import do_issue_paper, register_facts
from xueji.students.models import Placement, Student

KIND = IssuedPaper.Kind.PHOTO_SHEET

# Numbered pupils have the number the sheet prints; later states keep it.
SHOWN_STATES = (
    EntryState.NUMBERED,
    EntryState.SUBMITTED,
    EntryState.FORWARDED,
    EntryState.ACCEPTED,
)

COLUMNS = 5
# The national photo standard's 26:32 (358 × 441 pixels), printed at its real size.
PHOTO_WIDTH = 26 * mm
PHOTO_HEIGHT = 32 * mm
NAME_SIZE = 10.5
NUMBER_SIZE = 8.5
CELL_HEIGHT = PHOTO_HEIGHT + 2 * PADDING + (NAME_SIZE + NUMBER_SIZE) * LEADING + 3 * mm

FACT_LABELS: dict[str, Any] = {
    "school_code": gettext_lazy("School code"),
    "school_year": gettext_lazy("School year"),
    "grade": gettext_lazy("Grade"),
    "class_name": gettext_lazy("Class"),
    "pupils": pgettext_lazy("photo sheet", "Pupils"),
}


# --- What a sheet is about --------------------------------------------------------------


@dataclass(frozen=True)
class SheetTarget:
    """A school's class (grade None: of any grade; class_name "": every class) in a
    school year. It stands in for a model row as the target of the issued paper and of
    its audit event; its id is all `photo_sheet_facts` needs to read the class again."""

    school_id: int
    start_year: int
    grade: int | None
    class_name: str

    _meta: ClassVar = SimpleNamespace(label_lower="intake.photosheet")

    @property
    def pk(self) -> str:
        return f"{self.school_id}:{self.start_year}:{self.grade or ''}:{self.class_name}"

    def __str__(self) -> str:
        return self.pk

    @classmethod
    def parse(cls, target_id: str) -> "SheetTarget | None":
        parts = str(target_id).split(":", 3)
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        school_id, start_year, grade, class_name = parts
        if grade and not grade.isdigit():
            return None
        return cls(int(school_id), int(start_year), int(grade) if grade else None, class_name)


@dataclass
class Pupil:
    student_id: int
    name: str
    provincial_number: str
    grade: int
    class_name: str
    photo: bytes | None


def _class_key(class_name: str) -> tuple[int, str]:
    """Class "2" before class "10"; named classes after the numbered ones."""
    return (int(class_name) if class_name.isdigit() else 10**6, class_name)


def _photo_bytes(student: Student) -> bytes | None:
    if not student.photo:
        return None
    try:
        with student.photo.open("rb") as stored:
            return stored.read()
    except (FileNotFoundError, ValueError):
        # A row that names a file the storage lost prints as "no photo", like no file.
        return None


def sheet_pupils(
    school: Unit, year: SchoolYear, *, grade: int | None = None, class_name: str = ""
) -> list[Pupil]:
    """The pupils a sheet shows, in class order (grade, class, seat, number)."""
    entered = IntakeEntry.objects.filter(
        school=school, school_year=year, state__in=SHOWN_STATES
    ).values("record_id")
    converted = JuniorCandidate.objects.filter(
        school=school, school_year=year, junior_record__isnull=False
    ).values("junior_record_id")
    placements = Placement.objects.filter(school_year=year, record__school=school).filter(
        Q(record_id__in=entered) | Q(record_id__in=converted)
    )
    if grade is not None:
        placements = placements.filter(grade=grade)
    if class_name:
        placements = placements.filter(class_name=class_name)
    rows = sorted(
        placements.select_related("record__student"),
        key=lambda p: (
            p.grade,
            _class_key(p.class_name),
            _class_key(p.seat_number),
            p.record.provincial_number or "",
            p.record_id,
        ),
    )
    return [
        Pupil(
            student_id=p.record.student_id,
            name=p.record.student.name,
            provincial_number=p.record.provincial_number or "",
            grade=p.grade,
            class_name=p.class_name,
            photo=_photo_bytes(p.record.student),
        )
        for p in rows
    ]


def sheet_facts(school: Unit, target: SheetTarget, pupils: list[Pupil]) -> dict[str, Any]:
    return {
        "school_code": school.school_code or "",
        "school_year": target.start_year,
        "grade": target.grade,
        "class_name": target.class_name,
        "pupils": [
            {
                "student_id": pupil.student_id,
                "name": pupil.name,
                "provincial_number": pupil.provincial_number,
                "grade": pupil.grade,
                "class_name": pupil.class_name,
                "photo_sha256": hashlib.sha256(pupil.photo).hexdigest() if pupil.photo else "",
            }
            for pupil in pupils
        ],
    }


def photo_sheet_facts(target_id: str) -> dict[str, Any] | None:
    """What the photo sheet with this target states, read live; None when it is gone."""
    target = SheetTarget.parse(target_id)
    if target is None:
        return None
    school = Unit.objects.filter(pk=target.school_id, kind=Unit.Kind.SCHOOL).first()
    if school is None:
        return None
    year = SchoolYear.objects.filter(county_id=school.county_id, start_year=target.start_year)
    school_year = year.first()
    if school_year is None:
        return None
    pupils = sheet_pupils(school, school_year, grade=target.grade, class_name=target.class_name)
    return sheet_facts(school, target, pupils)


register_facts(KIND, photo_sheet_facts, labels=FACT_LABELS)


# --- The paper --------------------------------------------------------------------------


def _class_heading(grade: int, class_name: str) -> str:
    return _("Grade %(grade)s, class %(class)s") % {"grade": grade, "class": class_name}


def _fitted(text: str, width: float, size: float) -> float:
    """The largest size up to `size` at which one line of text fits the width."""
    natural = text_width(text, size)
    return size if natural <= width else max(5.0, size * width / natural)


def _cell(document: Document, x: float, top: float, width: float, pupil: dict, photo) -> None:
    canvas = document.canvas
    photo_x = x + (width - PHOTO_WIDTH) / 2
    photo_y = top - PADDING - PHOTO_HEIGHT
    canvas.setLineWidth(0.5)
    if photo:
        canvas.drawImage(
            ImageReader(io.BytesIO(photo)),
            photo_x,
            photo_y,
            width=PHOTO_WIDTH,
            height=PHOTO_HEIGHT,
            preserveAspectRatio=True,
            anchor="c",
        )
        canvas.rect(photo_x, photo_y, PHOTO_WIDTH, PHOTO_HEIGHT)
    else:
        canvas.setDash(2, 2)
        canvas.setStrokeColor(MUTED)
        canvas.rect(photo_x, photo_y, PHOTO_WIDTH, PHOTO_HEIGHT)
        canvas.setDash()
        canvas.setStrokeColor(black)
        canvas.setFillColor(MUTED)
        draw_text(
            canvas, x + width / 2, photo_y + PHOTO_HEIGHT / 2 - 3, _("No photo"), 9, align="center"
        )
        canvas.setFillColor(black)
    inner = width - 2 * PADDING
    baseline = photo_y - 1.5 * mm - NAME_SIZE
    name = pupil["name"]
    draw_text(
        canvas, x + width / 2, baseline, name, _fitted(name, inner, NAME_SIZE), align="center"
    )
    number = pupil["provincial_number"]
    baseline -= NUMBER_SIZE * LEADING + 0.5 * mm
    draw_text(
        canvas, x + width / 2, baseline, number, _fitted(number, inner, NUMBER_SIZE), align="center"
    )


def _grid(document: Document, pupils: list[dict], photos: dict[int, bytes | None]) -> None:
    width = document.width / COLUMNS
    for start in range(0, len(pupils), COLUMNS):
        top = document.reserve(CELL_HEIGHT)
        for index, pupil in enumerate(pupils[start : start + COLUMNS]):
            x = document.left + index * width
            _cell(document, x, top, width, pupil, photos.get(pupil["student_id"]))
    document.space(3 * mm)


def render_photo_sheet(school: Unit, paper: IssuedPaper, photos: dict[int, bytes | None]) -> bytes:
    """The A4 photo sheet of this issued paper: it prints the pupils the paper recorded,
    with the photos read when it was issued."""
    facts = paper.facts
    title = _("Photo sheet")
    document = Document(title, code=paper.code, author=paper.unit.name)
    year = facts["school_year"]
    year_label = f"{year}-{year + 1}"
    if facts["class_name"]:
        subtitle = " · ".join(
            [school.name, year_label]
            + ([_class_heading(facts["grade"], facts["class_name"])] if facts["grade"] else [])
        )
    else:
        subtitle = f"{school.name} · {year_label}"
    document.title(title, subtitle=subtitle)

    groups: dict[tuple[int, str], list[dict]] = {}
    for pupil in facts["pupils"]:
        groups.setdefault((pupil["grade"], pupil["class_name"]), []).append(pupil)
    if not groups:
        document.paragraph(_("No pupil of this class has a number yet."))
    # The subtitle names the class when one grade's class was asked for; otherwise each
    # class (of the whole school, or a class name of several grades) has its heading.
    headings = not (facts["class_name"] and facts["grade"])
    for number, ((grade, class_name), pupils) in enumerate(groups.items()):
        if number and not facts["class_name"]:
            # The whole school: each class on its own pages, to hand to its teacher.
            document.new_page()
        if headings:
            document.paragraph(_class_heading(grade, class_name), size=12)
        _grid(document, pupils, photos)
    return document.build()


# --- Who may print, issuing, and the view -----------------------------------------------


def sheet_school(scope: Scope, school_id: int) -> Unit:
    """N4: the bureau prints photo sheets. Anyone else is refused (403) before the school
    is looked up; a school outside the bureau's county is not found (404)."""
    if scope.level != Scope.COUNTY or not scope.may("students.view"):
        raise PermissionDenied(_("Only the bureau prints photo sheets."))
    school = scope.get_unit(school_id)
    if not school.is_school:
        raise Http404(_("No such unit in your scope."))
    return school


def sheet_year(school: Unit) -> SchoolYear:
    year = calendar.current_school_year(school.county)
    if year is None:
        raise RuleViolation(_("No school year is open yet."))
    return year


def sheet_choice(params: QueryDict | dict) -> tuple[int | None, str]:
    """(grade, class_name) from ?class_name=&grade= or ?all=1 (every class: (None, ""))."""
    if str(params.get("all", "")).lower() in ("1", "true", "yes"):
        return None, ""
    class_name = str(params.get("class_name") or "").strip()
    if not class_name:
        raise RuleViolation(_("Class: choose the class to print."), field="class_name")
    if ":" in class_name or len(class_name) > 10:
        raise RuleViolation(_("Class: no such class."), field="class_name")
    grade_text = str(params.get("grade") or "").strip()
    if not grade_text:
        return None, class_name
    if not grade_text.isdigit() or not 1 <= int(grade_text) <= 9:
        raise RuleViolation(_("Grade: choose a grade from 1 to 9."), field="grade")
    return int(grade_text), class_name


def issue_photo_sheet(
    school: Unit, year: SchoolYear, *, actor, grade: int | None = None, class_name: str = ""
) -> tuple[IssuedPaper, bytes]:
    """Record the printed paper and return it with its PDF, in one transaction."""
    target = SheetTarget(school.pk, year.start_year, grade, class_name)
    with transaction.atomic():
        pupils = sheet_pupils(school, year, grade=grade, class_name=class_name)
        facts = sheet_facts(school, target, pupils)
        paper = do_issue_paper(
            KIND, target, facts, actor=actor, unit=school, students=[p.student_id for p in pupils]
        )
        pdf = render_photo_sheet(school, paper, {p.student_id: p.photo for p in pupils})
    return paper, pdf


def pdf_response(school: Unit, target_label: str, pdf: bytes) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"photo-sheet-{school.school_code or school.pk}-{target_label}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # Children's faces and numbers: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


def _file_label(grade: int | None, class_name: str) -> str:
    if not class_name:
        return "all"
    label = f"{grade}-{class_name}" if grade else class_name
    # The header is latin-1: a class named in Chinese is left out of the file name.
    return label if label.isascii() else "class"


def photo_sheet_pdf(user, school_id: int, params) -> HttpResponse:
    """The photo sheet the bureau asked for, as an inline PDF (the view and the API)."""
    school = sheet_school(scope_for(user), school_id)
    grade, class_name = sheet_choice(params)
    _paper, pdf = issue_photo_sheet(
        school, sheet_year(school), actor=user, grade=grade, class_name=class_name
    )
    return pdf_response(school, _file_label(grade, class_name), pdf)


@login_required
@require_GET
def photo_sheet(request, school_id: int):
    try:
        return photo_sheet_pdf(request.user, school_id, request.GET)
    except RuleViolation as error:
        # No class chosen, or no school year open: the dashboard says why.
        messages.error(request, error.message)
        return redirect("dashboard")
