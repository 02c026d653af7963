"""N6 and B4: the name-change application, printed once the changed household register and
the household registration authority's certificate are checked, read back and verified."""

import pytest

from tests.changes.helpers import DAY, signed, with_documents
from xueji.changes import services
from xueji.changes.models import Kind, State
from xueji.reports.models import IssuedPaper
from xueji.reports.verify import check_paper
from xueji.students import services as student_services

from .helpers import latest_paper, pages, print_events, qr_payloads, text_of, verify_path, zh

KIND = IssuedPaper.Kind.NAME_CHANGE_APPLICATION


def rename(cast, pupil, reason="divorce", corrections=None, note=""):
    return services.do_create_request(
        pupil.record,
        Kind.CORRECTION,
        actor=cast.a1_registrar,
        reason=reason,
        reason_note=note,
        effective_date=DAY,
        corrections=corrections or {"name": "王小明"},
    )


@pytest.fixture
def checked(cast, pupil):
    return with_documents(rename(cast, pupil), cast.a1_registrar)


def url(request) -> str:
    return f"/changes/{request.pk}/name-change-application.pdf"


def test_the_application_states_both_names_the_reason_and_the_checked_documents(
    cast, client_for, checked, pupil
):
    response = client_for(cast.a1_registrar).get(url(checked))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"name-change-application-{checked.pk}.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert len(pages(pdf)) == 1
    text = text_of(pdf)
    assert pupil.student.name in text and "王小明" in text
    assert "更名：父母离异" in text
    assert "更名后的户口本" in text and "县级户籍管理部门证明" in text
    assert "张建国" in text and "李秀英" in text
    assert pupil.student.id_number in text and "胡集镇第三小学" in text
    assert zh("Guardian (applicant)") in text and zh("Education bureau approval") in text
    # A rural primary school's paper has a box for its central school.
    assert zh("Central school re-review") in text
    paper = latest_paper(KIND)
    assert paper.unit == cast.school_a1
    assert (paper.facts["old_name"], paper.facts["new_name"]) == (pupil.student.name, "王小明")
    assert all(document["checked"] for document in paper.facts["documents"])
    event = print_events().get()
    assert event.data["students"] == [pupil.student.pk] and event.data["kind"] == KIND


def test_the_paper_stays_valid_when_the_approved_rename_is_recorded(
    cast, client_for, checked, pupil, tmp_path
):
    client = client_for(cast.a1_registrar)
    pdf = client.get(url(checked)).content
    paper = latest_paper(KIND)
    payloads = qr_payloads(pdf, tmp_path)
    assert payloads == [f"http://127.0.0.1:8000/verify/{paper.code}/"]
    assert 'data-state="valid"' in client.get(verify_path(payloads[0])).content.decode()
    request = signed(checked, cast.a1_registrar, cast.a1_leader)
    request = services.do_central_review(request, actor=cast.central_a_registrar, approve=True)
    request = services.do_submit(request, actor=cast.a1_registrar)
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    request = services.do_decide(request, actor=cast.bureau_registrar, approve=True)
    request = services.do_record(request, actor=cast.a1_registrar)
    pupil.student.refresh_from_db()
    assert request.state == State.RECORDED and pupil.student.name == "王小明"
    # The paper states the names the request recorded, not the name of the day.
    assert check_paper(paper.code).state == "valid"
    student_services.do_update_student(
        pupil.student, {"family1.name": "张国强"}, actor=cast.a1_registrar
    )
    verdict = check_paper(paper.code)
    assert verdict.state == "changed" and set(verdict.differences) == {"guardians"}


def test_it_is_not_printed_before_the_documents_are_checked(cast, client_for, pupil):
    request = rename(cast, pupil)
    client = client_for(cast.a1_registrar)
    response = client.get(url(request))
    assert response.status_code == 302 and response["Location"] == f"/changes/{request.pk}/"
    assert not IssuedPaper.objects.exists()
    assert 'id="print-name-change-application"' not in (
        client.get(f"/changes/{request.pk}/").content.decode()
    )


def test_a_correction_that_keeps_the_name_has_no_application(cast, client_for, pupil):
    request = rename(cast, pupil, reason="data_error", corrections={"native_place": "山东济宁"})
    request = with_documents(request, cast.a1_registrar)
    client = client_for(cast.a1_registrar)
    assert client.get(url(request)).status_code == 302
    assert not IssuedPaper.objects.exists()
    page = client.get(f"/changes/{request.pk}/").content.decode()
    assert 'id="print-name-change-application"' not in page
    assert 'id="print-transfer-certificate"' not in page


def test_the_request_page_offers_the_application(cast, client_for, checked):
    page = client_for(cast.a1_registrar).get(f"/changes/{checked.pk}/").content.decode()
    assert 'id="print-name-change-application"' in page and url(checked) in page


def test_other_schools_do_not_see_it_and_the_leader_may_not_print_it(cast, client_for, checked):
    assert client_for(cast.b1_registrar).get(url(checked)).status_code == 404
    assert client_for(cast.c_registrar).get(url(checked)).status_code == 404
    assert client_for(cast.a1_leader).get(url(checked)).status_code == 403
    assert not IssuedPaper.objects.exists()


def test_the_api_answers_the_pdf(cast, client_for, checked, pupil):
    client = client_for(cast.a1_registrar)
    response = client.get(f"/api/v1/changes/{checked.pk}/name-change-application.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "王小明" in text_of(response.content)
    outside = client_for(cast.b1_registrar).get(
        f"/api/v1/changes/{checked.pk}/name-change-application.pdf"
    )
    assert outside.status_code == 404
