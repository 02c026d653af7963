"""C3 step 2 and B4: the change report printed as an A4 PDF, read back, and verified."""

import io
import shutil
import subprocess
from urllib.parse import urlparse

import pytest
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import Kind, State
from xueji.changes.report import change_report_facts
from xueji.reports.models import IssuedPaper
from xueji.reports.verify import check_paper
from xueji.students import services as student_services

from .helpers import DAY, with_documents


@pytest.fixture
def pupil(cast, register):
    done = register()
    student_services.do_assign_numbers(done.record, actor=cast.a1_registrar)
    done.record.refresh_from_db()
    done.student.refresh_from_db()
    return done


@pytest.fixture
def transfer(cast, pupil):
    request = services.do_create_request(
        pupil.record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_b1,
    )
    return with_documents(request, cast.a1_registrar)


def url(request) -> str:
    return f"/changes/{request.pk}/report.pdf"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def qr_payloads(pdf: bytes, tmp_path) -> list[str]:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    (tmp_path / "report.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-singlefile", "report.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    return [result.text for result in zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))]


def test_the_registrar_prints_the_report_and_it_states_the_student_and_the_change(
    cast, client_for, transfer, pupil
):
    response = client_for(cast.a1_registrar).get(url(transfer))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert f"change-report-{transfer.pk}.pdf" in response["Content-Disposition"]
    text = text_of(response.content)
    assert pupil.student.name in text
    assert "胡集镇第三小学" in text and "羊山镇第一小学" in text
    assert str(zh(Kind.TRANSFER.label)) in text
    assert "户口本" in text and "户口迁移证" in text
    assert pupil.student.id_number in text
    # A rural primary school's report has a box for its central school's re-review.
    assert zh("Central school re-review") in text
    assert zh("Education bureau approval") in text
    transfer.refresh_from_db()
    assert transfer.state == State.REPORT_PRINTED
    paper = IssuedPaper.objects.get(kind="change_report", target_id=str(transfer.pk))
    assert paper.unit == cast.school_a1 and paper.issued_by == cast.a1_registrar
    assert AuditEvent.objects.filter(action="paper.issued", target_id=str(transfer.pk)).exists()
    assert AuditEvent.objects.filter(action="change.report_printed").exists()
    assert "state" not in paper.facts
    assert paper.facts["documents"][0] == {
        "document": "household_register",
        "name": "户口本",
        "checked": True,
    }


def test_the_qr_code_opens_the_verify_page_which_turns_changed_after_a_rename(
    cast, client_for, transfer, pupil, tmp_path
):
    client = client_for(cast.a1_registrar)
    pdf = client.get(url(transfer)).content
    paper = IssuedPaper.objects.get(kind="change_report", target_id=str(transfer.pk))
    payloads = qr_payloads(pdf, tmp_path)
    assert payloads == [f"http://127.0.0.1:8000/verify/{paper.code}/"]
    verify_path = urlparse(payloads[0]).path
    assert 'data-state="valid"' in client.get(verify_path).content.decode()
    # The request moving on does not change what the paper states.
    services.do_sign(transfer, actor=cast.a1_registrar)
    assert check_paper(paper.code).state == "valid"
    student_services.do_update_student(pupil.student, {"name": "张晓明"}, actor=cast.a1_registrar)
    verdict = check_paper(paper.code)
    assert verdict.state == "changed"
    assert verdict.differences["student_name"] == [pupil.student.name, "张晓明"]
    assert 'data-state="changed"' in client.get(verify_path).content.decode()


def test_the_central_school_prints_for_its_rural_school_without_a_printer(
    cast, client_for, transfer
):
    assert not cast.school_a1.has_printer
    response = client_for(cast.central_a_registrar).get(url(transfer))
    assert response.status_code == 200
    paper = IssuedPaper.objects.get(kind="change_report", target_id=str(transfer.pk))
    # The paper speaks for the student's school, whoever printed it.
    assert paper.unit == cast.school_a1 and paper.issued_by == cast.central_a_registrar
    transfer.refresh_from_db()
    assert transfer.state == State.REPORT_PRINTED


def test_a_central_school_may_not_print_for_a_school_that_has_its_own_printer(
    cast, client_for, register
):
    done = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=7)
    request = services.do_create_request(
        done.record, Kind.DROPOUT, actor=cast.b1_registrar, reason="dropout", effective_date=DAY
    )
    request = with_documents(request, cast.b1_registrar)
    assert client_for(cast.central_b_registrar).get(url(request)).status_code == 403
    request.refresh_from_db()
    assert request.state == State.DOCUMENTS_CHECKED
    assert not IssuedPaper.objects.exists()


def test_a_school_leader_may_read_but_not_print(cast, client_for, transfer):
    assert client_for(cast.a1_leader).get(url(transfer)).status_code == 403


def test_the_receiving_school_and_its_central_school_see_the_request_but_do_not_print(
    cast, client_for, transfer
):
    assert client_for(cast.central_b_registrar).get(url(transfer)).status_code == 403
    assert client_for(cast.b1_registrar).get(url(transfer)).status_code == 403
    assert not IssuedPaper.objects.exists()


def test_a_school_outside_the_scope_gets_404(cast, client_for, transfer):
    assert client_for(cast.c_registrar).get(url(transfer)).status_code == 404
    assert client_for(cast.c_registrar).get("/changes/999999/report.pdf").status_code == 404
    assert not IssuedPaper.objects.exists()


def test_an_anonymous_visitor_is_sent_to_the_login(client, cast, transfer):
    response = client.get(url(transfer))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_report_is_not_printed_before_the_documents_are_checked(cast, client_for, pupil):
    request = services.do_create_request(
        pupil.record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_b1,
    )
    response = client_for(cast.a1_registrar).get(url(request))
    assert response.status_code == 302
    assert response["Location"] == f"/changes/{request.pk}/"
    assert not IssuedPaper.objects.exists()
    request.refresh_from_db()
    assert request.state == State.DRAFT


def test_a_correction_report_lists_item_recorded_and_corrected(cast, client_for, pupil):
    request = services.do_create_request(
        pupil.record,
        Kind.CORRECTION,
        actor=cast.a1_registrar,
        reason="adoption",
        effective_date=DAY,
        corrections={"name": "王小明"},
    )
    request = with_documents(request, cast.a1_registrar)
    text = text_of(client_for(cast.a1_registrar).get(url(request)).content)
    assert "王小明" in text and pupil.student.name in text
    assert "更名后的户口本" in text
    assert change_report_facts(str(request.pk))["corrections"] == {
        "name": [pupil.student.name, "王小明"]
    }


def test_a_reprint_issues_a_new_paper_and_keeps_the_state(cast, client_for, transfer):
    client = client_for(cast.a1_registrar)
    client.get(url(transfer))
    services.do_sign(transfer, actor=cast.a1_registrar)
    assert client.get(url(transfer)).status_code == 200
    assert IssuedPaper.objects.filter(target_id=str(transfer.pk)).count() == 2
    transfer.refresh_from_db()
    assert transfer.state == State.REPORT_PRINTED
    assert AuditEvent.objects.filter(action="change.report_reprinted").exists()
