"""The QR code every printed paper carries: the absolute address of its verification page.

Drawn with ReportLab's own QR encoder, so printing needs nothing beyond ReportLab.
"""

from django.conf import settings
from django.urls import reverse
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing


def verification_url(code: str) -> str:
    """`{XUEJI_PUBLIC_URL}/verify/{code}/`: what the QR code holds and the paper prints."""
    base = str(getattr(settings, "XUEJI_PUBLIC_URL", "http://127.0.0.1:8000")).rstrip("/")
    return base + reverse("verify_paper", args=[code])


def verification_form_url() -> str:
    """The page where a reader types the short code by hand."""
    base = str(getattr(settings, "XUEJI_PUBLIC_URL", "http://127.0.0.1:8000")).rstrip("/")
    return base + reverse("verify_form")


def draw_qr(canvas, payload: str, x: float, y: float, size: float) -> None:
    """Draw a square QR code of `size` points with its lower left corner at (x, y).

    Level M survives a stamp or a fold across a corner; the widget keeps the quiet zone of
    four modules inside `size`.
    """
    widget = QrCodeWidget(payload, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    width, height = right - left, top - bottom
    drawing = Drawing(size, size, transform=[size / width, 0, 0, size / height, 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def group_code(code: str) -> str:
    """The short code as people read and type it: 7KQ2-M9XA-3P."""
    return "-".join(code[index : index + 4] for index in range(0, len(code), 4))
