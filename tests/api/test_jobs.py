"""Background jobs through the API: each caller sees their own."""

from xueji.core.jobs import do_enqueue_job


def test_a_caller_lists_their_own_jobs_and_not_anyone_elses(cast, client_for):
    mine = do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    do_enqueue_job("audit.verify", actor=cast.bureau_leader)
    response = client_for(cast.bureau_registrar).get("/api/v1/jobs")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [job["id"] for job in body["items"]] == [mine.pk]
    assert body["items"][0]["total"] == 0


def test_another_users_job_answers_404_like_a_missing_one(cast, client_for):
    theirs = do_enqueue_job("audit.verify", actor=cast.bureau_leader)
    client = client_for(cast.bureau_registrar)
    outside = client.get(f"/api/v1/jobs/{theirs.pk}")
    assert outside.status_code == 404
    assert outside.json() == client.get("/api/v1/jobs/999999").json()


def test_the_job_list_filters_by_status(cast, client_for):
    do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    client = client_for(cast.bureau_registrar)
    assert client.get("/api/v1/jobs", {"status": "queued"}).json()["count"] == 1
    assert client.get("/api/v1/jobs", {"status": "done"}).json()["count"] == 0


def test_a_role_that_runs_no_jobs_may_not_list_them(cast, client_for):
    assert client_for(cast.a1_leader).get("/api/v1/jobs").status_code == 403
    assert client_for(cast.a1_registrar).get("/api/v1/jobs").status_code == 200


def test_a_script_downloads_its_finished_jobs_result_and_no_one_elses(cast, client_for):
    """Bulk prints and large exports answer 202 with a job; the file comes from here."""
    from django.core.files.base import ContentFile

    from xueji.core.jobs import run_pending
    from xueji.core.models import Job

    job = do_enqueue_job("audit.verify", actor=cast.bureau_registrar)
    run_pending()
    job.refresh_from_db()
    job.result_file.save("result.txt", ContentFile(b"verified"), save=False)
    Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    response = client_for(cast.bureau_registrar).get(f"/api/v1/jobs/{job.pk}/result")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"verified"
    assert "attachment" in response["Content-Disposition"]
    assert client_for(cast.bureau_leader).get(f"/api/v1/jobs/{job.pk}/result").status_code == 404
