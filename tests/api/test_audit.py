"""The audit trail through the API (B6): events in scope, and the verification job."""

from xueji.audit.models import AuditEvent
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.orgs.services import do_update_user


def test_the_bureau_reads_events_newest_first_with_a_count(cast, client_for):
    response = client_for(cast.bureau_registrar).get("/api/v1/audit/events", {"limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == AuditEvent.objects.exclude(unit=None).count()
    seqs = [event["seq"] for event in body["items"]]
    assert len(seqs) == 3
    assert seqs == sorted(seqs, reverse=True)


def test_events_filter_by_action_prefix_actor_and_target(cast, client_for):
    do_update_user(cast.a1_leader, actor=cast.bureau_registrar, full_name="李校长")
    client = client_for(cast.bureau_leader)

    def actions(query):
        body = client.get("/api/v1/audit/events", query).json()
        return [event["action"] for event in body["items"]]

    assert set(actions({"action": "user."})) == {"user.created", "user.updated"}
    assert actions({"actor": cast.bureau_registrar.pk}) == ["user.updated"]
    target = {"target_type": "orgs.user", "target_id": str(cast.a1_leader.pk)}
    assert actions(target) == ["user.updated", "user.created"]
    # The cast's units came from the system; the bureau sees those events too.
    assert {"township.created", "school.created"} <= set(actions({"target_type": "orgs.unit"}))


def test_a_school_registrar_may_not_read_the_audit_trail_or_verify_it(cast, client_for):
    client = client_for(cast.a1_registrar)
    assert client.get("/api/v1/audit/events").status_code == 403
    assert client.post("/api/v1/audit/verify").status_code == 403
    assert not Job.objects.exists()


def test_verify_queues_the_job_and_the_caller_follows_it_to_the_end(cast, client_for):
    client = client_for(cast.bureau_leader)
    response = client.post("/api/v1/audit/verify")
    assert response.status_code == 202, response.content
    job = response.json()
    assert (job["kind"], job["status"], job["percent"]) == ("audit.verify", "queued", 0)
    queued = AuditEvent.objects.get(action="job.queued", target_id=str(job["id"]))
    assert queued.actor == cast.bureau_leader

    run_pending()
    done = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert done["status"] == "done"
    assert done["percent"] == 100
    assert done["finished"] is True
    assert done["message"]
