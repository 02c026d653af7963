"""Student photos to the national standard, and the ZIP files they arrive in.

Pure functions over bytes: nothing here touches the database. `process_photo` turns an
upload into the standard photo (a colour JPEG under 60 KB, 26:32, 154 × 189 to 358 × 441
pixels, no metadata) or refuses it with a sentence that names the reason.
`read_photo_zip` opens a batch upload safely and says, per file, why it was refused.
`parse_photo_name` tells whom a file in the batch is for, from its name.

Every input is hostile until proven otherwise: we look at the content, never the file
name or the browser's content type, bound the bytes and pixels before decoding, and
re-encode so nothing of the original file (EXIF with GPS, comments, scripts) survives.
"""

from __future__ import annotations

import colorsys
import io
import re
import stat
import warnings
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from PIL import Image, ImageChops, ImageOps

# The standard: 26 mm × 32 mm at 150 dpi or more; 358 × 441 is the usual electronic size.
ASPECT_WIDTH, ASPECT_HEIGHT = 26, 32
MIN_WIDTH, MIN_HEIGHT = 154, 189
MAX_WIDTH, MAX_HEIGHT = 358, 441
MAX_OUTPUT_BYTES = 60 * 1024

# Phones take 12 to 50 megapixel photos; anything far beyond is a decompression bomb, and
# a 40 megapixel PNG already needs about 160 MB to decode.
MAX_PIXELS = 40_000_000

# Quality steps tried in turn until the JPEG fits; a photo at 358 × 441 almost always
# fits at the first or second step.
JPEG_QUALITIES = (90, 85, 80, 75, 70, 65, 60, 55, 50, 45, 40)

# A pixel counts as coloured when its channels differ by more than this (0-255). JPEG
# noise in a grey photo stays within a few units; skin and a blue background differ by
# tens. A photo with fewer coloured pixels than the share below is black and white.
COLOUR_SPREAD = 16
MIN_COLOURED_SHARE = 0.02

# Light blue in HSV: hue about 180-230° (we allow a little either side), some colour
# (not white or grey) and light. Measured on the top corners, which are background.
BACKGROUND_HUE = (175, 235)
BACKGROUND_MIN_SATURATION = 0.08
BACKGROUND_MIN_VALUE = 0.55
BACKGROUND_MIN_SHARE = 0.5

# A photo or a PNG never compresses 200:1 inside a ZIP; members that do are bombs.
MAX_COMPRESSION_RATIO = 200
# Below this size the ratio says nothing (a tiny file of zeros compresses well) and the
# bytes are bounded anyway.
RATIO_CHECK_FROM_BYTES = 64 * 1024

PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png")
# Files that archivers and file managers add on their own; nobody meant to upload them.
IGNORED_NAMES = {"thumbs.db", "desktop.ini"}

_UTF8_NAME_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


class PhotoRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


@dataclass
class PhotoResult:
    data: bytes
    width: int
    height: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class ZipEntry:
    name: str
    stem: str
    data: bytes | None
    refusal: str | None


@dataclass
class PhotoName:
    kind: str  # "id_number" | "number" | "school_class_name"
    value: str
    school_code: str = ""
    class_name: str = ""
    name: str = ""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


# ---------------------------------------------------------------------------------------
# One photo


def process_photo(data: bytes, *, max_input_bytes: int = 10 * 1024 * 1024) -> PhotoResult:
    """Check an uploaded photo and return it as the standard JPEG, or raise PhotoRefused."""
    if len(data) > max_input_bytes:
        raise PhotoRefused(
            _("The file is %(size)s MB; a photo may be at most %(limit)s MB.")
            % {"size": _megabytes(len(data)), "limit": _megabytes(max_input_bytes)}
        )
    image = _open_image(data)
    width, height = _upright_size(image)
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise PhotoRefused(
            _(
                "The photo is %(width)d × %(height)d pixels; "
                "it must be at least %(min_width)d × %(min_height)d."
            )
            % {"width": width, "height": height, "min_width": MIN_WIDTH, "min_height": MIN_HEIGHT}
        )
    image = _decode(image)
    if _is_black_and_white(image):
        raise PhotoRefused(_("The photo is black and white; the standard requires a colour photo."))

    image = _crop_and_scale(image)
    warnings_found = []
    if not _background_is_light_blue(image):
        warnings_found.append(_("The background does not look light blue; please check the photo."))
    encoded, image = _encode(image)
    return PhotoResult(
        data=encoded, width=image.width, height=image.height, warnings=warnings_found
    )


def _open_image(data: bytes) -> Image.Image:
    """Identify the content (only JPEG and PNG) and read the header, not the pixels."""
    not_an_image = _("The file is not a JPEG or PNG image.")
    # Pillow warns between its own limit and twice that, and raises beyond; both are bombs.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=["JPEG", "PNG"])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRefused(_too_large_message()) from None
        # Pillow raises many kinds of errors on hostile headers; all mean "not an image".
        except Exception:
            raise PhotoRefused(not_an_image) from None
    # A camera's JPEG may be an MPO (several pictures); its first picture is the photo.
    if image.format not in ("JPEG", "MPO", "PNG"):
        raise PhotoRefused(not_an_image)
    if image.width * image.height > MAX_PIXELS:
        raise PhotoRefused(_too_large_message(image.width, image.height))
    return image


def _too_large_message(width: int | None = None, height: int | None = None) -> str:
    limit = MAX_PIXELS // 1_000_000
    if width is None or height is None:
        return _("The image is too large to process; the limit is %(limit)d megapixels.") % {
            "limit": limit
        }
    return _(
        "The image is %(width)d × %(height)d pixels, too large to process; "
        "the limit is %(limit)d megapixels."
    ) % {"width": width, "height": height, "limit": limit}


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:
        # A broken EXIF block only loses the rotation; the pixels are still the photo.
        return 1


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """The size as the photo will stand once its EXIF orientation is applied."""
    if _orientation(image) in (5, 6, 7, 8):
        return image.height, image.width
    return image.width, image.height


def _decode(image: Image.Image) -> Image.Image:
    """Decode the pixels, stand the photo upright and return it as RGB."""
    # A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size for almost nothing; asking for
    # at least the largest output side on both axes keeps enough pixels for any crop.
    if image.format in ("JPEG", "MPO"):
        longest = max(MAX_WIDTH, MAX_HEIGHT)
        try:
            image.draft("RGB", (longest, longest))
        except Exception:
            pass
    try:
        image.load()
    except Exception:
        raise PhotoRefused(_("The image file is damaged or incomplete.")) from None
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:
        upright = image
    if upright is not None:
        image = upright
    if image.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        raise PhotoRefused(_("The photo is black and white; the standard requires a colour photo."))
    try:
        return _to_rgb(image)
    except Exception:
        raise PhotoRefused(_("The image file is damaged or incomplete.")) from None


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB without transparency: transparent parts become white, as on paper."""
    if image.mode == "RGB":
        return image
    has_alpha = image.mode in ("RGBA", "RGBa", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def _is_black_and_white(image: Image.Image) -> bool:
    """True when almost no pixel has channels that differ: a grey photo saved as colour."""
    sample = image.copy()
    sample.thumbnail((200, 200))
    red, green, blue = sample.split()
    spread = ImageChops.lighter(
        ImageChops.lighter(ImageChops.difference(red, green), ImageChops.difference(green, blue)),
        ImageChops.difference(red, blue),
    )
    histogram = spread.histogram()
    coloured = sum(histogram[COLOUR_SPREAD + 1 :])
    return coloured < MIN_COLOURED_SHARE * sample.width * sample.height


def _crop_box(width: int, height: int) -> tuple[float, float, float, float]:
    """The central 26:32 part of a width × height image, in exact (fractional) pixels."""
    if width * ASPECT_HEIGHT > height * ASPECT_WIDTH:
        new_width = height * ASPECT_WIDTH / ASPECT_HEIGHT
        left = (width - new_width) / 2
        return left, 0, left + new_width, height
    new_height = width * ASPECT_HEIGHT / ASPECT_WIDTH
    top = (height - new_height) / 2
    return 0, top, width, top + new_height


def _crop_and_scale(image: Image.Image) -> Image.Image:
    """Crop to 26:32 around the centre and scale down (never up) to fit 358 × 441."""
    left, top, right, bottom = _crop_box(image.width, image.height)
    if right - left > MAX_WIDTH:
        # Resampling from the exact box keeps the ratio exact; 358 × 441 is the standard's
        # own rounding of 26:32.
        return image.resize(
            (MAX_WIDTH, MAX_HEIGHT), Image.Resampling.LANCZOS, box=(left, top, right, bottom)
        )
    # Small enough already: cut whole pixels, with no resampling at all. Rounding the size
    # (not the edges) keeps a 154 × 189 crop from losing a pixel.
    width = min(image.width, round(right - left))
    height = min(image.height, round(bottom - top))
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def _looks_light_blue(pixel: tuple[int, int, int]) -> bool:
    hue, saturation, value = colorsys.rgb_to_hsv(*(channel / 255 for channel in pixel))
    return (
        BACKGROUND_HUE[0] <= hue * 360 <= BACKGROUND_HUE[1]
        and saturation >= BACKGROUND_MIN_SATURATION
        and value >= BACKGROUND_MIN_VALUE
    )


def _background_is_light_blue(image: Image.Image) -> bool:
    """Judge the top corners, where a standard photo shows only background.

    Counting pixels rather than averaging tolerates a little hair or shoulder reaching
    into a corner."""
    corner_width = max(1, image.width // 5)
    corner_height = max(1, image.height // 8)
    pixels: list[tuple[int, int, int]] = []
    for left in (0, image.width - corner_width):
        corner = image.crop((left, 0, left + corner_width, corner_height))
        corner.thumbnail((24, 24))
        raw = corner.tobytes()
        pixels.extend((raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3))
    light_blue = sum(1 for pixel in pixels if _looks_light_blue(pixel))
    return light_blue >= BACKGROUND_MIN_SHARE * len(pixels)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # Baseline (not progressive) for older readers; optimize only tunes the Huffman tables.
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=False, exif=b"")
    return buffer.getvalue()


def _encode(image: Image.Image) -> tuple[bytes, Image.Image]:
    """Encode under 60 KB: lower the quality step by step, then, as a last resort, the size."""
    # A fresh image carries no EXIF, ICC profile, comment or any other metadata.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    while True:
        for quality in JPEG_QUALITIES:
            encoded = _jpeg(clean, quality)
            if len(encoded) <= MAX_OUTPUT_BYTES:
                return encoded, clean
        if clean.width <= MIN_WIDTH or clean.height <= MIN_HEIGHT:
            break
        width = max(MIN_WIDTH, round(clean.width * 0.85))
        height = max(MIN_HEIGHT, round(width * ASPECT_HEIGHT / ASPECT_WIDTH))
        clean = clean.resize((width, height), Image.Resampling.LANCZOS)
    raise PhotoRefused(
        _("The photo cannot be made smaller than 60 KB; please upload a plainer photo.")
    )


# ---------------------------------------------------------------------------------------
# A batch of photos in a ZIP


def read_photo_zip(
    data: bytes,
    *,
    max_members: int = 5000,
    max_member_bytes: int = 2 * 1024 * 1024,
    max_total_bytes: int = 500 * 1024 * 1024,
) -> list[ZipEntry]:
    """Read the photos in a ZIP: one entry per file, with its bytes or the reason it was
    refused. Raise PhotoRefused when the archive as a whole cannot be trusted."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception:
        raise PhotoRefused(_("The file is not a ZIP archive.")) from None

    if len(members) > max_members:
        raise PhotoRefused(
            _("The archive holds %(count)d files; at most %(limit)d are allowed.")
            % {"count": len(members), "limit": max_members}
        )
    # The sizes below are the archive's own claims; zipfile stops reading a member at its
    # claimed size, so the claims bound what we unpack.
    total = sum(member.file_size for member in members)
    if total > max_total_bytes:
        raise PhotoRefused(
            _("The archive unpacks to %(size)s MB; at most %(limit)s MB are allowed.")
            % {"size": _megabytes(total), "limit": _megabytes(max_total_bytes)}
        )
    for member in members:
        if (
            member.file_size >= RATIO_CHECK_FROM_BYTES
            and member.file_size > MAX_COMPRESSION_RATIO * max(1, member.compress_size)
        ):
            raise PhotoRefused(
                _("The archive is compressed suspiciously well; it does not hold photos.")
            )

    entries = []
    with archive:
        for member in members:
            if member.is_dir():
                continue
            name = _member_name(member)
            if _is_unsafe_path(name):
                outside = _("The file name points outside the archive's folder.")
                entries.append(ZipEntry(name=name, stem=_stem(name), data=None, refusal=outside))
                continue
            if _is_ignored(name):
                continue
            refusal, content = _read_member(archive, member, name, max_member_bytes)
            entries.append(ZipEntry(name=name, stem=_stem(name), data=content, refusal=refusal))
    return entries


def _member_name(member: zipfile.ZipInfo) -> str:
    """The name as the person who made the ZIP sees it.

    Without the UTF-8 flag, zipfile reads names as cp437; ZIPs made on Chinese Windows
    write them in GBK, and some tools write UTF-8 without setting the flag."""
    name = member.filename
    if member.flag_bits & _UTF8_NAME_FLAG:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for encoding in ("utf-8", "gbk"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return name


def _base_name(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[-1]


def _stem(name: str) -> str:
    base = _base_name(name)
    stem, dot, _extension = base.rpartition(".")
    return stem if dot and stem else base


def _is_unsafe_path(name: str) -> bool:
    return (
        "\\" in name
        or name.startswith("/")
        or re.match(r"[A-Za-z]:", name) is not None
        or ".." in name.split("/")
    )


def _is_ignored(name: str) -> bool:
    parts = name.split("/")
    if any(part == "__MACOSX" for part in parts):
        return True
    base = parts[-1]
    return base.startswith(".") or base.lower() in IGNORED_NAMES


def _read_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str, max_member_bytes: int
) -> tuple[str | None, bytes | None]:
    """Return (refusal, None) or (None, the member's bytes)."""
    if stat.S_ISLNK(member.external_attr >> 16):
        return _("The file is a symbolic link, not a photo."), None
    if member.flag_bits & _ENCRYPTED_FLAG:
        return _("The file is encrypted; please pack the photos without a password."), None
    if not _base_name(name).lower().endswith(PHOTO_EXTENSIONS):
        return _("Only .jpg, .jpeg and .png files are accepted."), None
    too_large = _("The file is larger than %(limit)s MB.") % {"limit": _megabytes(max_member_bytes)}
    if member.file_size > max_member_bytes:
        return too_large, None
    try:
        with archive.open(member) as stream:
            content = stream.read(max_member_bytes + 1)
    except Exception:
        # A bad checksum, an unknown compression method, a broken header.
        return _("The file is damaged inside the archive."), None
    if len(content) > max_member_bytes:
        return too_large, None
    return None, content


# ---------------------------------------------------------------------------------------
# Whom a photo is for


_ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")
# The provincial number: 13 digits for primary, 11 for junior high. The national
# lifelong number: G + ID number, L + 18 digits, J + 17 digits + check.
_NUMBER = re.compile(r"[0-9]{13}|[0-9]{11}|[GgLlJj][0-9]{17}[0-9Xx]")
_SCHOOL_CLASS_NAME = re.compile(r"([0-9]{10})_([^_]+)_([^_]+)")


def parse_photo_name(stem: str) -> PhotoName | None:
    """Read a photo's file name (without extension): `<ID number>`, `<student number>` or
    `<10-digit school code>_<class>_<name>`. None when it is none of these."""
    stem = stem.strip()
    if _ID_NUMBER.fullmatch(stem):
        return PhotoName(kind="id_number", value=stem.upper())
    if _NUMBER.fullmatch(stem):
        return PhotoName(kind="number", value=stem.upper())
    match = _SCHOOL_CLASS_NAME.fullmatch(stem)
    if match:
        school_code, class_name, name = (part.strip() for part in match.groups())
        if class_name and name:
            return PhotoName(
                kind="school_class_name",
                value=f"{school_code}_{class_name}_{name}",
                school_code=school_code,
                class_name=class_name,
                name=name,
            )
    return None
