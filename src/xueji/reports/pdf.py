"""A4 layout on ReportLab's canvas: the building blocks of every printed paper (B4).

A `Document` keeps a cursor that moves down the page; each block (title, paragraph,
key-value grid, table, signature boxes) makes room for itself, starting a new page when it
does not fit. Every page gets a footer with "page x of y", the paper's short verification
code and its QR code, and, when a rare character could not be printed, a notice naming it.
Nothing here knows what the paper is about: forms pass strings.

    document = Document(_("Change report"), code=paper.code)
    document.title(_("Change report"), subtitle=school.name)
    document.grid([(_("Name"), name), (_("School"), school.name)])
    document.table([_("Document"), _("Checked")], rows)
    document.signatures([_("School"), _("Central school"), _("Education bureau")])
    pdf_bytes = document.build()
"""

import hashlib
import io
import re
from collections.abc import Callable, Sequence

from django.utils.translation import gettext as _
from reportlab import rl_config
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from xueji.reports.fonts import font_for, missing_characters, missing_notice, text_width
from xueji.reports.qr import draw_qr, group_code, verification_form_url, verification_url

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
# The footer band: QR code bottom right, code and notices at the left, page number centred.
FOOTER_TOP = 38 * mm
QR_SIZE = 24 * mm
PADDING = 1.8 * mm
LEADING = 1.35  # line height as a multiple of the font size
GREY = Color(0.9, 0.9, 0.9)
MUTED = Color(0.4, 0.4, 0.4)
RED = Color(0.75, 0.05, 0.05)

# Chinese breaks between any two characters, except that closing punctuation never starts
# a line; runs of Latin letters and digits (numbers, codes, addresses) stay whole if they can.
NO_LINE_START = set("，。、；：？！）》」』】〕…,.;:?!)]%")
TOKEN = re.compile(r"[A-Za-z0-9@._:/\-+#]+|\s+|.", re.DOTALL)

Pair = tuple[str, object] | tuple[str, object, int]

# Streams (photos, fonts, page contents) are written as binary, not as ASCII85 text:
# ReportLab encodes ASCII85 in pure Python, which took a third of a photo sheet's time,
# and every PDF reader takes binary streams (ASCII85 only helped 7-bit mail).
rl_config.useA85 = 0


def draw_text(
    canvas: Canvas, x: float, y: float, text: str, size: float, *, align: str = "left"
) -> float:
    """Draw one line with its baseline at y, each character in a font that has it, and
    return its width. `align` is "left", "center" (x is the middle) or "right" (x is the
    end). Characters that print as "□" are noted on a Document's canvas for its notice."""
    runs = font_for(text)
    width = sum(stringWidth(run, font, size) for run, font in runs)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    for run, font in runs:
        canvas.setFont(font, size)
        canvas.drawString(x, y, run)
        x += stringWidth(run, font, size)
    note = getattr(canvas, "note_missing", None)
    if note is not None:
        note(missing_characters(text))
    return width


def wrap(text: str, width: float, size: float) -> list[str]:
    """Break text into lines no wider than `width` at this size (newlines kept)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line, line_width = "", 0.0
        tokens = TOKEN.findall(paragraph)
        while tokens:
            token = tokens.pop(0)
            token_width = text_width(token, size)
            if line_width + token_width <= width or not line.strip():
                if token_width > width and len(token) > 1:
                    # A word longer than the whole line breaks between characters.
                    tokens[0:0] = list(token)
                    continue
                line, line_width = line + token, line_width + token_width
                continue
            if token.isspace():
                continue
            if token in NO_LINE_START and len(line) > 1:
                # Take the last character down with the punctuation.
                lines.append(line[:-1].rstrip())
                line = line[-1] + token
            else:
                lines.append(line.rstrip())
                line = token
            line_width = text_width(line, size)
        lines.append(line.rstrip())
    return lines


class _StoredJpeg(ImageReader):
    """A JPEG photo drawn as it is stored: the PDF embeds its bytes as they are (DCTDecode),
    and they also name it, where ReportLab would decode every photo to its pixels only to
    find out whether the same image was drawn before (2,000 decodes on a photo sheet)."""

    def getRGBData(self):
        # Canvas.drawImage calls this only to name the image: equal files, equal names.
        self._dataA = None
        stored = self.jpeg_fh()
        data = stored.read()
        stored.seek(0)
        return data


class _PagedCanvas(Canvas):
    """A canvas that keeps every page until `save`, so each footer knows the page count."""

    def drawImage(self, image, *args, **kwargs):
        if isinstance(image, ImageReader) and image.jpeg_fh() is not None:
            image = _StoredJpeg(image)  # shares the reader's state (ImageReader's idiom)
        return super().drawImage(image, *args, **kwargs)

    def __init__(self, *args, footer: Callable[["_PagedCanvas", int, int], None], **kwargs):
        super().__init__(*args, **kwargs)
        self._saved_pages: list[dict] = []
        self._footer = footer
        self.page_missing: list[str] = []

    def note_missing(self, chars: list[str]) -> None:
        for char in chars:
            if char not in self.page_missing:
                self.page_missing.append(char)

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()
        self.page_missing = []

    def save(self) -> None:
        count = len(self._saved_pages)
        for number, state in enumerate(self._saved_pages, start=1):
            self.__dict__.update(state)
            self._footer(self, number, count)
            Canvas.showPage(self)
        Canvas.save(self)


class Document:
    """An A4 paper built top to bottom; `build()` returns the PDF's bytes.

    `code` is the paper's verification code (from `verify.do_issue_paper`): every page then
    shows it with its QR code. `canvas`, `left`, `right`, `width` and `y` (the cursor, in
    points from the bottom) are there for forms that draw something of their own, after
    `reserve(height)` has made room for it.
    """

    def __init__(self, title: str, *, code: str | None = None, author: str = ""):
        self._buffer = io.BytesIO()
        self.canvas = _PagedCanvas(self._buffer, pagesize=A4, footer=self._draw_footer)
        self.canvas.setTitle(title)
        self.canvas.setAuthor(author)
        self.canvas.setCreator("Xueji")
        self.code = code
        self.left = MARGIN
        self.right = PAGE_WIDTH - MARGIN
        self.width = self.right - self.left
        self.top = PAGE_HEIGHT - MARGIN
        self.bottom = FOOTER_TOP + 3 * mm
        self.y = self.top
        self._built: bytes | None = None

    # --- the cursor --------------------------------------------------------------------

    def new_page(self) -> None:
        self.canvas.showPage()
        self.y = self.top

    def reserve(self, height: float) -> float:
        """Make room for `height` points (on a new page if needed) and return the top of
        the room; the cursor moves below it."""
        if self.y - height < self.bottom and self.y < self.top:
            self.new_page()
        top = self.y
        self.y -= height
        return top

    def space(self, height: float = 4 * mm) -> None:
        self.y -= height

    # --- blocks ------------------------------------------------------------------------

    def title(self, text: str, *, subtitle: str = "", size: float = 18) -> None:
        height = size * LEADING + (10 * LEADING if subtitle else 0) + 5 * mm
        top = self.reserve(height)
        baseline = top - size
        draw_text(self.canvas, PAGE_WIDTH / 2, baseline, text, size, align="center")
        if subtitle:
            baseline -= 10 * LEADING + 2 * mm
            self.canvas.setFillColor(MUTED)
            draw_text(self.canvas, PAGE_WIDTH / 2, baseline, subtitle, 10, align="center")
            self.canvas.setFillColor(black)

    def paragraph(self, text: str, *, size: float = 10.5) -> None:
        for line in wrap(text, self.width, size):
            top = self.reserve(size * LEADING)
            draw_text(self.canvas, self.left, top - size, line, size)
        self.space(2 * mm)

    def grid(
        self,
        pairs: Sequence[Pair],
        *,
        columns: int = 2,
        label_width: float = 26 * mm,
        size: float = 10,
    ) -> None:
        """Label and value cells with borders, `columns` pairs to a row. A pair may carry
        a third item, how many columns it spans (e.g. an address across the whole row)."""
        column_width = self.width / columns
        row: list[tuple[str, str, int]] = []
        used = 0
        for pair in pairs:
            label, value = pair[0], pair[1]
            span = min(int(pair[2]), columns) if len(pair) > 2 else 1  # type: ignore[misc]
            if used + span > columns:
                self._grid_row(row, column_width, label_width, size)
                row, used = [], 0
            row.append((str(label), "" if value is None else str(value), span))
            used += span
        if row:
            self._grid_row(row, column_width, label_width, size)
        self.space(3 * mm)

    def _grid_row(self, row, column_width: float, label_width: float, size: float) -> None:
        cells: list[tuple[float, float, list[str], bool]] = []
        x = self.left
        for label, value, span in row:
            value_width = column_width * span - label_width
            cells.append((x, label_width, wrap(label, label_width - 2 * PADDING, size), True))
            cells.append(
                (x + label_width, value_width, wrap(value, value_width - 2 * PADDING, size), False)
            )
            x += column_width * span
        if x < self.right - 0.1:  # an incomplete last row: close it with an empty cell
            cells.append((x, self.right - x, [], False))
        height = max(len(lines) for _x, _w, lines, _l in cells) * size * LEADING + 2 * PADDING
        top = self.reserve(height)
        for cell_x, cell_width, lines, is_label in cells:
            self._cell(
                cell_x, top, cell_width, height, lines, size, fill=GREY if is_label else None
            )

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        *,
        widths: Sequence[float] | None = None,
        size: float = 9.5,
    ) -> None:
        """A table with a shaded header row, repeated on each new page. `widths` are
        relative (e.g. [1, 3, 1]); cells wrap."""
        weights = list(widths) if widths else [1.0] * len(header)
        total = sum(weights)
        column_widths = [self.width * weight / total for weight in weights]

        def draw_row(cells: Sequence[object], fill: Color | None) -> None:
            wrapped = [
                wrap("" if cell is None else str(cell), width - 2 * PADDING, size)
                for cell, width in zip(cells, column_widths, strict=True)
            ]
            height = max(len(lines) for lines in wrapped) * size * LEADING + 2 * PADDING
            if self.y - height < self.bottom and self.y < self.top:
                self.new_page()
                if fill is None:
                    draw_row(header, GREY)
            top = self.reserve(height)
            x = self.left
            for lines, width in zip(wrapped, column_widths, strict=True):
                self._cell(x, top, width, height, lines, size, fill=fill)
                x += width

        draw_row(header, GREY)
        for cells in rows:
            draw_row(cells, None)
        self.space(3 * mm)

    def signatures(self, labels: Sequence[str], *, height: float = 40 * mm) -> None:
        """Signature-and-stamp boxes, up to three to a row: each with its label, a
        signature line, a date line and a square for the stamp."""
        for start in range(0, len(labels), 3):
            chunk = labels[start : start + 3]
            box_width = self.width / len(chunk)
            top = self.reserve(height)
            for index, label in enumerate(chunk):
                self._signature_box(self.left + index * box_width, top, box_width, height, label)
        self.space(3 * mm)

    def _signature_box(self, x: float, top: float, width: float, height: float, label: str):
        canvas = self.canvas
        canvas.setLineWidth(0.6)
        canvas.rect(x, top - height, width, height)
        size = 10.5
        draw_text(canvas, x + PADDING * 2, top - PADDING * 2 - size, label, size)
        stamp = min(30 * mm, width * 0.45, height - 14 * mm)
        stamp_x = x + width - stamp - PADDING * 2
        stamp_y = top - height + PADDING * 2
        canvas.setDash(2, 2)
        canvas.setStrokeColor(MUTED)
        canvas.rect(stamp_x, stamp_y, stamp, stamp)
        canvas.setDash()
        canvas.setStrokeColor(black)
        canvas.setFillColor(MUTED)
        draw_text(
            canvas, stamp_x + stamp / 2, stamp_y + stamp / 2 - 3, _("Stamp"), 8, align="center"
        )
        canvas.setFillColor(black)
        line_end = stamp_x - PADDING * 2
        for offset, caption in ((16 * mm, _("Signature:")), (6 * mm, _("Date:"))):
            baseline = top - height + offset
            caption_width = draw_text(canvas, x + PADDING * 2, baseline, caption, 9.5)
            canvas.line(
                x + PADDING * 2 + caption_width + 1 * mm, baseline - 1.5, line_end, baseline - 1.5
            )

    def _cell(self, x, top, width, height, lines, size, *, fill: Color | None = None) -> None:
        canvas = self.canvas
        canvas.setLineWidth(0.5)
        if fill is not None:
            canvas.setFillColor(fill)
            canvas.rect(x, top - height, width, height, stroke=1, fill=1)
            canvas.setFillColor(black)
        else:
            canvas.rect(x, top - height, width, height, stroke=1, fill=0)
        baseline = top - PADDING - size
        for line in lines:
            draw_text(canvas, x + PADDING, baseline, line, size)
            baseline -= size * LEADING

    # --- footer and output -------------------------------------------------------------

    def _draw_footer(self, canvas: _PagedCanvas, number: int, count: int) -> None:
        canvas.setStrokeColor(MUTED)
        canvas.setLineWidth(0.4)
        canvas.line(self.left, FOOTER_TOP, self.right, FOOTER_TOP)
        canvas.setStrokeColor(black)
        text_right = self.right - (QR_SIZE + 4 * mm if self.code else 0)
        text_width_available = text_right - self.left
        baseline = FOOTER_TOP - 4 * mm
        missing = list(canvas.page_missing)
        if missing:
            canvas.setFillColor(RED)
            for line in wrap(missing_notice(missing), text_width_available, 8.5):
                draw_text(canvas, self.left, baseline, line, 8.5)
                baseline -= 8.5 * LEADING
            canvas.setFillColor(black)
            baseline -= 1 * mm
        if self.code:
            self._draw_qr(canvas, self.right - QR_SIZE, 9 * mm)
            draw_text(
                canvas,
                self.left,
                baseline - 2,
                _("Verification code: %(code)s") % {"code": group_code(self.code)},
                10,
            )
            baseline -= 10 * LEADING + 1
            canvas.setFillColor(MUTED)
            help_text = _(
                "Scan the QR code, or open %(url)s and type the code, to check that this "
                "paper still matches the registry."
            ) % {"url": verification_form_url()}
            for line in wrap(help_text, text_width_available, 7.5):
                draw_text(canvas, self.left, baseline, line, 7.5)
                baseline -= 7.5 * LEADING
            canvas.setFillColor(black)
        draw_text(
            canvas,
            PAGE_WIDTH / 2,
            8 * mm,
            _("Page %(page)d of %(pages)d") % {"page": number, "pages": count},
            9,
            align="center",
        )

    def _draw_qr(self, canvas: _PagedCanvas, x: float, y: float) -> None:
        """The paper's QR code at (x, y). Every page of a paper carries the same one: it is
        encoded and drawn once, as a form (a PDF XObject) that each page places, instead of
        once per page (a photo sheet of 2,000 pupils has a hundred pages)."""
        assert self.code is not None
        name = f"XuejiQR{hashlib.sha256(self.code.encode()).hexdigest()[:16]}"
        if not canvas.hasForm(name):
            canvas.beginForm(name, 0, 0, QR_SIZE, QR_SIZE)
            draw_qr(canvas, verification_url(self.code), 0, 0, QR_SIZE)
            canvas.endForm()
        canvas.saveState()
        canvas.translate(x, y)
        canvas.doForm(name)
        canvas.restoreState()

    def build(self) -> bytes:
        """Finish the last page and return the PDF. Building twice returns the same bytes."""
        if self._built is None:
            self.canvas.showPage()
            self.canvas.save()
            self._built = self._buffer.getvalue()
        return self._built
