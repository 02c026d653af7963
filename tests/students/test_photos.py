"""Photos to the national standard, and ZIP batches of them (pure: no database)."""

import io
import stat
import struct
import time
import zipfile
import zlib

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from xueji.students.photos import (
    MAX_HEIGHT,
    MAX_OUTPUT_BYTES,
    MAX_WIDTH,
    MIN_HEIGHT,
    MIN_WIDTH,
    PhotoName,
    PhotoRefused,
    parse_photo_name,
    process_photo,
    read_photo_zip,
)

LIGHT_BLUE = (160, 200, 240)
RED = (200, 30, 40)
BACKGROUND_WARNING = "The background does not look light blue; please check the photo."


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted as their English msgids, whatever the catalogue says.
    with translation.override("en"):
        yield


def portrait(width=600, height=800, background=LIGHT_BLUE, noise=True) -> Image.Image:
    """A light-blue photo with a head and shoulders, with some grain like a real camera's."""
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.1, height * 0.75, width * 0.9, height * 1.3), fill=(40, 50, 90))
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.7), fill=(205, 160, 130))
    draw.chord((width * 0.3, height * 0.13, width * 0.7, height * 0.5), 180, 360, fill=(30, 25, 20))
    if noise:
        grain = Image.effect_noise((width, height), 40).convert("RGB")
        image = Image.blend(image, grain, 0.12)
    return image


def encode(image: Image.Image, format="JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height pixels but holds one row of data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x80" * (3 * width))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def refusal(data: bytes) -> str:
    with pytest.raises(PhotoRefused) as caught:
        process_photo(data)
    return caught.value.message


# ---------------------------------------------------------------------------------------
# process_photo


def test_it_makes_a_standard_jpeg_from_a_large_photo():
    result = process_photo(encode(portrait(1200, 1600), quality=95))

    assert result.data[:3] == b"\xff\xd8\xff"
    assert len(result.data) <= MAX_OUTPUT_BYTES == 60 * 1024
    image = reopen(result.data)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert (image.width, image.height) == (result.width, result.height) == (358, 441)
    assert abs(image.width * 32 / 26 - image.height) <= 1
    assert "progressive" not in image.info
    assert result.warnings == []


def test_it_crops_a_wide_photo_to_26_by_32_around_the_centre():
    result = process_photo(encode(portrait(1000, 700)))

    assert result.height <= 441 and result.width <= 358
    assert abs(result.width * 32 / 26 - result.height) <= 1
    assert result.width >= 154 and result.height >= 189


def test_it_never_scales_a_small_photo_up():
    result = process_photo(encode(portrait(200, 260)))

    assert (result.width, result.height) == (200, 246)
    assert abs(result.width * 32 / 26 - result.height) <= 1


def test_it_accepts_the_smallest_allowed_photo():
    result = process_photo(encode(portrait(154, 189)))

    assert (result.width, result.height) == (154, 189)


def test_it_accepts_a_png_with_transparency():
    image = portrait(400, 500).convert("RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))

    result = process_photo(encode(image, "PNG"))

    assert reopen(result.data).format == "JPEG"
    assert (result.width, result.height) == (358, 441)


def test_it_strips_exif_icc_and_comments():
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPS latitude
    data = encode(
        portrait(),
        exif=exif.tobytes(),
        icc_profile=b"SecretIccProfile" * 10,
        comment=b"SecretComment",
    )
    assert b"SecretCameraMaker" in data and b"SecretComment" in data

    result = process_photo(data)

    image = reopen(result.data)
    assert dict(image.getexif()) == {}
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)
    for secret in (b"Exif", b"SecretCameraMaker", b"SecretIccProfile", b"SecretComment"):
        assert secret not in result.data


def test_it_stands_the_photo_upright_by_its_exif_orientation():
    # Stored on its side: the top half red, the bottom half blue. Orientation 6 means
    # "turn 90° clockwise to view", so the red half ends up on the right.
    stored = Image.new("RGB", (800, 600), (40, 40, 220))
    ImageDraw.Draw(stored).rectangle((0, 0, 800, 300), fill=(220, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6

    result = process_photo(encode(stored, exif=exif.tobytes()))

    image = reopen(result.data)
    left = image.getpixel((10, image.height // 2))
    right = image.getpixel((image.width - 10, image.height // 2))
    assert left[2] > 150 and left[0] < 100
    assert right[0] > 150 and right[2] < 100
    assert 0x0112 not in image.getexif()


def test_the_size_check_uses_the_upright_size():
    exif = Image.Exif()
    exif[0x0112] = 6

    result = process_photo(encode(portrait(200, 160), exif=exif.tobytes()))

    assert result.width >= 154 and result.height >= 189


@settings(max_examples=60, deadline=None)
@given(st.integers(154, 1500), st.integers(189, 1500))
def test_every_allowed_size_comes_out_at_26_by_32_within_the_limits(width, height):
    result = process_photo(encode(Image.new("RGB", (width, height), LIGHT_BLUE), quality=50))

    assert MIN_WIDTH <= result.width <= MAX_WIDTH
    assert MIN_HEIGHT <= result.height <= MAX_HEIGHT
    assert abs(result.width * 32 / 26 - result.height) <= 1


def test_it_refuses_a_photo_that_is_too_small():
    assert refusal(encode(portrait(120, 150))) == (
        "The photo is 120 × 150 pixels; it must be at least 154 × 189."
    )


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="500"></svg>',
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF",
        b"",
        b"\xff\xd8\xff",
    ],
    ids=["html", "svg", "pdf", "empty", "jpeg-magic-only"],
)
def test_it_refuses_what_is_not_an_image(data):
    assert refusal(data) == "The file is not a JPEG or PNG image."


@pytest.mark.parametrize("format", ["GIF", "BMP", "WEBP", "TIFF"])
def test_it_refuses_other_image_formats(format):
    assert refusal(encode(portrait(), format)) == "The file is not a JPEG or PNG image."


def test_it_refuses_a_truncated_jpeg():
    data = encode(portrait(), quality=95)

    assert refusal(data[: len(data) // 2]) == "The image file is damaged or incomplete."


def test_it_refuses_a_black_and_white_photo():
    grey = portrait().convert("L")
    expected = "The photo is black and white; the standard requires a colour photo."

    assert refusal(encode(grey)) == expected
    # The same grey picture saved as a colour JPEG is still black and white.
    assert refusal(encode(grey.convert("RGB"))) == expected


def test_it_warns_about_a_red_background_but_keeps_the_photo():
    result = process_photo(encode(portrait(background=RED)))

    assert result.warnings == [BACKGROUND_WARNING]
    assert len(result.data) <= MAX_OUTPUT_BYTES


@pytest.mark.parametrize("background", [(255, 255, 255), (67, 142, 219), (200, 225, 245)])
def test_it_judges_the_background_by_colour(background):
    result = process_photo(encode(portrait(background=background)))

    expected = [BACKGROUND_WARNING] if background == (255, 255, 255) else []
    assert result.warnings == expected


def test_it_refuses_a_decompression_bomb_quickly():
    started = time.monotonic()

    assert refusal(png_claiming(30000, 30000)) == (
        "The image is too large to process; the limit is 40 megapixels."
    )
    # Below Pillow's own limit but above ours.
    assert refusal(png_claiming(7000, 7000)) == (
        "The image is 7000 × 7000 pixels, too large to process; the limit is 40 megapixels."
    )
    assert time.monotonic() - started < 1


def test_it_refuses_a_file_over_the_byte_limit_before_decoding():
    data = encode(portrait())

    with pytest.raises(PhotoRefused) as caught:
        process_photo(data, max_input_bytes=len(data) - 1)
    assert "a photo may be at most" in caught.value.message


def test_a_grainy_photo_is_squeezed_under_60_kb():
    noise = Image.merge("RGB", [Image.effect_noise((358, 441), 120) for _ in range(3)])

    result = process_photo(encode(noise, quality=100))

    assert len(result.data) <= MAX_OUTPUT_BYTES
    assert result.width >= 154 and result.height >= 189
    assert abs(result.width * 32 / 26 - result.height) <= 1


# ---------------------------------------------------------------------------------------
# read_photo_zip


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def patch_flags(data: bytes, name: bytes, flag: int) -> bytes:
    """Set a general-purpose flag on a member, in both its local and central headers."""
    patched = bytearray(data)
    for signature, offset_of_flags, offset_of_name in (
        (b"PK\x03\x04", 6, 30),
        (b"PK\x01\x02", 8, 46),
    ):
        start = patched.find(signature)
        while start != -1:
            if patched[start + offset_of_name :].startswith(name):
                (flags,) = struct.unpack_from("<H", patched, start + offset_of_flags)
                struct.pack_into("<H", patched, start + offset_of_flags, flags | flag)
            start = patched.find(signature, start + 1)
    return bytes(patched)


@pytest.fixture(scope="module")
def photo() -> bytes:
    return encode(portrait(300, 400))


def by_name(entries):
    return {entry.name: entry for entry in entries}


def test_it_reads_good_photos_and_refuses_bad_members_each_with_its_reason(photo):
    data = make_zip(
        {
            "110105194912310021.jpg": photo,
            "一年级1班/G440524188001010014.PNG": photo,
            "../../etc/evil.jpg": photo,
            "/absolute.jpg": photo,
            "C:/windows.jpg": photo,
            "back\\slash.jpg": photo,
            "notes.txt": b"hello",
            "script.jpg.exe": b"MZ",
            "__MACOSX/._110105194912310021.jpg": b"junk",
            ".DS_Store": b"junk",
            "Thumbs.db": b"junk",
            "folder/": b"",
        }
    )

    entries = by_name(read_photo_zip(data))

    assert set(entries) == {
        "110105194912310021.jpg",
        "一年级1班/G440524188001010014.PNG",
        "../../etc/evil.jpg",
        "/absolute.jpg",
        "C:/windows.jpg",
        "back\\slash.jpg",
        "notes.txt",
        "script.jpg.exe",
    }
    good = entries["一年级1班/G440524188001010014.PNG"]
    assert (good.stem, good.data, good.refusal) == ("G440524188001010014", photo, None)
    assert entries["110105194912310021.jpg"].stem == "110105194912310021"
    assert entries["110105194912310021.jpg"].data == photo
    for name in ("../../etc/evil.jpg", "/absolute.jpg", "C:/windows.jpg", "back\\slash.jpg"):
        assert entries[name].data is None
        assert entries[name].refusal == "The file name points outside the archive's folder."
    for name in ("notes.txt", "script.jpg.exe"):
        assert entries[name].data is None
        assert entries[name].refusal == "Only .jpg, .jpeg and .png files are accepted."


def test_it_refuses_a_symbolic_link(photo):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("110105194912310021.jpg")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("440524188001010014.jpg", photo)

    entries = by_name(read_photo_zip(buffer.getvalue()))

    assert entries["110105194912310021.jpg"].data is None
    assert entries["110105194912310021.jpg"].refusal == "The file is a symbolic link, not a photo."
    assert entries["440524188001010014.jpg"].data == photo


def test_it_refuses_an_encrypted_member(photo):
    data = make_zip({"110105194912310021.jpg": photo, "440524188001010014.jpg": photo})
    data = patch_flags(data, b"110105194912310021.jpg", 0x1)

    entries = by_name(read_photo_zip(data))

    assert entries["110105194912310021.jpg"].refusal == (
        "The file is encrypted; please pack the photos without a password."
    )
    assert entries["440524188001010014.jpg"].data == photo


def test_it_refuses_an_oversized_member(photo):
    big = photo + bytes(1024 * 1024)
    data = make_zip({"big.jpg": big, "small.jpg": photo}, zipfile.ZIP_STORED)

    entries = by_name(read_photo_zip(data, max_member_bytes=1024 * 1024))

    assert entries["big.jpg"].data is None
    assert entries["big.jpg"].refusal == "The file is larger than 1 MB."
    assert entries["small.jpg"].data == photo


def test_it_refuses_a_damaged_member(photo):
    data = bytearray(make_zip({"photo.jpg": photo}, zipfile.ZIP_STORED))
    at = bytes(data).find(photo[100:120])
    data[at] ^= 0xFF

    [entry] = read_photo_zip(bytes(data))

    assert entry.refusal == "The file is damaged inside the archive."


def test_it_reads_gbk_names_from_chinese_windows(photo):
    gbk_name = "3708280001_一年级1班_张三.jpg".encode("gbk")
    placeholder = b"x" * (len(gbk_name) - 4) + b".jpg"
    data = make_zip({placeholder.decode(): photo})
    data = data.replace(placeholder, gbk_name)
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].flag_bits & 0x800 == 0

    [entry] = read_photo_zip(data)

    assert entry.name == "3708280001_一年级1班_张三.jpg"
    assert entry.stem == "3708280001_一年级1班_张三"
    assert entry.data == photo
    assert parse_photo_name(entry.stem) == PhotoName(
        kind="school_class_name",
        value="3708280001_一年级1班_张三",
        school_code="3708280001",
        class_name="一年级1班",
        name="张三",
    )


def test_it_reads_utf8_names(photo):
    [entry] = read_photo_zip(make_zip({"照片/李四.jpg": photo}))

    assert (entry.name, entry.stem) == ("照片/李四.jpg", "李四")


def test_it_refuses_what_is_not_a_zip():
    with pytest.raises(PhotoRefused) as caught:
        read_photo_zip(b"PK\x03\x04 but not really a zip")
    assert caught.value.message == "The file is not a ZIP archive."


def test_it_refuses_a_zip_bomb_by_its_compression_ratio():
    data = make_zip({"110105194912310021.jpg": bytes(20 * 1024 * 1024)})
    assert len(data) < 100 * 1024

    with pytest.raises(PhotoRefused) as caught:
        read_photo_zip(data)
    assert caught.value.message == (
        "The archive is compressed suspiciously well; it does not hold photos."
    )


def test_it_refuses_a_zip_bomb_by_its_declared_total():
    # Each member is small enough to pass the ratio check; together they are too much.
    data = make_zip({f"{index:018d}.jpg": bytes(60 * 1024) for index in range(100)})

    with pytest.raises(PhotoRefused) as caught:
        read_photo_zip(data, max_total_bytes=5 * 1024 * 1024)
    assert caught.value.message == "The archive unpacks to 5.9 MB; at most 5 MB are allowed."


def test_it_refuses_a_zip_with_too_many_files():
    data = make_zip({f"{index}.jpg": b"x" for index in range(11)})

    with pytest.raises(PhotoRefused) as caught:
        read_photo_zip(data, max_members=10)
    assert caught.value.message == "The archive holds 11 files; at most 10 are allowed."


# ---------------------------------------------------------------------------------------
# parse_photo_name


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("11010519491231002X", PhotoName(kind="id_number", value="11010519491231002X")),
        ("11010519491231002x", PhotoName(kind="id_number", value="11010519491231002X")),
        (" 440524188001010014 ", PhotoName(kind="id_number", value="440524188001010014")),
        ("1232801010001", PhotoName(kind="number", value="1232801010001")),
        ("22328010001", PhotoName(kind="number", value="22328010001")),
        ("G11010519491231002X", PhotoName(kind="number", value="G11010519491231002X")),
        ("l370828201501011234", PhotoName(kind="number", value="L370828201501011234")),
        ("J370828201501010017", PhotoName(kind="number", value="J370828201501010017")),
        (
            "3708280001_3_王小明",
            PhotoName(
                kind="school_class_name",
                value="3708280001_3_王小明",
                school_code="3708280001",
                class_name="3",
                name="王小明",
            ),
        ),
    ],
)
def test_it_reads_whom_a_photo_is_for_from_its_name(stem, expected):
    assert parse_photo_name(stem) == expected


@pytest.mark.parametrize(
    "stem",
    [
        "",
        "photo",
        "1101051949123100",  # 16 digits
        "11010519491231002Y",
        "LG1101051949123100",
        "110105194912310021 (1)",
        "123456789_3_王小明",  # 9-digit school code
        "3708280001__王小明",
        "3708280001_3_",
        "3708280001_3_王_小明",
        "１１０１０５１９４９１２３１００２１",  # full-width digits
    ],
)
def test_it_reads_nothing_from_other_names(stem):
    assert parse_photo_name(stem) is None


@given(st.text())
def test_parse_photo_name_never_raises(stem):
    result = parse_photo_name(stem)
    assert result is None or isinstance(result, PhotoName)


# ---------------------------------------------------------------------------------------
# Hostile bytes

SMALL_JPEG = encode(portrait(160, 200, noise=False), quality=70)
SMALL_PNG = encode(portrait(160, 200, noise=False), "PNG")


@st.composite
def damaged_images(draw):
    data = bytearray(draw(st.sampled_from([SMALL_JPEG, SMALL_PNG])))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cut = draw(st.integers(len(data) // 4, len(data)))
    return bytes(data[:cut])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2048), damaged_images()))
def test_process_photo_refuses_hostile_bytes_with_nothing_but_photo_refused(data):
    try:
        result = process_photo(data)
    except PhotoRefused as refused:
        assert refused.message
    else:
        assert len(result.data) <= MAX_OUTPUT_BYTES


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_read_photo_zip_refuses_hostile_bytes_with_nothing_but_photo_refused(data):
    try:
        read_photo_zip(data)
    except PhotoRefused as refused:
        assert refused.message
