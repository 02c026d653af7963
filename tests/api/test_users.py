"""Users through the API: read in scope, written through the orgs services, never a hash."""

from django.utils import translation
from django.utils.translation import gettext

from xueji.audit.models import AuditEvent
from xueji.orgs.models import Role, User

NEW_PASSWORD = "first-password-2026"


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def test_creating_a_user_writes_the_audit_event_with_the_caller_as_actor(cast, client_for):
    response = post(
        client_for(cast.bureau_registrar),
        "/api/v1/users",
        {
            "unit_id": cast.school_b1.pk,
            "username": "b1-leader",
            "password": NEW_PASSWORD,
            "role": "school_leader",
            "full_name": "王校长",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["unit_id"] == cast.school_b1.pk
    assert body["must_change_password"] is True
    assert "password" not in body
    user = User.objects.get(pk=body["id"])
    assert user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="user.created", target_id=str(user.pk))
    assert event.actor == cast.bureau_registrar
    assert event.unit == cast.school_b1


def test_a_role_that_does_not_fit_the_unit_answers_400_on_the_role(cast, client_for):
    response = post(
        client_for(cast.bureau_registrar),
        "/api/v1/users",
        {
            "unit_id": cast.school_b1.pk,
            "username": "b1-central",
            "password": NEW_PASSWORD,
            "role": "central_registrar",
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "role"
    assert not User.objects.filter(username="b1-central").exists()


def test_a_taken_login_name_answers_400_with_the_message(cast, client_for):
    response = post(
        client_for(cast.bureau_registrar),
        "/api/v1/users",
        {
            "unit_id": cast.school_b1.pk,
            "username": cast.b1_registrar.username.upper(),
            "password": NEW_PASSWORD,
            "role": "school_leader",
        },
    )
    assert response.status_code == 400
    with translation.override("zh-hans"):
        expected = gettext("Login name: %(username)s is already taken.") % {
            "username": cast.b1_registrar.username.upper()
        }
    assert response.json() == {"detail": expected, "field": "username"}


def test_a_school_registrar_may_not_create_users(cast, client_for):
    response = post(
        client_for(cast.a1_registrar),
        "/api/v1/users",
        {
            "unit_id": cast.school_a1.pk,
            "username": "a1-helper",
            "password": NEW_PASSWORD,
            "role": "school_leader",
        },
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="a1-helper").exists()


def test_a_user_outside_the_scope_answers_404_like_a_missing_one(cast, client_for):
    client = client_for(cast.a1_registrar)
    outside = client.get(f"/api/v1/users/{cast.b1_registrar.pk}")
    missing = client.get("/api/v1/users/999999")
    assert outside.status_code == 404
    assert outside.json() == missing.json()
    assert client.get(f"/api/v1/users/{cast.a1_leader.pk}").status_code == 200


def test_the_user_list_stays_in_scope_and_filters(cast, client_for):
    client = client_for(cast.central_a_registrar)
    names = {user["username"] for user in client.get("/api/v1/users").json()}
    assert names == {"central-a", "a1", "a1-leader"}
    leaders = client.get("/api/v1/users", {"role": "school_leader"}).json()
    assert [user["username"] for user in leaders] == ["a1-leader"]
    designated = client.get("/api/v1/users", {"designated": "true", "unit": cast.school_a1.pk})
    assert [user["username"] for user in designated.json()] == ["a1"]
    assert [u["username"] for u in client.get("/api/v1/users", {"q": "LEADER"}).json()] == [
        "a1-leader"
    ]


def test_no_user_answer_carries_a_password_hash(cast, client_for):
    client = client_for(cast.bureau_registrar)
    for path in ("/api/v1/users", f"/api/v1/users/{cast.a1_registrar.pk}", "/api/v1/me"):
        text = client.get(path).content.decode()
        assert '"password"' not in text
        assert cast.a1_registrar.password not in text
        assert "md5$" not in text and "argon2" not in text


def test_changing_a_user_is_audited_and_an_outside_unit_is_404(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = client.patch(
        f"/api/v1/users/{cast.a1_leader.pk}",
        {"full_name": "李校长", "phone": "13800000000"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["full_name"] == "李校长"
    event = AuditEvent.objects.get(action="user.updated", target_id=str(cast.a1_leader.pk))
    assert event.actor == cast.bureau_registrar
    assert event.data["changes"]["full_name"] == ["a1-leader", "李校长"]

    central = client_for(cast.central_a_registrar)
    response = central.patch(
        f"/api/v1/users/{cast.a1_leader.pk}",
        {"unit_id": cast.school_b1.pk},
        content_type="application/json",
    )
    assert response.status_code == 403  # a central registrar has no setup capability


def test_designating_a_registrar_relieves_the_previous_one(cast, client_for):
    client = client_for(cast.bureau_registrar)
    created = post(
        client,
        "/api/v1/users",
        {
            "unit_id": cast.school_a1.pk,
            "username": "a1-second",
            "password": NEW_PASSWORD,
            "role": Role.SCHOOL_REGISTRAR.value,
        },
    ).json()
    response = post(client, f"/api/v1/users/{created['id']}/designate")
    assert response.status_code == 200, response.content
    assert response.json()["is_designated_registrar"] is True
    cast.a1_registrar.refresh_from_db()
    assert cast.a1_registrar.is_designated_registrar is False
    relieved = AuditEvent.objects.get(action="user.registrar_relieved")
    assert relieved.actor == cast.bureau_registrar


def test_a_leader_cannot_be_designated(cast, client_for):
    response = post(
        client_for(cast.bureau_registrar), f"/api/v1/users/{cast.a1_leader.pk}/designate"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "is_designated_registrar"


def test_resetting_a_password_forces_a_change_and_is_audited(cast, client_for):
    client = client_for(cast.bureau_registrar)
    path = f"/api/v1/users/{cast.b1_registrar.pk}/reset-password"
    weak = post(client, path, {"password": "123"})
    assert weak.status_code == 400
    assert weak.json()["field"] == "password"
    response = post(client, path, {"password": NEW_PASSWORD})
    assert response.status_code == 200
    cast.b1_registrar.refresh_from_db()
    assert cast.b1_registrar.check_password(NEW_PASSWORD)
    assert cast.b1_registrar.must_change_password is True
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.actor == cast.bureau_registrar
    assert NEW_PASSWORD not in str(event.data)
