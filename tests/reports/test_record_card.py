"""B4: the student record card (学籍卡): every item of the national form unmasked, the
photo embedded, the history; printing it is audited; its QR code verifies it."""

import pytest

from xueji.audit.models import AuditEvent
from xueji.changes import services as change_services
from xueji.changes.models import Kind
from xueji.core.calendar import today
from xueji.reports.models import IssuedPaper
from xueji.reports.papers.record_card import FACT_LABELS
from xueji.reports.verify import check_paper
from xueji.students import services as student_services
from xueji.students.form_items import ITEMS, PHOTO
from xueji.students.photo_services import do_set_photo

from .helpers import (
    latest_paper,
    light_blue_jpeg,
    pages,
    print_events,
    qr_payloads,
    text_of,
    verify_path,
    walk_to_approval,
    zh,
)

KIND = IssuedPaper.Kind.RECORD_CARD


@pytest.fixture
def photographed(cast, pupil):
    do_set_photo(pupil.student, light_blue_jpeg(), actor=cast.central_a_registrar)
    pupil.student.refresh_from_db()
    return pupil


def url(student) -> str:
    return f"/students/{student.pk}/record-card.pdf"


def test_the_card_prints_every_item_unmasked_with_the_photo_on_two_pages(
    cast, client_for, photographed
):
    student = photographed.student
    response = client_for(cast.a1_registrar).get(url(student))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"record-card-{student.pk}.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert len(pages(pdf)) == 2
    assert len(pages(pdf)[0].images) == 1  # the photo; the QR code is drawn, not an image
    text = text_of(pdf)
    # Nothing is masked: the full ID number and addresses, the family's data.
    assert student.id_number in text and "370828*" not in text
    assert "金乡县胡集镇张庄村" in text
    for value in ("张小明", "张建国", "李秀英", "13853712345", "272200", "山东金乡", "202609"):
        assert value in text
    assert photographed.record.provincial_number in text and student.national_number in text
    for section in ("Basic information", "Enrolment", "Family member or guardian 2"):
        assert zh(section) in text
    assert "汉族" in text and "农业户口" in text and "就近入学" in text


def test_the_paper_states_each_of_the_seventy_one_items_and_the_photo(
    cast, client_for, photographed
):
    client_for(cast.a1_registrar).get(url(photographed.student))
    paper = latest_paper(KIND)
    keys = {item.key for item in ITEMS if item.kind != PHOTO}
    assert len(keys) == 71 and keys <= set(paper.facts) and keys <= set(FACT_LABELS)
    assert len(paper.facts["photo_sha256"]) == 64
    assert paper.facts["name"] == "张小明" and paper.facts["ethnicity"] == "汉族"
    assert paper.facts["family2.relation"] == "母亲"
    assert paper.target_type == "students.studentrecord"
    assert paper.target_id == str(photographed.record.pk) and paper.unit == cast.school_a1


def test_printing_is_audited_naming_the_student(cast, client_for, photographed):
    client_for(cast.a1_registrar).get(url(photographed.student))
    event = print_events().get()
    assert event.data["students"] == [photographed.student.pk]
    assert event.data["kind"] == KIND and event.actor == cast.a1_registrar
    assert AuditEvent.objects.filter(
        action="paper.issued", target_id=str(photographed.record.pk)
    ).exists()


def test_a_card_without_a_photo_shows_the_empty_frame(cast, client_for, pupil):
    pdf = client_for(cast.a1_registrar).get(url(pupil.student)).content
    assert len(pages(pdf)[0].images) == 0
    assert zh("No photo") in text_of(pdf)
    assert latest_paper(KIND).facts["photo_sha256"] == ""


def test_the_qr_code_verifies_until_the_photo_or_an_address_changes(
    cast, client_for, photographed, tmp_path
):
    client = client_for(cast.a1_registrar)
    pdf = client.get(url(photographed.student)).content
    paper = latest_paper(KIND)
    for page in (1, 2):
        assert qr_payloads(pdf, tmp_path, page) == [f"http://127.0.0.1:8000/verify/{paper.code}/"]
    verify = client.get(verify_path(qr_payloads(pdf, tmp_path)[0])).content.decode()
    assert 'data-state="valid"' in verify
    do_set_photo(photographed.student, light_blue_jpeg(9), actor=cast.central_a_registrar)
    assert set(check_paper(paper.code).differences) == {"photo_sha256"}
    student_services.do_update_student(
        photographed.student, {"current_address": "金乡县胡集镇李庄村"}, actor=cast.a1_registrar
    )
    verdict = check_paper(paper.code)
    assert verdict.state == "changed"
    assert verdict.differences["current_address"] == ["金乡县胡集镇张庄村", "金乡县胡集镇李庄村"]


def test_after_a_transfer_the_card_shows_both_stays_and_the_approved_change(
    cast, client_for, pupil
):
    request = change_services.do_create_request(
        pupil.record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        # The pupil entered today: the stays are listed by entry date, and a fixed day
        # before it (this test had 2026-11-30) put the new stay first from the day after.
        effective_date=today(),
        to_school=cast.school_b1,
    )
    request = walk_to_approval(cast, request)
    response = client_for(cast.b1_registrar).get(url(pupil.student))
    assert response.status_code == 200
    text = text_of(response.content)
    assert "胡集镇第三小学" in text and "羊山镇第一小学" in text
    assert request.new_record.provincial_number in text and pupil.record.provincial_number in text
    assert "家庭迁居" in text
    paper = latest_paper(KIND)
    # The receiving school prints the card of its own (new) record.
    assert paper.target_id == str(request.new_record.pk) and paper.unit == cast.school_b1
    assert [row["school"] for row in paper.facts["records"]] == ["胡集镇第三小学", "羊山镇第一小学"]
    assert [change["kind"] for change in paper.facts["changes"]] == [Kind.TRANSFER]
    assert len(paper.facts["numbers"]) == 3
    # The old school still prints the card of the stay it kept.
    assert client_for(cast.a1_registrar).get(url(pupil.student)).status_code == 200
    assert latest_paper(KIND).target_id == str(pupil.record.pk)


def test_scope_decides_who_prints_whose_card(cast, client_for, pupil):
    assert client_for(cast.b1_registrar).get(url(pupil.student)).status_code == 404
    assert client_for(cast.c_registrar).get(url(pupil.student)).status_code == 404
    # A leader reads the masked page but may not print the unmasked card.
    assert client_for(cast.a1_leader).get(url(pupil.student)).status_code == 403
    assert not IssuedPaper.objects.exists() and not print_events().exists()
    assert client_for(cast.central_a_registrar).get(url(pupil.student)).status_code == 200
    assert client_for(cast.bureau_registrar).get(url(pupil.student)).status_code == 200
    assert IssuedPaper.objects.filter(kind=KIND, unit=cast.school_a1).count() == 2


def test_the_student_page_offers_the_card_and_the_certificate_to_registrars(
    cast, client_for, pupil
):
    page = client_for(cast.a1_registrar).get(f"/students/{pupil.student.pk}/").content.decode()
    assert 'id="print-record-card"' in page and url(pupil.student) in page
    assert 'id="print-certificate"' in page
    page = client_for(cast.a1_leader).get(f"/students/{pupil.student.pk}/").content.decode()
    assert 'id="print-record-card"' not in page and 'id="print-certificate"' not in page


def test_the_api_answers_the_pdf(cast, client_for, photographed):
    client = client_for(cast.a1_registrar)
    response = client.get(f"/api/v1/students/{photographed.student.pk}/record-card.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert len(pages(response.content)[0].images) == 1
    other = client_for(cast.b1_registrar).get(
        f"/api/v1/students/{photographed.student.pk}/record-card.pdf"
    )
    assert other.status_code == 404
