import json


def test_healthz_reports_the_database_state_without_login(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["pending_migrations"] == 0
    assert body["database"]["vendor"] in {"sqlite", "postgresql"}
