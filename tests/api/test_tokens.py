"""API tokens: created for yourself once, listed without secrets, revoked, all audited."""

from django.test import Client

from xueji.api.models import ApiToken
from xueji.api.services import do_create_api_token, hash_token
from xueji.audit.models import AuditEvent


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(cast, client_for):
    client = client_for(cast.a1_registrar)
    response = client.post(
        "/api/v1/tokens", {"name": "花名册脚本"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    plain = body["token"]
    assert plain.startswith("xj_") and len(plain) > 40
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == cast.a1_registrar
    assert token.token_hash == hash_token(plain)
    event = AuditEvent.objects.get(action="api_token.created", target_id=str(token.pk))
    assert event.actor == cast.a1_registrar
    assert plain not in str(event.data) and token.token_hash not in str(event.data)

    listed = client.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [token.pk]
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    assert Client().get("/api/v1/me", **bearer(plain)).json()["user"]["id"] == cast.a1_registrar.pk


def test_a_token_without_a_name_is_refused_on_the_name(cast, client_for):
    response = client_for(cast.a1_registrar).post(
        "/api/v1/tokens", {"name": "  "}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "name"
    assert not ApiToken.objects.exists()


def test_a_token_cannot_mint_another_token(cast):
    _token, plain = do_create_api_token(actor=cast.a1_registrar, name="script")
    response = Client().post(
        "/api/v1/tokens", {"name": "copy"}, content_type="application/json", **bearer(plain)
    )
    assert response.status_code == 401
    assert ApiToken.objects.count() == 1


def test_revoking_a_token_is_audited_and_the_token_stops_working(cast):
    token, plain = do_create_api_token(actor=cast.a1_registrar, name="script")
    client = Client()
    response = client.delete(f"/api/v1/tokens/{token.pk}", **bearer(plain))
    assert response.status_code == 204
    token.refresh_from_db()
    assert token.revoked is True
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.actor == cast.a1_registrar
    assert client.get("/api/v1/tokens", **bearer(plain)).status_code == 401


def test_nobody_sees_or_revokes_another_users_token(cast, client_for):
    theirs, _plain = do_create_api_token(actor=cast.b1_registrar, name="script")
    client = client_for(cast.bureau_registrar)
    assert client.get("/api/v1/tokens").json() == []
    assert client.delete(f"/api/v1/tokens/{theirs.pk}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked is False
