"""C4 and B4: the transfer certificate with its receipt, printed after the bureau's
approval, read back from the PDF and verified against the live record."""

import pytest

from tests.changes.helpers import DAY
from xueji.changes import services
from xueji.changes.models import Kind
from xueji.reports.models import IssuedPaper
from xueji.reports.verify import check_paper
from xueji.students import services as student_services

from .helpers import (
    latest_paper,
    pages,
    print_events,
    qr_payloads,
    text_of,
    verify_path,
    walk_to_approval,
    zh,
)

KIND = IssuedPaper.Kind.TRANSFER_CERTIFICATE


def start_transfer(cast, pupil):
    return services.do_create_request(
        pupil.record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_b1,
    )


@pytest.fixture
def approved(cast, pupil):
    return walk_to_approval(cast, start_transfer(cast, pupil))


def url(request) -> str:
    return f"/changes/{request.pk}/transfer-certificate.pdf"


def test_the_sending_school_prints_its_copy_the_students_copy_and_the_receipt(
    cast, client_for, approved, pupil
):
    response = client_for(cast.a1_registrar).get(url(approved))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"transfer-certificate-{approved.pk}.pdf" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    pdf = response.content
    assert len(pages(pdf)) == 2
    first, second = (page.extract_text() for page in pages(pdf))
    new_number = approved.new_record.provincial_number
    for text in (first, second):
        assert pupil.student.name in text and pupil.student.id_number in text
        assert "胡集镇第三小学" in text and "羊山镇第一小学" in text
        assert new_number in text and pupil.record.provincial_number in text
        assert "家庭迁居" in text
    assert zh("Copy kept by the sending school") in first
    assert zh("Copy the student carries to the receiving school") in second
    assert zh("Receipt") in second and zh("Education bureau approval") in first
    paper = latest_paper(KIND)
    assert paper.unit == cast.school_a1 and paper.issued_by == cast.a1_registrar
    assert paper.target_type == "changes.changerequest"
    assert paper.facts["new_provincial_number"] == new_number
    assert paper.facts["to_grade"] == 1 and paper.facts["to_class"] == "2"


def test_each_print_writes_one_audit_event_naming_the_student(cast, client_for, approved, pupil):
    client_for(cast.a1_registrar).get(url(approved))
    event = print_events().get()
    assert event.data["kind"] == KIND
    assert event.data["students"] == [pupil.student.pk]
    assert event.data["papers"] == [latest_paper(KIND).code]
    assert event.target_id == str(approved.pk) and event.actor == cast.a1_registrar


def test_the_qr_code_of_both_pages_verifies_until_the_student_is_renamed(
    cast, client_for, approved, pupil, tmp_path
):
    client = client_for(cast.a1_registrar)
    pdf = client.get(url(approved)).content
    paper = latest_paper(KIND)
    expected = [f"http://127.0.0.1:8000/verify/{paper.code}/"]
    assert qr_payloads(pdf, tmp_path, page=1) == expected
    assert qr_payloads(pdf, tmp_path, page=2) == expected
    assert 'data-state="valid"' in client.get(verify_path(expected[0])).content.decode()
    # The receiving school confirming the arrival does not change what the paper states.
    services.do_record(approved, actor=cast.b1_registrar)
    assert check_paper(paper.code).state == "valid"
    student_services.do_update_student(pupil.student, {"name": "张晓明"}, actor=cast.b1_registrar)
    verdict = check_paper(paper.code)
    assert verdict.state == "changed"
    assert verdict.differences["student_name"] == [pupil.student.name, "张晓明"]


def test_before_the_approval_there_is_no_certificate(cast, client_for, pupil):
    request = start_transfer(cast, pupil)
    response = client_for(cast.a1_registrar).get(url(request))
    assert response.status_code == 302 and response["Location"] == f"/changes/{request.pk}/"
    assert not IssuedPaper.objects.filter(kind=KIND).exists()
    page = client_for(cast.a1_registrar).get(f"/changes/{request.pk}/").content.decode()
    assert 'id="print-transfer-certificate"' not in page


def test_a_transfer_out_of_the_county_names_the_school_outside(cast, client_for, pupil):
    request = services.do_create_request(
        pupil.record,
        Kind.TRANSFER_OUT,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        outside_school="济宁市任城区实验小学",
    )
    request = walk_to_approval(cast, request)
    response = client_for(cast.a1_registrar).get(url(request))
    assert response.status_code == 200
    text = text_of(response.content)
    assert "济宁市任城区实验小学" in text and pupil.student.name in text
    assert latest_paper(KIND).facts["new_provincial_number"] == ""


def test_other_kinds_of_request_have_no_transfer_certificate(cast, client_for, pupil):
    request = services.do_create_request(
        pupil.record, Kind.DROPOUT, actor=cast.a1_registrar, reason="dropout", effective_date=DAY
    )
    response = client_for(cast.a1_registrar).get(url(request))
    assert response.status_code == 302
    assert not IssuedPaper.objects.exists()


def test_the_central_school_prints_for_its_school_without_a_printer(cast, client_for, approved):
    assert client_for(cast.central_a_registrar).get(url(approved)).status_code == 200
    paper = latest_paper(KIND)
    assert paper.unit == cast.school_a1 and paper.issued_by == cast.central_a_registrar


def test_the_receiving_school_and_the_leader_may_not_print_and_others_do_not_see_it(
    cast, client_for, approved
):
    assert client_for(cast.b1_registrar).get(url(approved)).status_code == 403
    assert client_for(cast.a1_leader).get(url(approved)).status_code == 403
    assert client_for(cast.c_registrar).get(url(approved)).status_code == 404
    assert not IssuedPaper.objects.filter(kind=KIND).exists()


def test_the_request_page_offers_the_certificate_to_the_sending_school_only(
    cast, client_for, approved
):
    page = client_for(cast.a1_registrar).get(f"/changes/{approved.pk}/").content.decode()
    assert 'id="print-transfer-certificate"' in page and url(approved) in page
    page = client_for(cast.b1_registrar).get(f"/changes/{approved.pk}/").content.decode()
    assert 'id="print-transfer-certificate"' not in page


def test_the_api_answers_the_pdf_and_refuses_an_unapproved_request(cast, client_for, pupil):
    client = client_for(cast.a1_registrar)
    pending = start_transfer(cast, pupil)
    refused = client.get(f"/api/v1/changes/{pending.pk}/transfer-certificate.pdf")
    assert refused.status_code == 400 and refused.json()["detail"]
    assert not IssuedPaper.objects.exists()
    approved = walk_to_approval(cast, pending)
    response = client.get(f"/api/v1/changes/{approved.pk}/transfer-certificate.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert pupil.student.name in text_of(response.content)
    outside = client_for(cast.c_registrar).get(
        f"/api/v1/changes/{approved.pk}/transfer-certificate.pdf"
    )
    assert outside.status_code == 404
