"""Refresh the README's screenshots (docs/screenshots/) from the test run's pictures.

`make screenshots` runs tests/e2e/test_screenshots_browser.py (the pages, var/screenshots/)
and tests/reports/test_form_images.py (the forms, var/screenshots/forms/, with their
PDFs), then this script: it crops each chosen page to its top, puts the phone pages and
the forms side by side, scales down and writes optimised PNGs of at most 200 KB each.

Usage: python scripts/screenshots.py [--source var/screenshots] [--target docs/screenshots]
Needs Pillow and, for the forms, pdftoppm (poppler-utils). Nothing is written unless every
picture it needs is there.
"""

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 200 * 1024  # bytes per image
WIDTH = 1000  # a page picture's width in the README (GitHub shows about 880 px)
BACKGROUND = (238, 241, 245)  # the light grey behind side-by-side pictures
GAP = 24
FORM_DPI = 72  # the forms for the README: sharper than the test's 60 dpi check


@dataclass(frozen=True)
class Page:
    """One page picture, cropped to its top `height` pixels (at 1280 px wide)."""

    target: str
    source: str
    height: int


@dataclass(frozen=True)
class SideBySide:
    """Several pictures in a row: phone pages (PNG) or first pages of forms (PDF)."""

    target: str
    sources: tuple[str, ...]
    height: int = 0  # crop each to this height; 0 keeps them whole


PICKS: list[Page | SideBySide] = [
    Page("dashboard.png", "bureau-dashboard.png", 820),
    Page("intake.png", "school-intake.png", 960),
    Page("change-request.png", "school-request.png", 1060),
    Page("approval-session.png", "bureau-approval-session.png", 1380),
    Page("statistics.png", "bureau-statistics.png", 1385),
    Page("reporting-round.png", "bureau-round.png", 1100),
    SideBySide(
        "phone.png",
        ("phone-school-dashboard.png", "phone-school-request.png", "phone-bureau-statistics.png"),
        height=1000,
    ),
    SideBySide(
        "forms.png",
        ("forms/record-card.pdf", "forms/transfer-certificate.pdf", "forms/photo-sheet.pdf"),
    ),
]


def needed(pick: Page | SideBySide) -> list[str]:
    return [pick.source] if isinstance(pick, Page) else list(pick.sources)


def first_page(pdf: Path) -> Image.Image:
    """The PDF's first page drawn by poppler, framed by a thin grey line."""
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(
            ["pdftoppm", "-r", str(FORM_DPI), "-png", "-f", "1", "-l", "1", "-singlefile"]
            + [str(pdf), str(Path(work) / "page")],
            check=True,
            timeout=60,
        )
        image = Image.open(Path(work) / "page.png").convert("RGB")
        image.load()
    return ImageOps.expand(image, border=1, fill=(200, 205, 212))


def page_picture(path: Path, height: int) -> Image.Image:
    image = Image.open(path).convert("RGB")
    if height:
        image = image.crop((0, 0, image.width, min(height, image.height)))
    return image


def in_a_row(images: list[Image.Image]) -> Image.Image:
    width = sum(image.width for image in images) + GAP * (len(images) + 1)
    height = max(image.height for image in images) + 2 * GAP
    row = Image.new("RGB", (width, height), BACKGROUND)
    x = GAP
    for image in images:
        row.paste(image, (x, GAP))
        x += image.width + GAP
    return row


def encoded(image: Image.Image) -> bytes:
    """The smallest of: optimised full colour, or 256 colours; scaled down further until
    it fits the limit. (The octree palette keeps the interface's few colours true; the
    default median cut turns small red borders brown.)"""
    while True:
        candidates = []
        palette = image.quantize(
            colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        for picture in (image, palette):
            buffer = io.BytesIO()
            picture.save(buffer, "PNG", optimize=True)
            candidates.append(buffer.getvalue())
        best = min(candidates, key=len)
        if len(best) <= LIMIT:
            return best
        image = image.resize(
            (image.width * 9 // 10, image.height * 9 // 10), Image.Resampling.LANCZOS
        )


def scaled(image: Image.Image, width: int) -> Image.Image:
    if image.width <= width:
        return image
    return image.resize(
        (width, round(image.height * width / image.width)), Image.Resampling.LANCZOS
    )


def picture(pick: Page | SideBySide, source: Path) -> Image.Image:
    if isinstance(pick, Page):
        return scaled(page_picture(source / pick.source, pick.height), WIDTH)
    parts = [
        first_page(source / name)
        if name.endswith(".pdf")
        else page_picture(source / name, pick.height)
        for name in pick.sources
    ]
    return scaled(in_a_row(parts), WIDTH)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT / "var" / "screenshots")
    parser.add_argument("--target", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)

    missing = [name for pick in PICKS for name in needed(pick) if not (args.source / name).exists()]
    if missing:
        print(
            "missing in " + str(args.source) + ": " + ", ".join(missing) + "\n"
            "Run `make screenshots` on a machine with chromium at /usr/bin/chromium and "
            "poppler-utils (the browser tests and the form images are skipped without them).",
            file=sys.stderr,
        )
        return 1
    if shutil.which("pdftoppm") is None:
        print("pdftoppm (poppler-utils) is needed to draw the forms.", file=sys.stderr)
        return 1

    args.target.mkdir(parents=True, exist_ok=True)
    for pick in PICKS:
        data = encoded(picture(pick, args.source))
        (args.target / pick.target).write_bytes(data)
        size = Image.open(io.BytesIO(data)).size
        print(f"{pick.target:<22} {size[0]}×{size[1]:<5} {len(data) // 1024:>4} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
