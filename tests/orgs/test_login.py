"""Logging in and out, passwords (Argon2, at least 10 characters), first-login change."""

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings

from tests.conftest import CAST_PASSWORD
from xueji.core.errors import RuleViolation
from xueji.orgs import services
from xueji.orgs.models import Role


def test_passwords_are_hashed_with_argon2(cast, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = services.do_reset_password(
        cast.a1_registrar, "a-new-long-password-7", actor=cast.bureau_registrar
    )
    assert identify_hasher(user.password).algorithm == "argon2"
    from xueji import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_the_login_page_is_chinese_and_logs_a_registrar_in(cast, client):
    page = client.get("/login/")
    assert "登录" in page.text
    response = client.post("/login/", {"username": "a1", "password": CAST_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == cast.a1_registrar


def test_a_wrong_password_is_refused_with_a_chinese_message(cast, client):
    response = client.post("/login/", {"username": "a1", "password": "wrong-password"})
    assert response.status_code == 200
    assert "密码" in response.text
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(cast, client):
    client.force_login(cast.a1_registrar)
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_pages_need_a_login(db, client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_short_or_numeric_password_is_refused(cast):
    for weak in ("short-pw", "1234567890123"):
        with pytest.raises(RuleViolation) as refused:
            services.do_create_user(
                actor=cast.bureau_registrar,
                unit=cast.school_a1,
                username="new-teacher",
                password=weak,
                role=Role.SCHOOL_LEADER,
            )
        assert refused.value.field == "password"


def test_a_reset_password_must_be_changed_at_the_next_login(cast, client):
    services.do_reset_password(
        cast.a1_registrar, "temporary-password-1", actor=cast.bureau_registrar
    )
    client.post("/login/", {"username": "a1", "password": "temporary-password-1"})
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/account/password/"
    client.post(
        "/account/password/",
        {
            "old_password": "temporary-password-1",
            "new_password": "my-own-password-42",
            "new_password_again": "my-own-password-42",
        },
    )
    assert client.get("/").status_code == 200


@override_settings(DEMO_MODE=True)
def test_demo_mode_lets_seeded_accounts_in_without_a_change(cast, client):
    services.do_reset_password(
        cast.a1_registrar, "temporary-password-1", actor=cast.bureau_registrar
    )
    client.post("/login/", {"username": "a1", "password": "temporary-password-1"})
    assert client.get("/").status_code == 200


def test_sessions_end_after_thirty_idle_minutes(settings):
    # Requests move the end; tests/security/test_login_hardening.py proves how.
    assert settings.SESSION_COOKIE_AGE == 1800
    assert "xueji.core.middleware.IdleSessionMiddleware" in settings.MIDDLEWARE


def test_a_refused_page_says_why_in_the_users_language(cast, client_for):
    response = client_for(cast.a1_registrar).get("/setup/users/")
    assert response.status_code == 403
    assert "<h1>" in response.text and "/static/xueji/xueji.css" in response.text


def test_the_operator_resets_a_password_from_the_command_line_and_it_is_audited(cast):
    import io

    from django.core.management import call_command

    from xueji.audit.models import AuditEvent

    call_command("reset_password", "a1", "--password", "operator-set-pw-1", stdout=io.StringIO())
    cast.a1_registrar.refresh_from_db()
    assert cast.a1_registrar.check_password("operator-set-pw-1")
    assert cast.a1_registrar.must_change_password
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.actor, event.actor_label) == ("user.password_reset", None, "system")
