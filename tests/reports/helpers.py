"""Reading printed forms back: their text, pages, images and QR codes, and the papers
they issued."""

import io
import shutil
import subprocess
from urllib.parse import urlparse

import pytest
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image
from pypdf import PdfReader

from tests.changes.helpers import signed, with_documents
from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import Kind
from xueji.reports.models import IssuedPaper


def pages(pdf: bytes):
    return PdfReader(io.BytesIO(pdf)).pages


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pages(pdf))


def zh(message: str, context: str | None = None) -> str:
    with translation.override("zh-hans"):
        return translation.pgettext(context, message) if context else gettext(message)


def qr_payloads(pdf: bytes, tmp_path, page: int = 1) -> list[str]:
    """The QR codes on one page, decoded from a 150 dpi rendering (poppler and zxing-cpp)."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    zxingcpp = pytest.importorskip("zxingcpp")
    (tmp_path / "paper.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", str(page), "-singlefile", "paper.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    image = Image.open(tmp_path / "page.png")
    return [result.text for result in zxingcpp.read_barcodes(image)]


def verify_path(payload: str) -> str:
    return urlparse(payload).path


def light_blue_jpeg(shade: int = 0) -> bytes:
    """A 358 × 441 light-blue photo, as the national standard asks."""
    image = Image.new("RGB", (358, 441), (170 + shade, 205 + shade, 235))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def latest_paper(kind: str) -> IssuedPaper:
    return IssuedPaper.objects.filter(kind=kind).latest("pk")


def print_events():
    return AuditEvent.objects.filter(action="papers.printed").order_by("seq")


def walk_to_approval(cast, request):
    """Steps 1-4 and the bureau's approval of a request from A1 (a rural school)."""
    request = with_documents(request, cast.a1_registrar)
    request = signed(request, cast.a1_registrar, cast.a1_leader)
    request = services.do_central_review(request, actor=cast.central_a_registrar, approve=True)
    if request.kind == Kind.TRANSFER:
        services.do_confirm_receiving(request, actor=cast.b1_registrar, to_grade=1, to_class="2")
    request = services.do_submit(request, actor=cast.a1_registrar)
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    return services.do_decide(request, actor=cast.bureau_registrar, approve=True)
