"""N4 and B4: the bureau's photo sheet of a class, read back from the PDF and verified."""

import io

import pytest
from django.utils import translation
from django.utils.translation import gettext
from PIL import Image
from pypdf import PdfReader

from tests.students.conftest import TODAY, raw_student
from xueji.intake import services
from xueji.intake.photo_sheet import SheetTarget, photo_sheet_facts
from xueji.orgs import services as org_services
from xueji.reports.models import IssuedPaper
from xueji.reports.verify import check_paper
from xueji.students.photo_services import do_set_photo
from xueji.students.validation import validate_student


def light_blue_jpeg(shade: int = 0) -> bytes:
    """A 358 × 441 light-blue photo; `shade` tells two pupils' photos apart."""
    image = Image.new("RGB", (358, 441), (170 + shade, 205 + shade, 235))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def numbered_pupils(cast, school_year, pupils: list[tuple[str, int | None]]):
    """Enter, review and number pupils of A1, each (name, photo shade or None)."""
    entries = []
    for sequence, (name, _shade) in enumerate(pupils, start=1):
        values = validate_student(raw_student(name=name, sequence=sequence), today=TODAY).values
        entries.append(
            services.do_enter_pupil(
                values, actor=cast.a1_registrar, school=cast.school_a1, school_year=school_year
            )
        )
    services.do_send_for_review(entries, actor=cast.a1_registrar)
    services.do_review(entries, actor=cast.central_a_registrar, admit=True)
    for entry, (_name, shade) in zip(entries, pupils, strict=True):
        if shade is not None:
            do_set_photo(
                entry.record.student, light_blue_jpeg(shade), actor=cast.central_a_registrar
            )
    services.do_number(entries, actor=cast.central_a_registrar)
    for entry in entries:
        entry.record.refresh_from_db()
    return entries


@pytest.fixture
def two_pupils(cast, school_year):
    return numbered_pupils(cast, school_year, [("张小明", 0), ("王小红", 6)])


def sheet_url(school, query: str = "class_name=1&grade=1") -> str:
    return f"/intake/photo-sheet/{school.pk}/?{query}"


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def latest_sheet() -> IssuedPaper:
    return IssuedPaper.objects.filter(kind=IssuedPaper.Kind.PHOTO_SHEET).latest("pk")


def test_the_bureaus_sheet_shows_each_pupils_name_number_and_photo(cast, client_for, two_pupils):
    response = client_for(cast.bureau_registrar).get(sheet_url(cast.school_a1))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    pdf = response.content
    text = text_of(pdf)
    for entry in two_pupils:
        assert entry.record.student.name in text
        assert entry.record.provincial_number in text
    assert zh("Photo sheet") in text and cast.school_a1.name in text
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 1
    assert len(pages[0].images) == 2
    assert zh("No photo") not in text


def test_the_paper_verifies_and_turns_changed_when_a_photo_is_replaced(
    cast, client_for, two_pupils
):
    client_for(cast.bureau_registrar).get(sheet_url(cast.school_a1))
    paper = latest_sheet()
    assert paper.unit == cast.school_a1
    assert [pupil["name"] for pupil in paper.facts["pupils"]] == ["张小明", "王小红"]
    assert check_paper(paper.code).state == "valid"
    do_set_photo(two_pupils[0].record.student, light_blue_jpeg(12), actor=cast.central_a_registrar)
    verdict = check_paper(paper.code)
    assert verdict.state == "changed"
    assert set(verdict.differences) == {"pupils"}


def test_a_changed_number_also_makes_the_paper_changed(cast, client_for, two_pupils):
    client_for(cast.bureau_registrar).get(sheet_url(cast.school_a1))
    paper = latest_sheet()
    record = two_pupils[1].record
    type(record).objects.filter(pk=record.pk).update(provincial_number="9999999999999")
    assert check_paper(paper.code).state == "changed"


def test_a_pupil_without_a_photo_shows_the_placeholder(cast, client_for, school_year):
    numbered_pupils(cast, school_year, [("张小明", 0), ("李无照", None)])
    response = client_for(cast.bureau_registrar).get(sheet_url(cast.school_a1))
    text = text_of(response.content)
    assert "李无照" in text and zh("No photo") in text
    assert len(PdfReader(io.BytesIO(response.content)).pages[0].images) == 1


def test_pupils_not_yet_numbered_and_other_classes_are_left_out(
    cast, client_for, school_year, two_pupils
):
    values = validate_student(raw_student(name="赵未编", sequence=7), today=TODAY).values
    services.do_enter_pupil(
        values, actor=cast.a1_registrar, school=cast.school_a1, school_year=school_year
    )
    client = client_for(cast.bureau_registrar)
    text = text_of(client.get(sheet_url(cast.school_a1)).content)
    assert "赵未编" not in text
    other = text_of(client.get(sheet_url(cast.school_a1, "class_name=2&grade=1")).content)
    assert "张小明" not in other


def test_the_whole_school_prints_in_one_pdf_with_a_heading_per_class(cast, client_for, two_pupils):
    response = client_for(cast.bureau_registrar).get(sheet_url(cast.school_a1, "all=1"))
    assert response.status_code == 200
    text = text_of(response.content)
    assert "张小明" in text and "王小红" in text
    with translation.override("zh-hans"):
        heading = gettext("Grade %(grade)s, class %(class)s") % {"grade": 1, "class": "1"}
    assert heading in text
    paper = latest_sheet()
    assert paper.target_id == SheetTarget(cast.school_a1.pk, 2026, None, "").pk
    assert photo_sheet_facts(paper.target_id) == paper.facts


def test_a_school_registrar_and_a_central_school_are_refused(cast, client_for, two_pupils):
    for user in (cast.a1_registrar, cast.central_a_registrar):
        response = client_for(user).get(sheet_url(cast.school_a1))
        assert response.status_code == 403, user


def test_a_school_outside_the_bureaus_county_is_not_found(cast, client_for, school_year):
    _county, bureau = org_services.do_create_county(
        actor=None, division_code="370830", name="汶上县", bureau_name="汶上县教育局"
    )
    township = org_services.do_create_township(
        actor=None, bureau=bureau, name="南站镇", division_code="370830101", ordinal=1
    )
    elsewhere = org_services.do_create_school(
        actor=None,
        township=township,
        name="南站镇小学",
        school_code="3708300101",
        ordinal=1,
        stage="primary",
    )
    client = client_for(cast.bureau_registrar)
    assert client.get(sheet_url(elsewhere)).status_code == 404
    assert client.get(sheet_url(cast.township_a)).status_code == 404


def test_without_a_class_the_bureau_is_sent_back_with_the_reason(cast, client_for, two_pupils):
    response = client_for(cast.bureau_registrar).get(sheet_url(cast.school_a1, ""))
    assert response.status_code == 302
    assert not IssuedPaper.objects.filter(kind=IssuedPaper.Kind.PHOTO_SHEET).exists()
