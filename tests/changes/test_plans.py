"""C9: each unit files its change-management plan; the bureau sees who has and who has not."""

from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import ChangePlan

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def file_plan(client, data: bytes = PDF, name: str = "plan.pdf", note: str = "2026学年方案"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/changes/plans/file/",
        {"file": SimpleUploadedFile(name, data), "note": note},
        follow=True,
    )


def english(client_for, user):
    client = client_for(user)
    client.cookies["django_language"] = "en"
    return client


def test_a_school_files_its_plan_and_the_bureau_sees_who_has_not(cast, client_for):
    answer = file_plan(english(client_for, cast.c_registrar))
    assert "Your change-management plan has been filed." in answer.content.decode()
    plan = ChangePlan.objects.get()
    assert plan.unit == cast.school_c and plan.content_type == "application/pdf"
    event = AuditEvent.objects.get(action="change_plan.filed")
    assert event.actor == cast.c_registrar and event.unit == cast.school_c

    page = english(client_for, cast.bureau_registrar).get("/changes/plans/")
    rows = {row["unit"].pk: row["plan"] for row in page.context["units"]}
    assert rows[cast.school_c.pk] == plan
    assert rows[cast.school_b1.pk] is None and rows[cast.bureau.pk] is None
    assert cast.township_a.pk not in rows  # townships are no registrar's unit
    html = page.content.decode()
    assert f"/changes/plans/{plan.pk}/file/" in html and "not filed" in html


def test_the_bureau_downloads_a_plan_behind_strict_headers(cast, client_for):
    plan = services.do_file_plan(cast.school_c, PDF, actor=cast.c_registrar)
    answer = client_for(cast.bureau_registrar).get(f"/changes/plans/{plan.pk}/file/")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == PDF
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Security-Policy"] == "default-src 'none'"
    assert answer["Content-Type"] == "application/pdf"


def test_a_school_cannot_see_another_school_s_plan(cast, client_for):
    plan = services.do_file_plan(cast.school_c, PDF, actor=cast.c_registrar)
    other = client_for(cast.b1_registrar)
    assert other.get(f"/changes/plans/{plan.pk}/file/").status_code == 404
    page = other.get("/changes/plans/")
    assert list(page.context["own_plans"]) == [] and "units" not in page.context
    # Nor does the central school of the township see a county-direct school's plan.
    assert (
        client_for(cast.central_a_registrar).get(f"/changes/plans/{plan.pk}/file/").status_code
        == 404
    )
    assert client_for(cast.c_registrar).get(f"/changes/plans/{plan.pk}/file/").status_code == 200


def test_a_plan_that_is_not_a_pdf_or_image_is_refused(cast, client_for):
    answer = file_plan(english(client_for, cast.c_registrar), b"<html></html>", "plan.html")
    assert "Plan: upload a PDF, JPG or PNG file." in answer.content.decode()
    assert not ChangePlan.objects.exists()


def test_a_school_leader_reads_the_plans_but_does_not_file(cast, client_for):
    page = client_for(cast.a1_leader).get("/changes/plans/")
    assert page.status_code == 200 and page.context["may_file"] is False
    assert client_for(cast.a1_leader).post("/changes/plans/file/").status_code == 403


def test_the_overview_lists_units_without_a_plan(cast, client_for):
    services.do_file_plan(cast.school_c, PDF, actor=cast.c_registrar)
    page = client_for(cast.bureau_registrar).get("/overview/")
    missing = set(page.context["without_plan"])
    assert cast.school_b1 in missing and cast.bureau in missing
    assert cast.school_c not in missing
    section = page.content.decode().split('id="without-plan"')[1]
    assert cast.school_b1.name in section and cast.school_c.name not in section
