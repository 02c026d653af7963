"""Background jobs: queued from a page, run by `xueji worker`, progress shown."""

import pytest
from django.core.management import call_command

from xueji.core.jobs import do_enqueue_job, run_pending
from xueji.core.models import Job


def test_the_audit_verification_runs_as_a_background_job(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = client.post("/audit/verify/")
    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.QUEUED
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.percent == 100
    page = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert 'id="job-progress"' in page.text
    assert "hx-trigger" not in page.text  # finished: the page stops polling


def test_a_running_job_page_keeps_polling(cast, client_for):
    job = do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    page = client_for(cast.bureau_registrar).get(f"/jobs/{job.pk}/")
    assert 'hx-trigger="every 2s"' in page.text


@pytest.mark.audit_tampered
def test_a_broken_chain_fails_the_job_with_the_reason(cast):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE seq = 2")
    job = do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    assert run_pending() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "#2" in job.message


def test_nobody_sees_another_users_job(cast, client_for):
    job = do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    assert client_for(cast.bureau_leader).get(f"/jobs/{job.pk}/").status_code == 404


def test_a_school_cannot_start_the_audit_verification(cast, client_for):
    response = client_for(cast.a1_registrar).post("/audit/verify/")
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_job_left_running_by_a_stopped_worker_is_marked_failed(cast):
    from xueji.core.jobs import claim_next, fail_interrupted_jobs

    do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    job = claim_next()
    assert fail_interrupted_jobs() == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message


def test_a_result_file_is_downloaded_only_by_the_user_who_started_the_job(cast, client_for):
    from django.core.files.base import ContentFile

    job = do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    run_pending()
    job.refresh_from_db()
    job.result_file.save("result.txt", ContentFile(b"verified"), save=False)
    Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    response = client_for(cast.bureau_registrar).get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"verified"
    assert client_for(cast.bureau_leader).get(f"/jobs/{job.pk}/download/").status_code == 404
