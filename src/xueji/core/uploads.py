"""Uploaded scans, and the answers that serve stored files back (issue 8).

A scan (the evidence of a change, the signed change report, a unit's change-management
plan) is accepted only as what its content proves it to be: a JPEG or PNG whose pixels
decode in full within a pixel limit, or a PDF with a PDF's header and its end marker (a
truncated upload has none). The file name and the browser's content type
are never believed, so an HTML page or an SVG renamed to .jpg, a truncated picture and a
decompression bomb are all refused with a sentence that says why.

Stored files are served by `file_response`, which keeps any upload from running in the
browser: the type the content was verified to be (anything else is a download of opaque
bytes), no type sniffing, a policy that allows nothing, and no shared cache.
"""

from __future__ import annotations

import io
import re
import warnings
from typing import TypeVar

from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from PIL import Image

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
# The verified types and the extension each is stored under.
SCAN_TYPES = {JPEG: "jpg", PNG: "png", PDF: "pdf"}
IMAGE_TYPES = {JPEG, PNG}
OPAQUE = "application/octet-stream"

# An A4 page scanned in colour at 600 dpi has 35 megapixels; a scan far beyond that is a
# decompression bomb (a PNG of a few kilobytes can claim gigapixels).
MAX_SCAN_PIXELS = 50_000_000
# A PDF ends with "%%EOF"; scanners and editors may add a little after it, so the marker
# is looked for in the last few kilobytes. (Its pages are the PDF viewer's to read: we
# ship no PDF parser, and a PDF is never shown as a page of ours.)
PDF_TAIL_BYTES = 4096
_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")

# Images are shown as a document of their own: nothing may load, nothing may run.
IMAGE_POLICY = "default-src 'none'; sandbox"
# Chrome and Safari refuse to start their PDF viewer in a sandboxed document, and the
# viewer runs isolated from our origin anyway, so a verified PDF gets no sandbox flag.
PDF_POLICY = "default-src 'none'"
# A file of any other type is only ever downloaded.
DOWNLOAD_POLICY = "default-src 'none'; sandbox"


Response = TypeVar("Response", bound=HttpResponseBase)


class UploadRefused(Exception):
    """An upload that is not what it must be; `message` says why, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


def scan_kind(data: bytes) -> str | None:
    """What the first bytes claim: JPEG, PNG, PDF or None. A claim only; verify_scan
    proves it."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def verify_scan(data: bytes) -> str:
    """The verified content type of a scan (image/jpeg, image/png or application/pdf), or
    UploadRefused naming the reason."""
    kind = scan_kind(data)
    if kind == PDF:
        _verify_pdf(data)
    elif kind in IMAGE_TYPES:
        _verify_image(data, "JPEG" if kind == JPEG else "PNG")
    else:
        raise UploadRefused(_("upload a JPG, PNG or PDF file."))
    return kind


def _verify_pdf(data: bytes) -> None:
    if not _PDF_HEADER.match(data) or b"%%EOF" not in data[-PDF_TAIL_BYTES:]:
        raise UploadRefused(_("the PDF file is damaged or incomplete; scan it again."))


def _verify_image(data: bytes, image_format: str) -> None:
    damaged = _("the image file is damaged or incomplete; scan it again.")
    # Pillow warns between its own pixel limit and twice that and raises beyond; both
    # are bombs here, and our own limit below is lower still.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[image_format])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadRefused(_too_large()) from None
        # Pillow raises many kinds of errors on a hostile header; all mean "damaged".
        except Exception:
            raise UploadRefused(damaged) from None
        if image.width * image.height > MAX_SCAN_PIXELS:
            raise UploadRefused(_too_large(image.width, image.height))
        try:
            if image_format == "JPEG":
                # Decoding at 1/8 scale still reads every byte of the compressed picture
                # (a damaged or truncated one fails), at a 64th of the memory.
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadRefused(_too_large()) from None
        except Exception:
            raise UploadRefused(damaged) from None
        finally:
            image.close()


def _too_large(width: int | None = None, height: int | None = None) -> str:
    limit = MAX_SCAN_PIXELS // 1_000_000
    if width is None or height is None:
        return _("the image is too large to be a scan; the limit is %(limit)d megapixels.") % {
            "limit": limit
        }
    return _(
        "the image is %(width)d × %(height)d pixels, too large to be a scan; "
        "the limit is %(limit)d megapixels."
    ) % {"width": width, "height": height, "limit": limit}


def protect(response: Response, content_type: str, *, cache_seconds: int = 0) -> Response:
    """The headers every answer carrying a stored file gets, by its verified type."""
    response["X-Content-Type-Options"] = "nosniff"
    if content_type in IMAGE_TYPES:
        response["Content-Security-Policy"] = IMAGE_POLICY
    elif content_type == PDF:
        response["Content-Security-Policy"] = PDF_POLICY
    else:
        response["Content-Security-Policy"] = DOWNLOAD_POLICY
    # Family papers and children's faces: never kept by a shared cache; a photo may stay
    # a few minutes in the user's own browser, so a list of thumbnails loads once.
    if cache_seconds:
        patch_cache_control(response, private=True, max_age=cache_seconds)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response


def file_response(
    stored,
    *,
    content_type: str,
    filename: str,
    attachment: bool = False,
    cache_seconds: int = 0,
) -> FileResponse:
    """Serve a stored upload. Only a verified image or PDF is shown in the browser
    (inline); anything else, or what the caller wants saved, is an attachment, and a type
    that was not verified is sent as opaque bytes."""
    shown = content_type in SCAN_TYPES
    response = FileResponse(
        stored,
        content_type=content_type if shown else OPAQUE,
        as_attachment=attachment or not shown,
        filename=filename,
    )
    protect(response, content_type if shown else OPAQUE, cache_seconds=cache_seconds)
    return response
