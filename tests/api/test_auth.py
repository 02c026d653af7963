"""Who gets in: the session (with CSRF), a bearer token, and nobody else."""

import json

import pytest
from django.test import Client

from xueji.api.models import ApiToken
from xueji.api.services import do_create_api_token, do_revoke_api_token, hash_token
from xueji.orgs.services import do_update_user


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def every_operation(client):
    document = json.loads(client.get("/api/v1/openapi.json").content)
    for path, methods in document["paths"].items():
        concrete = path
        for name in (
            "unit_id",
            "user_id",
            "day_id",
            "job_id",
            "token_id",
            "student_id",
            "record_id",
            "candidate_id",
            "request_id",
            "evidence_id",
            "session_id",
            "entry_id",
            "school_id",
        ):
            concrete = concrete.replace("{" + name + "}", "1")
        concrete = concrete.replace("{start_year}", "2026").replace("{table}", "ethnicity")
        for method in methods:
            yield method, concrete


def test_anonymous_gets_401_on_every_operation(cast):
    client = Client(enforce_csrf_checks=True)
    checked = 0
    for method, path in every_operation(client):
        response = client.generic(method.upper(), path, "{}", content_type="application/json")
        assert response.status_code == 401, (method, path, response.content)
        checked += 1
    # Every operation of the document is covered; the count only guards the loop itself.
    assert checked >= 71


def test_a_token_reads_and_writes_without_a_session_or_csrf(cast):
    _token, plain = do_create_api_token(actor=cast.bureau_registrar, name="nightly import")
    client = Client(enforce_csrf_checks=True)
    me = client.get("/api/v1/me", **bearer(plain))
    assert me.status_code == 200
    assert me.json()["user"]["username"] == cast.bureau_registrar.username
    created = client.post(
        "/api/v1/calendar-days",
        {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"},
        content_type="application/json",
        **bearer(plain),
    )
    assert created.status_code == 200, created.content


def test_a_session_write_without_the_csrf_token_is_refused(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bureau_registrar)
    assert client.get("/api/v1/me").status_code == 200
    response = client.post(
        "/api/v1/calendar-days",
        {"date": "2026-10-01", "kind": "holiday"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_a_session_write_with_the_csrf_token_passes(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bureau_registrar)
    csrf = "k" * 32  # a valid CSRF secret, as the browser's cookie would carry it
    client.cookies["csrftoken"] = csrf
    response = client.post(
        "/api/v1/calendar-days",
        {"date": "2026-10-01", "kind": "holiday"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code == 200, response.content


def test_a_revoked_token_is_refused(cast):
    token, plain = do_create_api_token(actor=cast.a1_registrar, name="script")
    client = Client()
    assert client.get("/api/v1/me", **bearer(plain)).status_code == 200
    do_revoke_api_token(token, actor=cast.a1_registrar)
    assert client.get("/api/v1/me", **bearer(plain)).status_code == 401


def test_an_inactive_users_token_is_refused(cast):
    _token, plain = do_create_api_token(actor=cast.a1_leader, name="script")
    do_update_user(cast.a1_leader, actor=cast.bureau_registrar, is_active=False)
    assert Client().get("/api/v1/me", **bearer(plain)).status_code == 401


@pytest.mark.parametrize("header", ["Bearer xj_not-a-token", "Bearer ", "Token abc", "Basic YTpi"])
def test_an_unknown_or_malformed_token_is_refused(cast, header):
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_only_the_hash_of_a_token_is_stored_and_its_use_is_noted(cast):
    token, plain = do_create_api_token(actor=cast.a1_registrar, name="script")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hash_token(plain)
    assert plain not in {stored.token_hash, stored.prefix, stored.name}
    assert stored.last_used_at is None
    Client().get("/api/v1/me", **bearer(plain))
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_an_account_that_must_change_its_password_is_refused(cast, client):
    user = cast.a1_leader
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    _token, plain = do_create_api_token(actor=user, name="script")
    assert Client().get("/api/v1/me", **bearer(plain)).status_code == 403
    client.force_login(user)
    assert client.get("/api/v1/me").status_code == 403
