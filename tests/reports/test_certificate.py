"""The certificate of enrolment (学籍证明): for a student at school, stamped by the school,
read back from the PDF and verified against the live record."""

from tests.changes.helpers import DAY
from xueji.changes import services as change_services
from xueji.changes.models import Kind
from xueji.reports.models import IssuedPaper
from xueji.reports.verify import check_paper
from xueji.students.models import Status

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

KIND = IssuedPaper.Kind.CERTIFICATE


def url(student) -> str:
    return f"/students/{student.pk}/certificate.pdf"


def test_the_certificate_states_who_the_student_is_and_where_they_study(cast, client_for, pupil):
    student, record = pupil.student, pupil.record
    response = client_for(cast.a1_registrar).get(url(student))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"certificate-{student.pk}.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert len(pages(pdf)) == 1
    text = text_of(pdf)
    assert zh("Certificate of enrolment") in text and zh("Hereby certified.") in text
    for value in (
        student.name,
        "男",
        "2019-03-15",
        student.id_number,
        record.provincial_number,
        student.national_number,
        "胡集镇第三小学",
    ):
        assert value in text
    assert zh("Grade %(grade)s, class %(class)s") % {"grade": 1, "class": "1"} in text
    assert zh("School stamp") in text
    paper = latest_paper(KIND)
    assert paper.target_type == "students.studentrecord" and paper.target_id == str(record.pk)
    assert paper.unit == cast.school_a1 and paper.facts["entry_year_month"] == "202609"
    assert print_events().get().data["students"] == [student.pk]


def test_the_qr_code_verifies_until_the_student_leaves(cast, client_for, pupil, tmp_path):
    client = client_for(cast.a1_registrar)
    pdf = client.get(url(pupil.student)).content
    paper = latest_paper(KIND)
    payloads = qr_payloads(pdf, tmp_path)
    assert payloads == [f"http://127.0.0.1:8000/verify/{paper.code}/"]
    assert 'data-state="valid"' in client.get(verify_path(payloads[0])).content.decode()
    type(pupil.record).objects.filter(pk=pupil.record.pk).update(status=Status.DROPPED_OUT)
    verdict = check_paper(paper.code)
    assert verdict.state == "changed" and set(verdict.differences) == {"status"}


def test_a_student_not_at_school_gets_no_certificate(cast, client_for, pupil):
    type(pupil.record).objects.filter(pk=pupil.record.pk).update(status=Status.SUSPENDED)
    client = client_for(cast.a1_registrar)
    response = client.get(url(pupil.student))
    assert response.status_code == 302
    assert response["Location"] == f"/students/{pupil.student.pk}/"
    assert not IssuedPaper.objects.exists()
    page = client.get(f"/students/{pupil.student.pk}/").content.decode()
    assert 'id="print-certificate"' not in page and 'id="print-record-card"' in page


def test_after_a_transfer_only_the_receiving_school_certifies(cast, client_for, pupil):
    request = change_services.do_create_request(
        pupil.record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_b1,
    )
    request = walk_to_approval(cast, request)
    change_services.do_record(request, actor=cast.b1_registrar)
    assert client_for(cast.a1_registrar).get(url(pupil.student)).status_code == 302
    response = client_for(cast.b1_registrar).get(url(pupil.student))
    assert response.status_code == 200
    assert "羊山镇第一小学" in text_of(response.content)
    assert latest_paper(KIND).unit == cast.school_b1


def test_other_schools_and_leaders_cannot_print_it(cast, client_for, pupil):
    assert client_for(cast.b1_registrar).get(url(pupil.student)).status_code == 404
    assert client_for(cast.a1_leader).get(url(pupil.student)).status_code == 403
    assert not IssuedPaper.objects.exists()


def test_the_api_answers_the_pdf_or_the_reason(cast, client_for, pupil):
    client = client_for(cast.a1_registrar)
    api = f"/api/v1/students/{pupil.student.pk}/certificate.pdf"
    response = client.get(api)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    type(pupil.record).objects.filter(pk=pupil.record.pk).update(status=Status.SUSPENDED)
    refused = client.get(api)
    assert refused.status_code == 400 and refused.json()["detail"]
    assert client_for(cast.b1_registrar).get(api).status_code == 404
