"""The printing foundation: A4 pages, Chinese text with and without an embedded font,
rare characters, and the QR code read back from a rendered page."""

import io
import shutil
import subprocess

import pytest
from django.utils import translation
from pypdf import PdfReader

from xueji.reports import fonts
from xueji.reports.pdf import Document, wrap
from xueji.reports.qr import group_code, verification_url

RARE = "\U0002020c"  # 𠈌, CJK Extension B
NOWHERE = "/nonexistent/font.ttf"


def sample_document(code: str | None = None, name: str = "张小明") -> bytes:
    document = Document("学生异动报表", code=code)
    document.title("学生异动报表", subtitle="金乡县教育局")
    document.grid(
        [
            ("姓名", name),
            ("性别", "男"),
            ("学校", "胡集镇第三小学"),
            ("年级", "三年级"),
            ("家庭住址", "山东省济宁市金乡县胡集镇前进村，村委会东一百米路北第三户", 2),
        ]
    )
    document.table(
        ["材料", "说明", "已核对"],
        [
            ["户口本", "与原件核对一致，户主页及本人页均已复印", "是"],
            ["户口迁移证", "迁入地：羊山镇", "是"],
        ],
        widths=[1, 3, 1],
    )
    document.signatures(["学校", "中心校", "教育局"])
    return document.build()


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in read(pdf).pages)


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in read(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_a_sample_paper_is_one_a4_page_and_its_chinese_text_extracts():
    pdf = sample_document()
    reader = read(pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = text_of(pdf)
    assert "学生异动报表" in text
    assert "胡集镇第三小学" in text
    assert "户口迁移证" in text
    if fonts.fonts().body is not None:
        # An embedded TrueType font is a subset named "ABCDEF+Family".
        assert any("+" in name for name in font_names(pdf))


def test_with_stsong_light_only_the_chinese_text_still_extracts(settings):
    settings.XUEJI_PDF_FONT = NOWHERE
    assert fonts.fonts().body is None
    pdf = sample_document()
    text = text_of(pdf)
    assert "学生异动报表" in text
    assert "胡集镇第三小学" in text
    assert not any("+" in name for name in font_names(pdf) if "STSong" not in name)
    assert any("STSong-Light" in name for name in font_names(pdf))


def test_a_rare_character_prints_from_the_ext_b_font_when_one_exists():
    font_set = fonts.fonts()
    if font_set.extb is None:
        pytest.skip("no font for characters outside the basic plane on this machine")
    assert fonts.font_for(f"张{RARE}明")[1] == (RARE, font_set.extb)
    pdf = sample_document(name=f"张{RARE}明")
    text = text_of(pdf)
    assert RARE in text
    assert "□" not in text and "U+2020C" not in text
    assert any("HanaMin" in name or "SimSun" in name for name in font_names(pdf))


def test_without_an_ext_b_font_a_rare_character_prints_as_a_box_with_a_notice(settings):
    settings.XUEJI_PDF_FONT = NOWHERE
    settings.XUEJI_PDF_EXTB_FONT = NOWHERE
    assert fonts.missing_characters(f"张{RARE}明{RARE}") == [RARE]
    pdf = sample_document(name=f"张{RARE}明")
    text = text_of(pdf)
    assert "张□明" in text
    assert RARE not in text
    assert "U+2020C" in text


def test_chinese_wraps_at_any_character_and_punctuation_never_starts_a_line():
    size = 10
    line = "胡集镇第三小学"
    width = fonts.text_width(line, size) + 1
    assert wrap(line + "三年级二班", width, size) == [line, "三年级二班"]
    lines = wrap(line + "，三年级", width, size)
    assert not lines[1].startswith("，")
    assert "".join(lines) == line + "，三年级"
    assert wrap("G370828201501010012", fonts.text_width("G3708", size), size)[0] == "G3708"


def test_a_long_table_repeats_its_header_on_the_next_page_and_counts_pages():
    with translation.override("en"):
        document = Document("花名册")
        document.title("花名册")
        document.table(["序号", "姓名"], [[str(number), f"学生{number}"] for number in range(50)])
        pdf = document.build()
    reader = read(pdf)
    assert len(reader.pages) == 2
    second = reader.pages[1].extract_text()
    assert "序号" in second and "学生49" in second
    assert "Page 2 of 2" in second
    assert "Page 1 of 2" in reader.pages[0].extract_text()


@pytest.mark.django_db
def test_the_qr_code_decodes_to_the_verification_url_of_the_paper(tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    code = "7KQ2M9XA3P"
    pdf = sample_document(code=code)
    (tmp_path / "paper.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", "paper.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    image = Image.open(tmp_path / "page.png")
    payloads = [result.text for result in zxingcpp.read_barcodes(image)]
    assert payloads == [verification_url(code)]
    assert payloads[0] == f"http://127.0.0.1:8000/verify/{code}/"
    assert group_code(code) in text_of(pdf)
