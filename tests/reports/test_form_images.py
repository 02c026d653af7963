"""B4, N4, C3, C4, N6: every printed form rendered to images by poppler, as a reader's PDF
viewer or a printer driver would draw it (issue 7, "Look").

Each form is fetched from its page as the user who prints it would, rendered with
`pdftoppm -r 60 -png` into var/screenshots/forms/<form>-<page>.png (its PDF kept beside
it), and each page must carry ink where the text goes: a form whose Chinese font failed to
embed, or that poppler cannot draw, comes out blank or nearly so. `pdffonts` must list the
embedded CJK font. `make screenshots` picks some of these for the README.

Skipped, visibly, where poppler-utils is not installed.
"""

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.changes.helpers import DAY, with_documents
from tests.students.conftest import TODAY, raw_student
from xueji.changes import services as change_services
from xueji.changes.models import Kind
from xueji.intake import services as intake_services
from xueji.intake.demo_intake import portrait
from xueji.students import services as student_services
from xueji.students.photo_services import do_set_photo
from xueji.students.validation import validate_student

from .helpers import walk_to_approval

FORMS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "forms"
RESOLUTION = 60  # dpi: an A4 page is 496 × 702 pixels

pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdffonts") is None,
    reason="form images skipped: pdftoppm and pdffonts (poppler-utils) are not installed",
)

# The share of the text area that must be ink. A blank page has none; the sparsest form
# (the certificate of enrolment, a few lines on a page) has well over 1 %.
MIN_INK = 0.005
DARK = 128  # a grey level below this is ink


@pytest.fixture
def papers(cast, register, school_year):
    """A1's class 1 of grade 1 (photographed and numbered), an approved transfer, a name
    change with its documents checked, a suspension ready to print, and new pupils
    numbered in the intake for the bureau's photo sheet. Returns {form: (user, url)}."""
    a1 = cast.a1_registrar

    def pupil(name: str, sequence: int, sex: str = "1"):
        done = register(name=name, sex=sex, sequence=sequence)
        do_set_photo(done.student, portrait(sequence), actor=cast.central_a_registrar)
        student_services.do_assign_numbers(done.record, actor=a1)
        done.record.refresh_from_db()
        return done

    card = pupil("张小明", 1)
    pupil("李欣怡", 2, sex="2")
    pupil("王浩然", 3)
    moving = pupil("刘诗涵", 4, sex="2")
    renamed = pupil("陈宇轩", 5)
    suspended = pupil("杨梓萱", 6, sex="2")

    transfer = walk_to_approval(
        cast,
        change_services.do_create_request(
            moving.record,
            Kind.TRANSFER,
            actor=a1,
            reason="moved",
            effective_date=DAY,
            to_school=cast.school_b1,
        ),
    )
    rename = with_documents(
        change_services.do_create_request(
            renamed.record,
            Kind.CORRECTION,
            actor=a1,
            reason="divorce",
            effective_date=DAY,
            corrections={"name": "王宇轩"},
        ),
        a1,
    )
    suspension = with_documents(
        change_services.do_create_request(
            suspended.record, Kind.SUSPENSION, actor=a1, reason="sick", effective_date=DAY
        ),
        a1,
    )

    entries = []
    for sequence, name in enumerate(["王雨泽", "李若汐", "张一鸣", "刘语桐"], start=11):
        values = validate_student(raw_student(name=name, sequence=sequence), today=TODAY).values
        entries.append(
            intake_services.do_enter_pupil(
                values, actor=a1, school=cast.school_a1, school_year=school_year
            )
        )
    intake_services.do_send_for_review(entries, actor=a1)
    intake_services.do_review(entries, actor=cast.central_a_registrar, admit=True)
    for sequence, entry in enumerate(entries, start=11):
        intake_services.do_collect_photo(entry, portrait(sequence), actor=cast.central_a_registrar)
    intake_services.do_number(entries, actor=cast.central_a_registrar)

    student = card.student
    return {
        "record-card": (a1, f"/students/{student.pk}/record-card.pdf"),
        "certificate": (a1, f"/students/{student.pk}/certificate.pdf"),
        "class-roster": (a1, "/students/class-roster.pdf?grade=1&class_name=1"),
        "transfer-certificate": (a1, f"/changes/{transfer.pk}/transfer-certificate.pdf"),
        "name-change-application": (a1, f"/changes/{rename.pk}/name-change-application.pdf"),
        # A1 has no printer: its central school prints the change report (C3, E1).
        "change-report": (cast.central_a_registrar, f"/changes/{suspension.pk}/report.pdf"),
        "photo-sheet": (
            cast.bureau_registrar,
            f"/intake/photo-sheet/{cast.school_a1.pk}/?grade=1&class_name=1",
        ),
    }


def render(name: str, pdf: bytes) -> list[Path]:
    """The PDF kept as var/screenshots/forms/<name>.pdf and drawn by poppler, one PNG a
    page; the previous run's images of the form are removed first."""
    FORMS.mkdir(parents=True, exist_ok=True)
    for old in FORMS.glob(f"{name}-*.png"):
        old.unlink()
    source = FORMS / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(RESOLUTION), "-png", source.name, name],
        cwd=FORMS,
        check=True,
        timeout=60,
    )
    pattern = re.compile(rf"^{re.escape(name)}-(\d+)\.png$")
    found = [(int(m.group(1)), path) for path in FORMS.iterdir() if (m := pattern.match(path.name))]
    return [path for _page, path in sorted(found)]


def ink(path: Path) -> float:
    """The share of dark pixels inside the page's margins (the text area)."""
    image = Image.open(path).convert("L")
    width, height = image.size
    area = image.crop((width // 10, height // 20, width - width // 10, height - height // 20))
    histogram = area.histogram()
    return sum(histogram[:DARK]) / (area.width * area.height)


def title_height(path: Path) -> int:
    """The height in pixels of the first line drawn from the top of the page: the form's
    title. Drawn in CJK glyphs at heading size it is a dozen pixels tall at 60 dpi; with no
    glyphs for its characters the first ink is a thin rule or a line of digits."""
    image = Image.open(path).convert("L")
    width, height = image.size
    ink_rows = [
        y for y in range(height // 5) if image.crop((0, y, width, y + 1)).getextrema()[0] < DARK
    ]
    if not ink_rows:
        return 0
    end = ink_rows[0]
    while end + 1 in ink_rows:
        end += 1
    return end - ink_rows[0] + 1


def cjk_fonts(path: Path) -> list[str]:
    """pdffonts' lines for the CJK fonts: the TrueType font embedded as a subset, or the
    STSong-Light CID font the reader supplies (reports/fonts.py)."""
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()[2:]
    # Columns: name type encoding emb sub uni object ID; "emb" is the fifth from the end.
    return [line for line in listing if line.split()[-5] == "yes" or "STSong-Light" in line]


@pytest.mark.parametrize(
    "form",
    [
        "record-card",
        "certificate",
        "class-roster",
        "transfer-certificate",
        "name-change-application",
        "change-report",
        "photo-sheet",
    ],
)
def test_each_form_renders_with_poppler_and_carries_ink_on_every_page(
    cast, client_for, papers, form
):
    user, url = papers[form]
    response = client_for(user).get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content

    images = render(form, pdf)
    assert len(images) == len(PdfReader(io.BytesIO(pdf)).pages)
    for image in images:
        width, height = Image.open(image).size
        # A4 portrait at 60 dpi (poppler rounds a pixel either way).
        assert abs(width - 496) <= 1 and abs(height - 702) <= 1, (image.name, width, height)
        share = ink(image)
        assert share > MIN_INK, f"{image.name} is nearly blank ({share:.2%} ink)"
    assert title_height(images[0]) >= 10, f"{images[0].name}: the title is not drawn"
    assert cjk_fonts(FORMS / f"{form}.pdf"), f"{form}.pdf names no CJK font"
