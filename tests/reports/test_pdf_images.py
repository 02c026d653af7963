"""B4, N4: how photos and the QR code go into a paper. A stored JPEG photo is embedded as
it is (DCTDecode, its own bytes), not decoded and encoded again; a paper's QR code is
drawn once and placed on each page; no stream is ASCII85 text. What a reader sees is
unchanged: the photo reads back with its size and colour, the QR code on every page."""

import io

from PIL import Image
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader

from xueji.reports.pdf import Document
from xueji.reports.qr import verification_url

from .helpers import light_blue_jpeg, qr_payloads


def png_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (154, 189), (160, 200, 240)).save(buffer, "PNG")
    return buffer.getvalue()


def paper_with(photos: list[bytes], *, code: str | None = None, pages: int = 1) -> bytes:
    document = Document("照片表", code=code)
    for page in range(pages):
        if page:
            document.new_page()
        for index, photo in enumerate(photos):
            document.canvas.drawImage(
                ImageReader(io.BytesIO(photo)),
                document.left + index * 30 * mm,
                document.top - 40 * mm,
                width=26 * mm,
                height=32 * mm,
            )
    return document.build()


def image_objects(pdf: bytes) -> list:
    """The image XObjects of the whole file, each once."""
    found = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for item in page["/Resources"].get("/XObject", {}).values():
            image = item.get_object()
            if image["/Subtype"] == "/Image":
                found[item.idnum] = image
    return list(found.values())


def test_a_jpeg_photo_is_embedded_as_its_own_bytes():
    photo = light_blue_jpeg(shade=3)
    [image] = image_objects(paper_with([photo]))
    assert image["/Filter"] in ("/DCTDecode", ["/DCTDecode"])
    assert image.get_data() == photo
    assert (image["/Width"], image["/Height"]) == (358, 441)


def test_the_photo_reads_back_as_the_pupil_s_photo():
    [image] = PdfReader(io.BytesIO(paper_with([light_blue_jpeg()]))).pages[0].images
    pixels = Image.open(io.BytesIO(image.data)).convert("RGB")
    assert pixels.size == (358, 441)
    red, green, blue = pixels.getpixel((10, 10))
    assert abs(red - 170) < 6 and abs(green - 205) < 6 and abs(blue - 235) < 6


def test_one_photo_drawn_twice_is_stored_once_and_two_photos_twice():
    first, second = light_blue_jpeg(shade=1), light_blue_jpeg(shade=9)
    assert len(image_objects(paper_with([first, first]))) == 1
    assert len(image_objects(paper_with([first, second]))) == 2


def test_a_png_photo_is_still_drawn():
    [image] = image_objects(paper_with([png_photo()]))
    assert image["/Filter"] in ("/FlateDecode", ["/FlateDecode"])
    assert (image["/Width"], image["/Height"]) == (154, 189)


def test_no_stream_is_ascii85_text():
    pdf = paper_with([light_blue_jpeg(), png_photo()], code="7KQ2M9XA3P")
    assert b"/ASCII85Decode" not in pdf


def test_the_qr_code_is_drawn_once_and_placed_on_every_page(tmp_path):
    code = "7KQ2M9XA3P"
    pdf = paper_with([light_blue_jpeg()], code=code, pages=3)
    forms = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = page["/Resources"]["/XObject"]
        forms |= {
            item.idnum for item in xobjects.values() if item.get_object()["/Subtype"] == "/Form"
        }
    assert len(forms) == 1
    for number in (1, 3):
        assert qr_payloads(pdf, tmp_path, page=number) == [verification_url(code)]
