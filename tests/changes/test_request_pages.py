"""The school-side change-request pages: the list, a new request, and each step taken on
the request page by the unit that owes it (C2-C5, C7, N6, P4)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xueji.changes import services
from xueji.changes.models import ChangeRequest, Evidence, Kind, State

from .helpers import DAY, scan, signed, with_documents


def transfer(cast, record, to_school=None):
    return services.do_create_request(
        record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=to_school or cast.school_b1,
    )


def upload(name="scan.jpg"):
    return SimpleUploadedFile(name, scan(), content_type="image/jpeg")


def page(client, change):
    return client.get(f"/changes/{change.pk}/")


def test_a_school_registrar_starts_a_transfer_from_the_page_and_lands_on_it(
    cast, client_for, register
):
    done = register()
    client = client_for(cast.a1_registrar)
    form = client.get(f"/changes/new/?record={done.record.pk}")
    assert form.status_code == 200 and "家庭迁居" in form.text
    assert cast.school_b1.name in form.text
    response = client.post(
        f"/changes/new/?record={done.record.pk}",
        {
            "kind": "transfer",
            "reason": "moved",
            "effective_date": "2026-11-30",
            "to_school": cast.school_b1.pk,
        },
    )
    change = ChangeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/changes/{change.pk}/"
    assert change.kind == Kind.TRANSFER and change.to_school == cast.school_b1
    shown = client.get(response["Location"])
    assert "户口迁移证" in shown.text and done.student.name in shown.text


def test_a_second_request_for_a_student_names_the_pending_one_and_changes_nothing(
    cast, client_for, register
):
    """C1: one pending request a student; the form says which one is pending (its kind
    and state) with 400, and writes nothing (the record is read locked, issue 9)."""
    done = register()
    transfer(cast, done.record)
    client = client_for(cast.a1_registrar)
    response = client.post(
        f"/changes/new/?record={done.record.pk}",
        {"kind": "dropout", "reason": "dropout", "effective_date": "2026-11-30"},
    )
    assert response.status_code == 400
    assert "该学生已有一份未完成的申请（县内转学，核对材料），请先办结或撤回。" in response.text
    assert ChangeRequest.objects.count() == 1


def test_a_transfer_within_one_school_district_is_refused_on_the_receiving_school(
    cast, client_for, register
):
    done = register()
    response = client_for(cast.a1_registrar).post(
        f"/changes/new/?record={done.record.pk}",
        {
            "kind": "transfer",
            "reason": "moved",
            "effective_date": "2026-11-30",
            "to_school": cast.central_a.pk,
        },
    )
    assert response.status_code == 400
    assert "C5" in response.context["form"].errors["to_school"][0]
    assert not ChangeRequest.objects.exists()


def test_changing_the_kind_shows_that_kinds_reasons(cast, client_for, register):
    done = register()
    client = client_for(cast.a1_registrar)
    response = client.get(f"/changes/new/?record={done.record.pk}&kind=suspension")
    assert "因病休学" in response.text and "家庭迁居" not in response.text
    # Without JavaScript the "show the reasons" button posts the form back unchanged.
    response = client.post(
        f"/changes/new/?record={done.record.pk}", {"kind": "correction", "refresh": "1"}
    )
    assert response.status_code == 200 and "更名：父母离异" in response.text
    assert not response.context["form"].errors


def test_a_correction_is_started_with_its_items(cast, client_for, register):
    done = register()
    response = client_for(cast.a1_registrar).post(
        f"/changes/new/?record={done.record.pk}",
        {
            "kind": "correction",
            "reason": "divorce",
            "effective_date": "2026-11-30",
            "item_1": "name",
            "value_1": "李小明",
        },
        follow=True,
    )
    change = ChangeRequest.objects.get()
    assert change.corrections == {"name": ["张小明", "李小明"]}
    assert "李小明" in response.text and "张小明" in response.text


def test_a_registrar_picks_only_students_of_the_own_school(cast, client_for, register):
    register()
    register(school=cast.school_b1, actor=cast.b1_registrar, sequence=2, name="王小红")
    response = client_for(cast.a1_registrar).get("/changes/new/?q=张")
    assert "张小明" in response.text
    other = client_for(cast.a1_registrar).get("/changes/new/?q=王")
    assert "王小红" not in other.text


def test_a_registrar_uploads_a_scan_and_marks_it_checked(cast, client_for, register):
    change = transfer(cast, register().record)
    client = client_for(cast.a1_registrar)
    response = client.post(
        f"/changes/{change.pk}/evidence/",
        {"document": "household_register", "file": upload()},
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.document == "household_register" and evidence.checked_at is None
    assert f"/changes/evidence/{evidence.pk}/check/" in page(client, change).text
    client.post(f"/changes/evidence/{evidence.pk}/check/")
    evidence.refresh_from_db()
    assert evidence.checked_by == cast.a1_registrar and evidence.checked_at is not None


def test_an_upload_that_is_no_scan_is_refused_on_the_file(cast, client_for, register):
    change = transfer(cast, register().record)
    response = client_for(cast.a1_registrar).post(
        f"/changes/{change.pk}/evidence/",
        {
            "document": "household_register",
            "file": SimpleUploadedFile("x.jpg", b"<html>no</html>", content_type="image/jpeg"),
        },
    )
    assert response.status_code == 400
    assert "JPG" in response.text and not Evidence.objects.exists()


def test_the_documents_step_refuses_and_names_the_missing_document(cast, client_for, register):
    change = transfer(cast, register().record)
    evidence = services.do_add_evidence(
        change, "household_register", scan(), actor=cast.a1_registrar
    )
    services.do_check_evidence(evidence, actor=cast.a1_registrar)
    response = client_for(cast.a1_registrar).post(f"/changes/{change.pk}/documents/", follow=True)
    assert "户口迁移证" in response.text and "msg-error" in response.text
    change.refresh_from_db()
    assert change.state == State.DRAFT


def test_the_central_school_prints_for_a_school_without_a_printer_and_no_other_does(
    cast, client_for, register
):
    change = with_documents(transfer(cast, register().record), cast.a1_registrar)
    report = f"/changes/{change.pk}/report.pdf"
    # 胡集镇第三小学 has no printer: its central school prints the report.
    assert report in page(client_for(cast.central_a_registrar), change).text
    # 羊山镇中心小学 sees the request (it goes to a school it supervises) but prints nothing,
    # and its own attempt is refused.
    shown = page(client_for(cast.central_b_registrar), change)
    assert shown.status_code == 200 and report not in shown.text
    with pytest.raises(PermissionDenied):
        services.do_mark_report_printed(change, actor=cast.central_b_registrar)
    # A central school sees no request of a school it does not supervise.
    other = services.do_create_request(
        register(school=cast.school_c, actor=cast.c_registrar, sequence=2, name="王小红").record,
        Kind.SUSPENSION,
        actor=cast.c_registrar,
        reason="sick",
        effective_date=DAY,
    )
    assert page(client_for(cast.central_b_registrar), other).status_code == 404


def test_the_leaders_sign_button_signs(cast, client_for, register):
    change = with_documents(transfer(cast, register().record), cast.a1_registrar)
    services.do_mark_report_printed(change, actor=cast.central_a_registrar)
    client = client_for(cast.a1_leader)
    assert 'id="sign"' in page(client, change).text
    client.post(f"/changes/{change.pk}/sign/")
    change.refresh_from_db()
    assert change.leader_signed_by == cast.a1_leader and change.leader_signed_at is not None
    shown = page(client, change).text
    assert 'id="sign"' not in shown and cast.a1_leader.display_name in shown


def test_the_receiving_school_confirms_grade_and_class(cast, client_for, register):
    change = transfer(cast, register().record)
    client = client_for(cast.b1_registrar)
    assert 'id="receiving"' in page(client, change).text
    response = client.post(f"/changes/{change.pk}/receiving/", {"to_grade": "1", "to_class": "2"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.to_grade, change.to_class) == (1, "2")
    assert change.receiving_confirmed_by == cast.b1_registrar


def test_a_submission_with_a_proxy_records_the_proxy(cast, client_for, register):
    change = with_documents(transfer(cast, register().record), cast.a1_registrar)
    change = signed(change, cast.a1_registrar, cast.a1_leader, printer=cast.central_a_registrar)
    change = services.do_central_review(change, actor=cast.central_a_registrar, approve=True)
    services.do_confirm_receiving(change, actor=cast.b1_registrar, to_grade=1, to_class="1")
    client = client_for(cast.a1_registrar)
    proxy = {
        "proxy_name": "张建国",
        "proxy_id_number": "370828198001011235",
        "proxy_relation": "父亲",
        "proxy_call_note": "已电话联系教育局学籍科王老师",
    }
    incomplete = client.post(f"/changes/{change.pk}/submit/", {**proxy, "proxy_call_note": ""})
    assert incomplete.status_code == 400
    assert incomplete.context["submit_form"].errors["proxy_call_note"]
    response = client.post(f"/changes/{change.pk}/submit/", proxy)
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.state == State.SUBMITTED
    assert (change.proxy_name, change.proxy_relation) == ("张建国", "父亲")
    assert change.proxy_call_at is not None
    shown = page(client, change).text
    assert 'id="proxy"' in shown and "370828198001011235" not in shown


def test_b1_sees_a1s_request_only_as_its_receiving_school(cast, client_for, register):
    record = register().record
    suspension = services.do_create_request(
        record, Kind.SUSPENSION, actor=cast.a1_registrar, reason="sick", effective_date=DAY
    )
    client = client_for(cast.b1_registrar)
    assert page(client, suspension).status_code == 404
    assert suspension.student.name not in client.get("/changes/").text
    services.do_withdraw(suspension, actor=cast.a1_registrar, reason="家长改变主意")
    change = transfer(cast, record)
    assert page(client, change).status_code == 200
    assert change.student.name in client.get("/changes/").text


def test_the_evidence_view_serves_the_file_only_in_scope(cast, client_for, register):
    change = transfer(cast, register().record)
    evidence = services.do_add_evidence(
        change, "household_register", scan(), actor=cast.a1_registrar
    )
    url = f"/changes/evidence/{evidence.pk}/"
    response = client_for(cast.a1_registrar).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == scan()
    assert client_for(cast.central_a_registrar).get(url).status_code == 200
    # Whoever sees the request sees its scans (the receiving school too); no one else.
    assert client_for(cast.b1_registrar).get(url).status_code == 200
    assert client_for(cast.c_registrar).get(url).status_code == 404


def test_the_list_flags_an_overdue_request_and_names_the_owing_unit(cast, client_for, register):
    change = transfer(cast, register().record)
    ChangeRequest.objects.filter(pk=change.pk).update(
        waiting_since=timezone.now() - datetime.timedelta(days=20)
    )
    response = client_for(cast.a1_registrar).get("/changes/")
    row = response.text.split('<tr class="overdue">', 1)[1].split("</tr>", 1)[0]
    assert change.student.name in row and cast.school_a1.name in row
    assert "tag bad" in row
    assert response.context["mine_count"] == 1
    # The receiving school owes nothing yet: nothing waits on it.
    assert client_for(cast.b1_registrar).get("/changes/").context["mine_count"] == 0


def test_a_school_leader_sees_requests_but_starts_none(cast, client_for, register):
    change = transfer(cast, register().record)
    client = client_for(cast.a1_leader)
    assert page(client, change).status_code == 200
    assert client.get("/changes/new/").status_code == 403
    assert client.post(f"/changes/{change.pk}/documents/").status_code == 403


def test_the_central_school_reviews_and_the_receiving_school_records_the_arrival(
    cast, client_for, register
):
    change = with_documents(transfer(cast, register().record), cast.a1_registrar)
    change = signed(change, cast.a1_registrar, cast.a1_leader, printer=cast.central_a_registrar)
    central = client_for(cast.central_a_registrar)
    assert 'id="central-review"' in page(central, change).text
    refused = central.post(f"/changes/{change.pk}/central-review/", {"decision": "return"})
    assert refused.status_code == 400 and refused.context["central_form"].errors["comment"]
    central.post(f"/changes/{change.pk}/central-review/", {"decision": "approve"})
    change.refresh_from_db()
    assert change.state == State.CENTRAL_REVIEWED
    services.do_confirm_receiving(change, actor=cast.b1_registrar, to_grade=1, to_class="1")
    change = services.do_submit(change, actor=cast.a1_registrar)
    services.do_open_session(cast.county, actor=cast.bureau_registrar)
    services.do_decide(change, actor=cast.bureau_registrar, approve=True)
    # The sending school does not record a transfer: the receiving school confirms arrival.
    assert 'id="record"' not in page(client_for(cast.a1_registrar), change).text
    receiving = client_for(cast.b1_registrar)
    assert 'id="record"' in page(receiving, change).text
    receiving.post(f"/changes/{change.pk}/record/")
    change.refresh_from_db()
    assert change.state == State.RECORDED


def test_a_pending_request_is_withdrawn_with_a_reason(cast, client_for, register):
    change = transfer(cast, register().record)
    client = client_for(cast.a1_registrar)
    assert client.post(f"/changes/{change.pk}/withdraw/", {"reason": ""}).status_code == 400
    client.post(f"/changes/{change.pk}/withdraw/", {"reason": "家长改变主意"})
    change.refresh_from_db()
    assert change.state == State.WITHDRAWN
    assert "家长改变主意" in page(client, change).text
