"""B3: one photo from the student page, many in a ZIP as a background job with a report;
photos are served only through the scope."""

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from xueji.audit.models import AuditEvent
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.students.services import do_lock_record

LIGHT_BLUE = (160, 200, 240)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def photo_bytes(width=400, height=500) -> bytes:
    """A light-blue portrait, larger than the standard's 358 × 441."""
    image = Image.new("RGB", (width, height), LIGHT_BLUE)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.7), fill=(205, 160, 130))
    draw.ellipse((width * 0.1, height * 0.75, width * 0.9, height * 1.3), fill=(40, 50, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def upload(name="photo.jpg", data=None, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data if data is not None else photo_bytes(), content_type)


def test_a_single_photo_upload_stores_a_jpeg(cast, client_for, register):
    student = register().student
    client = client_for(cast.a1_registrar)
    assert client.get(f"/students/{student.pk}/photo/upload/").status_code == 200

    response = client.post(f"/students/{student.pk}/photo/upload/", {"photo": upload()})

    assert response.status_code == 302 and response["Location"] == f"/students/{student.pk}/"
    student.refresh_from_db()
    assert student.photo.name.endswith(".jpg")
    with student.photo.open("rb") as stored:
        assert stored.read(3) == b"\xff\xd8\xff"
    assert AuditEvent.objects.get(action="student.photo_set").actor == cast.a1_registrar


def test_the_photo_is_served_only_within_the_scope(cast, client_for, register):
    student = register().student
    client_for(cast.a1_registrar).post(f"/students/{student.pk}/photo/upload/", {"photo": upload()})

    own = client_for(cast.a1_registrar).get(f"/students/{student.pk}/photo/")
    assert own.status_code == 200
    assert own["Content-Type"] == "image/jpeg"
    assert b"".join(own.streaming_content)[:3] == b"\xff\xd8\xff"
    assert (
        client_for(cast.bureau_registrar).get(f"/students/{student.pk}/photo/").status_code == 200
    )
    assert client_for(cast.b1_registrar).get(f"/students/{student.pk}/photo/").status_code == 404


def test_the_student_page_shows_the_photo_through_the_scoped_view(cast, client_for, register):
    student = register().student
    client = client_for(cast.a1_registrar)
    client.post(f"/students/{student.pk}/photo/upload/", {"photo": upload()})

    page = client.get(f"/students/{student.pk}/")

    assert f'src="/students/{student.pk}/photo/"' in page.text
    assert "/media/" not in page.text


def test_a_student_without_a_photo_has_none_to_serve(cast, client_for, register):
    student = register().student

    assert client_for(cast.a1_registrar).get(f"/students/{student.pk}/photo/").status_code == 404


def test_a_file_that_is_not_an_image_is_refused_on_the_field(cast, client_for, register):
    student = register().student

    response = client_for(cast.a1_registrar).post(
        f"/students/{student.pk}/photo/upload/",
        {"photo": upload("photo.jpg", b"not an image at all", "image/jpeg")},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["photo"]
    student.refresh_from_db()
    assert not student.photo


def test_a_locked_records_photo_is_refused(cast, client_for, register):
    done = register()
    do_lock_record(done.record, actor=cast.bureau_registrar)

    response = client_for(cast.a1_registrar).post(
        f"/students/{done.student.pk}/photo/upload/", {"photo": upload()}
    )

    assert response.context["form"].errors["photo"]
    done.student.refresh_from_db()
    assert not done.student.photo


def test_another_schools_registrar_may_not_upload(cast, client_for, register):
    student = register().student

    response = client_for(cast.b1_registrar).post(
        f"/students/{student.pk}/photo/upload/", {"photo": upload()}
    )

    assert response.status_code == 404


def test_the_photo_page_finds_students_by_name(cast, client_for, register):
    student = register().student

    page = client_for(cast.a1_registrar).get("/students/photos/", {"q": "张小明"})

    assert f"/students/{student.pk}/photo/upload/" in page.text


def test_a_leader_may_not_collect_photos(cast, client_for):
    assert client_for(cast.a1_leader).get("/students/photos/").status_code == 403


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_upload_runs_as_a_job_that_stores_photos_and_reports_refusals(
    cast, client_for, register
):
    student = register().student
    other = register(name="李四", sequence=2).student
    client = client_for(cast.a1_registrar)
    archive = zip_of(
        {
            f"{student.id_number}.jpg": photo_bytes(),
            "nobody_knows.jpg": photo_bytes(),
            f"{other.id_number}.jpg": b"not a photo",
        }
    )

    response = client.post(
        "/students/photos/zip/",
        {"archive": SimpleUploadedFile("photos.zip", archive, "application/zip")},
    )

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.kind == "photos.import_zip" and job.created_by == cast.a1_registrar
    upload_path = job.params["path"]
    assert upload_path.startswith("uploads/photos/") and default_storage.exists(upload_path)

    assert run_pending() == 1

    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    student.refresh_from_db()
    other.refresh_from_db()
    assert student.photo and not other.photo
    assert not default_storage.exists(upload_path)
    report = job.result_file.open("rb").read()
    assert report.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    text = report.decode("utf-8-sig")
    assert "nobody_knows.jpg" in text and f"{other.id_number}.jpg" in text
    assert student.name in text
    assert len(text.strip().splitlines()) == 4
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download.status_code == 200


def test_a_file_that_is_not_a_zip_fails_the_job_with_the_reason(cast, client_for):
    client = client_for(cast.a1_registrar)
    client.post(
        "/students/photos/zip/",
        {"archive": SimpleUploadedFile("photos.zip", b"not a zip", "application/zip")},
    )

    run_pending()

    job = Job.objects.get()
    assert job.status == Job.Status.FAILED and job.message
    assert not default_storage.exists(job.params["path"])


def test_a_zip_upload_needs_a_file(cast, client_for):
    response = client_for(cast.a1_registrar).post("/students/photos/zip/", {})

    assert response.status_code == 400
    assert not Job.objects.exists()
