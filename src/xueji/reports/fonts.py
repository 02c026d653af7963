"""The fonts of every printed paper, and which font draws which character.

Three layers, each registered once per configuration:

- ReportLab's built-in CID font STSong-Light, always: it needs no font file, so a fresh
  machine prints the basic plane (every character of GB 18030's BMP part) out of the box.
  The PDF names the font and the reader supplies the glyphs.
- A TrueType CJK font, embedded as a subset, when XUEJI_PDF_FONT names one or one of the
  usual Debian and Windows fonts is found: it looks better and prints the same everywhere,
  so body text prefers it, character by character, falling back to STSong-Light.
- A font for the rare characters outside the basic plane (CJK Extension B and later), when
  XUEJI_PDF_EXTB_FONT names one or one is found. Without it such a character is printed
  as "□" and the paper carries a notice naming its code point, so nothing is dropped
  silently.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import ngettext
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

logger = logging.getLogger(__name__)

CID_FONT = "STSong-Light"
MISSING_MARK = "□"

# Tried in order when XUEJI_PDF_FONT is empty. Debian's Noto CJK is an OpenType collection
# with PostScript outlines, which ReportLab cannot embed today; it stays on the list so a
# ReportLab that can will use it, and a failure only moves on to the next candidate.
BODY_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "C:\\Windows\\Fonts\\simsun.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\simhei.ttf",
)
EXTB_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
    "C:\\Windows\\Fonts\\simsunb.ttf",
)


def _utf16_hex(code_point: int) -> str:
    if code_point <= 0xFFFF:
        return f"{code_point:04X}"
    offset = code_point - 0x10000
    return f"{0xD800 + (offset >> 10):04X}{0xDC00 + (offset & 0x3FF):04X}"


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode CMap, with characters outside the basic plane written as
    UTF-16 surrogate pairs as the PDF specification asks. ReportLab writes them as bare
    five-digit hex, which readers reject, so a rare character printed correctly could not
    be copied or searched; for the basic plane the output is the same as ReportLab's."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({fontname})",
        f"/Ordering ({fontname})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{fontname} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        f"{len(subset)} beginbfchar",
        *(f"<{index:02X}> <{_utf16_hex(value)}>" for index, value in enumerate(subset)),
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines)


ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # type: ignore[attr-defined]


@dataclass
class FontSet:
    """The registered fonts of one configuration, with the characters each one has."""

    body: str | None = None
    body_chars: frozenset[int] = field(default_factory=frozenset)
    extb: str | None = None
    extb_chars: frozenset[int] = field(default_factory=frozenset)

    @property
    def main(self) -> str:
        return self.body or CID_FONT


_cache: dict[tuple[str, str], FontSet] = {}


def _register_ttf(path: str) -> tuple[str, frozenset[int]] | None:
    """Register a TrueType font (the first face of a collection) under a name derived from
    its path, or return None when it is missing or cannot be embedded."""
    if not path or not Path(path).is_file():
        return None
    name = "Xueji-" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:10]
    try:
        if name not in pdfmetrics.getRegisteredFontNames():
            # A collection's first face is its regular one (WenQuanYi Zen Hei, SimSun).
            font = TTFont(name, path, subfontIndex=0)
            pdfmetrics.registerFont(font)
        font = pdfmetrics.getFont(name)
    except Exception as error:  # a broken or PostScript-outlined font: use the next one
        logger.warning("Cannot use the font %s for PDFs: %s", path, error)
        return None
    return name, frozenset(font.face.charToGlyph)


def _pick(configured: str, candidates: tuple[str, ...]) -> tuple[str, frozenset[int]] | None:
    # A configured path is the operator's choice: if it is missing we say so and use the
    # fallback rather than silently printing with a different font.
    if configured:
        found = _register_ttf(configured)
        if found is None:
            logger.warning("The configured PDF font %s cannot be used.", configured)
        return found
    for path in candidates:
        found = _register_ttf(path)
        if found is not None:
            return found
    return None


def fonts() -> FontSet:
    """The fonts for the current settings, registered on first use."""
    key = (
        str(getattr(settings, "XUEJI_PDF_FONT", "") or ""),
        str(getattr(settings, "XUEJI_PDF_EXTB_FONT", "") or ""),
    )
    cached = _cache.get(key)
    if cached is not None:
        return cached
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    font_set = FontSet()
    body = _pick(key[0], BODY_FONT_CANDIDATES)
    if body is not None:
        font_set.body, font_set.body_chars = body
    extb = _pick(key[1], EXTB_FONT_CANDIDATES)
    if extb is not None:
        font_set.extb, font_set.extb_chars = extb
    _cache[key] = font_set
    return font_set


def _font_of(char: str, font_set: FontSet) -> str | None:
    """The font that draws this character, or None when no font has it."""
    code_point = ord(char)
    if code_point > 0xFFFF:
        if font_set.extb is not None and code_point in font_set.extb_chars:
            return font_set.extb
        if font_set.body is not None and code_point in font_set.body_chars:
            return font_set.body
        return None
    if font_set.body is not None and code_point in font_set.body_chars:
        return font_set.body
    return CID_FONT


def font_for(text: str) -> list[tuple[str, str]]:
    """Split text into runs of (characters, font name) to draw one after the other.

    A character no font has (outside the basic plane, with no Ext-B font) becomes "□";
    `missing_characters` names them so the paper can say so.
    """
    font_set = fonts()
    runs: list[tuple[str, str]] = []
    for char in text:
        font = _font_of(char, font_set)
        if font is None:
            char, font = MISSING_MARK, font_set.main
        if runs and runs[-1][1] == font:
            runs[-1] = (runs[-1][0] + char, font)
        else:
            runs.append((char, font))
    return runs


def missing_characters(text: str) -> list[str]:
    """The characters of text that will print as "□", each once, in order."""
    font_set = fonts()
    seen: dict[str, None] = {}
    for char in text:
        if _font_of(char, font_set) is None:
            seen.setdefault(char, None)
    return list(seen)


def code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def missing_notice(chars: list[str]) -> str:
    """The visible notice for characters that could not be printed. It names them by code
    point only, so the notice itself always prints."""
    codes = ", ".join(code_point(char) for char in chars)
    return ngettext(
        "This paper has %(count)d rare character that could not be printed: %(codes)s.",
        "This paper has %(count)d rare characters that could not be printed: %(codes)s.",
        len(chars),
    ) % {"count": len(chars), "codes": codes}


def text_width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(run, font, size) for run, font in font_for(text))
