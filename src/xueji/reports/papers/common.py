"""What the printed forms share: several papers in one PDF, a student's data as people read
it, the photo, and the HTTP answer that carries a PDF.

Facts are stored untranslated (names, codes, dates) so a paper's content hash does not
depend on the language of whoever prints or checks it; only the drawing translates.
"""

import bisect
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.colors import black, white
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader

from xueji.core import calendar
from xueji.reports.fonts import text_width
from xueji.reports.models import IssuedPaper
from xueji.reports.pdf import LEADING, MUTED, Document, draw_text
from xueji.students import codes, form_items
from xueji.students.models import FamilyMember, Placement, Student, StudentRecord

# The national photo standard's 26 mm × 32 mm, printed at its real size.
PHOTO_WIDTH = 26 * mm
PHOTO_HEIGHT = 32 * mm


@dataclass
class Printed:
    """A PDF ready to hand out, with the papers it carries (one code each)."""

    pdf: bytes
    filename: str
    papers: list[IssuedPaper] = field(default_factory=list)


def pdf_response(printed: Printed) -> HttpResponse:
    response = HttpResponse(printed.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{printed.filename}"'
    # A child's personal data: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


def ascii_label(text: str, fallback: str) -> str:
    """A file-name part: the header is latin-1, so a class named in Chinese is left out."""
    return text if text and text.isascii() and text.replace("-", "").isalnum() else fallback


class PaperBundle(Document):
    """One PDF holding several papers, each with its own verification code.

    `start_paper(code)` begins a paper on a fresh page; every page's footer then carries
    that paper's code and QR code and counts the pages of that paper alone ("page 1 of
    2"), so a record card taken out of a school's stack still reads as a whole paper and
    still verifies on its own. A single form is a bundle of one.
    """

    def __init__(self, title: str, *, author: str = ""):
        super().__init__(title, author=author)
        self._page = 1
        self._starts: list[int] = []
        self._codes: list[str] = []

    def new_page(self) -> None:
        super().new_page()
        self._page += 1

    def start_paper(self, code: str) -> None:
        if self._starts:
            self.new_page()
        self._starts.append(self._page)
        self._codes.append(code)

    @property
    def paper_count(self) -> int:
        return len(self._codes)

    @property
    def page_count(self) -> int:
        return self._page

    def _draw_footer(self, canvas, number: int, count: int) -> None:
        if not self._starts:
            super()._draw_footer(canvas, number, count)
            return
        index = max(bisect.bisect_right(self._starts, number) - 1, 0)
        first = self._starts[index]
        last = self._starts[index + 1] - 1 if index + 1 < len(self._starts) else count
        self.code = self._codes[index]
        super()._draw_footer(canvas, number - first + 1, last - first + 1)


# --- Drawing helpers ---------------------------------------------------------------------


def heading(document: Document, text: str, *, size: float = 10.5, keep: float = 16 * mm) -> None:
    """A section heading that never ends a page alone: it moves to the next page unless
    `keep` points of what follows fit below it."""
    height = size * LEADING + 0.8 * mm
    if document.y - height - keep < document.bottom and document.y < document.top:
        document.new_page()
    top = document.reserve(height)
    draw_text(document.canvas, document.left, top - size, text, size)


def cut_line(document: Document, text: str) -> None:
    """A dashed line across the page with a caption: where the copies are cut apart."""
    top = document.reserve(9 * mm)
    canvas = document.canvas
    y = top - 4.5 * mm
    canvas.setDash(3, 3)
    canvas.setStrokeColor(MUTED)
    canvas.setLineWidth(0.6)
    canvas.line(document.left, y, document.right, y)
    canvas.setDash()
    middle = (document.left + document.right) / 2
    width = text_width(text, 8) + 4 * mm
    canvas.setFillColor(white)
    canvas.rect(middle - width / 2, y - 4, width, 10, stroke=0, fill=1)
    canvas.setFillColor(MUTED)
    draw_text(canvas, middle, y - 2.5, text, 8, align="center")
    canvas.setFillColor(black)
    canvas.setStrokeColor(black)


def draw_photo(document: Document, photo: bytes | None, x: float, top: float) -> None:
    """The student's photo at its real size with its top left corner at (x, top), or a
    dashed frame saying there is none."""
    canvas = document.canvas
    y = top - PHOTO_HEIGHT
    canvas.setLineWidth(0.5)
    if photo:
        canvas.drawImage(
            ImageReader(io.BytesIO(photo)),
            x,
            y,
            width=PHOTO_WIDTH,
            height=PHOTO_HEIGHT,
            preserveAspectRatio=True,
            anchor="c",
        )
        canvas.rect(x, y, PHOTO_WIDTH, PHOTO_HEIGHT)
        return
    canvas.setDash(2, 2)
    canvas.setStrokeColor(MUTED)
    canvas.rect(x, y, PHOTO_WIDTH, PHOTO_HEIGHT)
    canvas.setDash()
    canvas.setStrokeColor(black)
    canvas.setFillColor(MUTED)
    draw_text(
        canvas, x + PHOTO_WIDTH / 2, y + PHOTO_HEIGHT / 2 - 3, _("No photo"), 9, align="center"
    )
    canvas.setFillColor(black)


def right_line(document: Document, text: str, *, size: float = 11) -> None:
    """One line set flush right (the issuing school and the date under a statement)."""
    top = document.reserve(size * LEADING + 1 * mm)
    draw_text(document.canvas, document.right, top - size, text, size, align="right")


# --- A student's data as people read it --------------------------------------------------


def plain(value: Any) -> Any:
    """A value as a fact: dates as ISO text, decimals as text, None as ""."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def item_text(item: form_items.Item, value: Any) -> str:
    """An item of the national form as printed: code names instead of codes."""
    if value is None or value == "":
        return ""
    if item.kind == form_items.YES_NO or isinstance(value, bool):
        return codes.name_of("yes_no", "1" if value else "0")
    if item.kind == form_items.CODE:
        return codes.name_of(item.table, str(value))
    return str(plain(value))


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def placement_of(record: StudentRecord) -> Placement | None:
    """The record's grade and class in the current school year, else its latest."""
    placements = list(record.placements.select_related("school_year"))
    year = calendar.current_school_year(record.school.county)
    current = next(
        (p for p in placements if year is not None and p.school_year_id == year.pk), None
    )
    return current or (placements[-1] if placements else None)


def grade_and_class(grade: Any, class_name: Any) -> str:
    if not grade:
        return ""
    return _("Grade %(grade)s, class %(class)s") % {"grade": grade, "class": class_name or ""}


def school_year_label(start_year: int) -> str:
    return f"{start_year}-{start_year + 1}"


def photo_bytes(student: Student) -> bytes | None:
    if not student.photo:
        return None
    try:
        with student.photo.open("rb") as stored:
            return stored.read()
    except (FileNotFoundError, ValueError):
        # A row naming a file the storage lost prints as "no photo", like no file.
        return None


def guardians(student: Student) -> list[dict[str, str]]:
    """The guardians as the household register names them (both members if neither is
    marked guardian), with their relation's name and telephone."""
    members = list(FamilyMember.objects.filter(student=student).order_by("position"))
    chosen = [member for member in members if member.is_guardian] or members
    return [
        {
            "name": member.name,
            "relation": codes.name_of("relation", member.relation),
            "phone": member.phone,
        }
        for member in chosen
    ]


def issued_on(paper: IssuedPaper) -> str:
    """The date a paper was issued, as printed under a statement."""
    day = timezone.localtime(paper.issued_at).date()
    return _("%(year)d-%(month)02d-%(day)02d") % {
        "year": day.year,
        "month": day.month,
        "day": day.day,
    }
