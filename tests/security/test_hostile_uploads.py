"""Issue 8, hostile input: uploads (C2, C9, N2, B3, P1).

Every uploaded file is judged by its content, never its name: scans of evidence, the signed
change report and a unit's plan must be a JPEG or PNG that decodes in full (within a pixel
limit) or a whole PDF; photos are re-encoded by students/photos.py; a ZIP of photos is read
member by member without ever unpacking to disk. What is refused leaves no row, no event
and no file. What is stored is served with headers that keep an uploaded page or picture
from running: the verified type, nosniff, a policy that allows nothing (and a sandbox for
images), inline only for verified images and PDFs, and no shared cache.

The photo checker's own unit tests (bombs by pixel count, truncated images, ZIP ratio and
total, symbolic links, encryption, GBK names) are in tests/students/test_photos.py; here the
same attacks go through the pages, the API and the background job.
"""

import io
import struct
import time
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from PIL import Image

from tests.changes.helpers import DAY, scan, with_documents
from xueji.audit.models import AuditEvent
from xueji.changes import services
from xueji.changes.models import ChangePlan, ChangeRequest, Evidence, Kind
from xueji.core import uploads
from xueji.core.errors import RuleViolation
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.students.models import Student
from xueji.students.photo_services import do_import_photo_zip


@pytest.fixture(autouse=True)
def _english(english):
    yield


def as_user(client_for, user):
    """A logged-in client that reads the pages in English (the msgids). One client is
    shared: logging in another user switches it."""
    client = client_for(user)
    client.cookies["django_language"] = "en"
    return client


def in_job_language(message: str) -> str:
    """A job runs in the installation's language, not the test's."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(message)


# --- Files a hostile user might send ----------------------------------------------------------


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height pixels but holds one row: a bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x80" * 30)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def png_scan() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 100), (250, 250, 250)).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_scan() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(100, 700, "household register")
    page.save()
    return buffer.getvalue()


def truncated_portrait() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((400, 500), 60).convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()[:3000]


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(2)</script></svg>"
)
# The first bytes of a JPEG, then a page: a sniffing browser would run it.
JPEG_THEN_HTML = b"\xff\xd8\xff\xe0" + HTML
PDF_THEN_NOTHING = pdf_scan()[:400]  # a PDF cut off in the middle of the upload

NOT_A_SCAN = [
    pytest.param(HTML, id="html-page"),
    pytest.param(SVG, id="svg-with-script"),
    pytest.param(b"MZ\x90\x00" + bytes(200), id="windows-program"),
    pytest.param(b"", id="empty"),
]
DAMAGED = [
    pytest.param(JPEG_THEN_HTML, id="jpeg-magic-then-html"),
    pytest.param(scan()[: len(scan()) // 2], id="truncated-jpeg"),
    pytest.param(png_scan()[:-30], id="truncated-png"),
    pytest.param(PDF_THEN_NOTHING, id="truncated-pdf"),
    pytest.param(b"%PDF-<html><script>alert(1)</script></html>", id="pdf-magic-then-html"),
]


def a_transfer(cast, register) -> ChangeRequest:
    return services.do_create_request(
        register().record,
        Kind.TRANSFER,
        actor=cast.a1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_b1,
    )


# --- Scans: checked by content, bombs and oversized files refused -----------------------------


@pytest.mark.parametrize("data", NOT_A_SCAN + DAMAGED)
def test_a_scan_that_is_not_a_whole_image_or_pdf_is_refused_and_nothing_is_written(
    cast, register, media, data
):
    change = a_transfer(cast, register)
    events, files = AuditEvent.objects.count(), media()
    with pytest.raises(RuleViolation) as refused:
        services.do_add_evidence(change, "household_register", data, actor=cast.a1_registrar)
    assert refused.value.field == "file"
    assert refused.value.message.startswith("Scan: ")
    assert not Evidence.objects.exists()
    assert AuditEvent.objects.count() == events and media() == files


def test_the_reason_says_what_is_wrong_with_the_file():
    with pytest.raises(uploads.UploadRefused, match="upload a JPG, PNG or PDF"):
        uploads.verify_scan(SVG)
    with pytest.raises(uploads.UploadRefused, match="image file is damaged or incomplete"):
        uploads.verify_scan(JPEG_THEN_HTML)
    with pytest.raises(uploads.UploadRefused, match="PDF file is damaged or incomplete"):
        uploads.verify_scan(PDF_THEN_NOTHING)


@pytest.mark.parametrize("size", [(100_000, 100_000), (60_000, 1_000)], ids=["giga", "over-50mp"])
def test_a_decompression_bomb_is_refused_quickly_by_its_pixel_count(cast, register, size):
    change = a_transfer(cast, register)
    bomb = png_claiming(*size)
    assert len(bomb) < 200
    started = time.monotonic()
    with pytest.raises(RuleViolation) as refused:
        services.do_add_evidence(change, "household_register", bomb, actor=cast.a1_registrar)
    assert time.monotonic() - started < 2
    assert "too large to be a scan" in refused.value.message
    assert "50 megapixels" in refused.value.message


def test_an_oversized_scan_is_refused_before_it_is_decoded(cast, register):
    change = a_transfer(cast, register)
    from xueji.changes import rules

    huge = b"\xff\xd8\xff" + bytes(rules.evidence_max_bytes())
    with pytest.raises(RuleViolation) as refused:
        services.do_add_evidence(change, "household_register", huge, actor=cast.a1_registrar)
    assert "the limit is" in refused.value.message and not Evidence.objects.exists()


@pytest.mark.parametrize(
    "data, kind, extension",
    [
        (scan(), "image/jpeg", "jpg"),
        (png_scan(), "image/png", "png"),
        (pdf_scan(), "application/pdf", "pdf"),
    ],
    ids=["jpeg", "png", "pdf"],
)
def test_a_real_scan_is_stored_under_the_type_its_content_proves_not_its_name(
    cast, register, client_for, data, kind, extension
):
    change = a_transfer(cast, register)
    response = client_for(cast.a1_registrar).post(
        f"/changes/{change.pk}/evidence/",
        {
            "document": "household_register",
            # The name and the browser's type lie; the content decides.
            "file": SimpleUploadedFile("scan.html", data, content_type="text/html"),
        },
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.content_type == kind and evidence.file.name.endswith(f".{extension}")


@pytest.mark.parametrize("data", NOT_A_SCAN[:2] + DAMAGED[:1], ids=["html", "svg", "polyglot"])
def test_the_signed_report_scan_and_the_plan_are_checked_the_same_way(cast, register, data):
    change = signed_ready(cast, register)
    with pytest.raises(RuleViolation):
        services.do_upload_signed_scan(change, data, actor=cast.a1_registrar)
    change.refresh_from_db()
    assert not change.signed_scan
    with pytest.raises(RuleViolation) as refused:
        services.do_file_plan(cast.school_c, data, actor=cast.c_registrar)
    assert refused.value.message.startswith("Plan: ") and not ChangePlan.objects.exists()


def signed_ready(cast, register) -> ChangeRequest:
    change = with_documents(a_transfer(cast, register), cast.a1_registrar)
    return services.do_mark_report_printed(change, actor=cast.central_a_registrar)


def test_the_api_refuses_a_hostile_scan_with_400_and_the_reason(cast, register, client_for):
    change = a_transfer(cast, register)
    response = as_user(client_for, cast.a1_registrar).post(
        f"/api/v1/changes/{change.pk}/evidence",
        {
            "document": "household_register",
            "file": SimpleUploadedFile("x.png", png_claiming(10**5, 10**5)),
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "file" and "too large" in response.json()["detail"]


# --- Serving: nothing uploaded can run in the browser ---------------------------------------


def assert_cannot_run(response, kind: str, *, inline: bool) -> None:
    assert response["Content-Type"] == kind
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    if kind != "application/pdf":
        # Images, and anything not verified, are a sandboxed document of their own.
        assert "sandbox" in policy.split(";")[-1] or "; sandbox" in policy
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline" if inline else "attachment"), disposition
    assert "no-store" in response["Cache-Control"] or "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


@pytest.mark.parametrize(
    "data, kind", [(scan(), "image/jpeg"), (pdf_scan(), "application/pdf")], ids=["jpeg", "pdf"]
)
def test_evidence_is_served_as_its_verified_type_on_the_page_and_the_api(
    cast, register, client_for, data, kind
):
    change = a_transfer(cast, register)
    evidence = services.do_add_evidence(change, "household_register", data, actor=cast.a1_registrar)
    client = client_for(cast.a1_registrar)
    assert_cannot_run(client.get(f"/changes/evidence/{evidence.pk}/"), kind, inline=True)
    api = client.get(f"/api/v1/evidence/{evidence.pk}/file")
    assert_cannot_run(api, kind, inline=True)
    assert api.content == data


def test_a_stored_file_of_an_unverified_type_is_only_ever_a_download(cast, register, client_for):
    """Defence in depth: a row whose type is not one we verify (an old row, an edit in the
    database) is sent as opaque bytes to save, never as the type it names."""
    change = a_transfer(cast, register)
    evidence = services.do_add_evidence(
        change, "household_register", scan(), actor=cast.a1_registrar
    )
    Evidence.objects.filter(pk=evidence.pk).update(content_type="text/html")
    client = client_for(cast.a1_registrar)
    for response in (
        client.get(f"/changes/evidence/{evidence.pk}/"),
        client.get(f"/api/v1/evidence/{evidence.pk}/file"),
    ):
        assert_cannot_run(response, "application/octet-stream", inline=False)
        assert "sandbox" in response["Content-Security-Policy"]


def test_the_signed_scan_the_plan_the_photo_and_job_results_are_served_safely(
    cast, register, client_for
):
    change = signed_ready(cast, register)
    services.do_upload_signed_scan(change, png_scan(), actor=cast.a1_registrar)
    client = client_for(cast.a1_registrar)
    assert_cannot_run(
        client.get(f"/changes/{change.pk}/signed-scan/file/"), "image/png", inline=True
    )

    plan = services.do_file_plan(cast.school_c, pdf_scan(), actor=cast.c_registrar)
    answer = client_for(cast.c_registrar).get(f"/changes/plans/{plan.pk}/file/")
    assert_cannot_run(answer, "application/pdf", inline=False)
    client = client_for(cast.a1_registrar)

    student = Student.objects.get()
    photo = io.BytesIO()
    Image.new("RGB", (358, 441), (160, 200, 240)).save(photo, "JPEG")
    uploaded = client.post(
        f"/students/{student.pk}/photo/upload/",
        {"photo": SimpleUploadedFile("face.svg", photo.getvalue(), content_type="image/svg+xml")},
    )
    assert uploaded.status_code == 302
    assert_cannot_run(client.get(f"/students/{student.pk}/photo/"), "image/jpeg", inline=True)
    assert_cannot_run(client.get(f"/api/v1/students/{student.pk}/photo"), "image/jpeg", inline=True)

    job = zip_job(client, {"=cmd|' /C calc'!A0.jpg": photo.getvalue()})
    result = client.get(f"/jobs/{job.pk}/download/")
    assert result["Content-Disposition"].startswith("attachment")
    assert result["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in result["Content-Security-Policy"]


# --- Photos through the pages and the API ---------------------------------------------------


@pytest.mark.parametrize(
    "data, reason",
    [
        (HTML, "not a JPEG or PNG"),
        (SVG, "not a JPEG or PNG"),
        (png_claiming(100_000, 100_000), "too large to process"),
        (truncated_portrait(), "damaged or incomplete"),
    ],
    ids=["html", "svg", "bomb", "truncated"],
)
def test_a_hostile_photo_is_refused_on_the_page_and_by_the_api_with_the_reason(
    cast, register, client_for, media, data, reason
):
    student = register().student
    client = as_user(client_for, cast.a1_registrar)
    page = client.post(
        f"/students/{student.pk}/photo/upload/",
        {"photo": SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")},
    )
    assert page.status_code == 200 and reason in page.text
    api = client.put(
        f"/api/v1/students/{student.pk}/photo",
        encode_multipart(BOUNDARY, {"file": SimpleUploadedFile("photo.jpg", data)}),
        content_type=MULTIPART_CONTENT,
    )
    assert api.status_code == 400 and reason in api.json()["detail"]
    student.refresh_from_db()
    assert not student.photo and media() == []


def test_an_oversized_photo_is_refused_by_the_form_before_it_is_read(cast, register, client_for):
    student = register().student
    huge = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + bytes(11 * 1024 * 1024))
    page = as_user(client_for, cast.a1_registrar).post(
        f"/students/{student.pk}/photo/upload/", {"photo": huge}
    )
    assert page.status_code == 200 and "larger than 10 MB" in page.text


# --- A ZIP of photos ------------------------------------------------------------------------


def make_zip(members: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in links:
                info.external_attr = (0o120777 << 16) | 0x20  # a symbolic link
            archive.writestr(info, content)
    return buffer.getvalue()


def portrait() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (358, 441), (160, 200, 240))
    image.paste((200, 150, 120), (100, 120, 260, 441))
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def zip_job(client, members: dict[str, bytes], **options) -> Job:
    client.post(
        "/students/photos/zip/",
        {"archive": SimpleUploadedFile("photos.zip", make_zip(members, **options))},
    )
    assert run_pending() == 1
    return Job.objects.latest("pk")


def test_path_traversal_links_and_other_members_are_refused_each_with_its_reason(
    cast, register, media
):
    student = register().student
    photo = portrait()
    archive = make_zip(
        {
            f"{student.id_number}.jpg": photo,
            "../../../etc/cron.d/evil.jpg": photo,
            "/etc/passwd.jpg": photo,
            "..\\..\\windows\\evil.jpg": photo,
            "C:/evil.jpg": photo,
            "link.jpg": b"/etc/passwd",
            "nested.zip": make_zip({"a.jpg": photo}),
            # Named after the pupil's school, class and name: matched, then refused as no image.
            "3708280604_1_张小明.jpg": HTML,
        },
        links=("link.jpg",),
    )
    outcomes = {
        outcome.name: outcome for outcome in do_import_photo_zip(archive, actor=cast.a1_registrar)
    }
    assert outcomes[f"{student.id_number}.jpg"].refusal == ""
    outside = "The file name points outside the archive's folder."
    for name in (
        "../../../etc/cron.d/evil.jpg",
        "/etc/passwd.jpg",
        "..\\..\\windows\\evil.jpg",
        "C:/evil.jpg",
    ):
        assert outcomes[name].refusal == outside, name
    assert outcomes["link.jpg"].refusal == "The file is a symbolic link, not a photo."
    assert outcomes["nested.zip"].refusal == "Only .jpg, .jpeg and .png files are accepted."
    assert "not a JPEG or PNG" in outcomes["3708280604_1_张小明.jpg"].refusal
    # Nothing was unpacked anywhere: the one stored file is the re-encoded photo.
    student.refresh_from_db()
    assert media() == [student.photo.name]


@pytest.mark.parametrize(
    "members, reason",
    [
        (
            {"110105194912310021.jpg": bytes(50 * 1024 * 1024)},
            "The archive is compressed suspiciously well; it does not hold photos.",
        ),
        (
            {f"{n:018d}.jpg": bytes(1024 * 1024) for n in range(600)},
            "The archive unpacks to %(size)s MB; at most %(limit)s MB are allowed.",
        ),
    ],
    ids=["ratio", "total"],
)
def test_a_zip_bomb_fails_the_job_with_a_clear_reason_and_stores_nothing(
    cast, client_for, media, members, reason
):
    job = zip_job(client_for(cast.a1_registrar), members)
    assert job.status == Job.Status.FAILED
    assert in_job_language(reason) % {"size": "600", "limit": "500"} in job.message
    assert "Traceback" not in job.message
    assert media() == []


def test_the_zip_report_shows_hostile_file_names_as_text_in_a_spreadsheet(
    cast, register, client_for
):
    register()
    job = zip_job(
        client_for(cast.a1_registrar),
        {'=HYPERLINK("http://x")|.jpg': portrait(), "+cmd.jpg": portrait(), "@sum.jpg": portrait()},
    )
    report = job.result_file.open("rb").read().decode("utf-8-sig")
    for line in report.splitlines()[1:]:
        assert line.startswith("'") or line.startswith("\"'"), line
