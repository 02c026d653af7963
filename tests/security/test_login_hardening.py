"""Logging in (issue 8, P1): Argon2, lockout after five failures for an account or an
address, sessions that end after 30 idle minutes, passwords of at least 10 characters,
and seeded accounts that must choose their own password outside demo mode."""

import datetime
import http.cookiejar
import io
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import identify_hasher
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests.conftest import CAST_PASSWORD
from tests.core.test_cli import free_port
from xueji.audit.models import AuditEvent
from xueji.core import lockout
from xueji.core.scope import scope_for
from xueji.orgs import services
from xueji.orgs.models import Role, User


@pytest.fixture(autouse=True)
def _english():
    # The lock's message is asserted as its English msgid, whatever the catalogue says.
    with translation.override("en"):
        yield


def log_in(username, password, address="10.0.0.1", client=None):
    client = client or Client()
    client.cookies["django_language"] = "en"
    response = client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return client, response


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Argon2 and the validators ------------------------------------------------------------------


def test_the_production_hasher_is_argon2_and_stores_argon2_hashes(cast, settings):
    from xueji import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = services.do_create_user(
        actor=cast.bureau_registrar,
        unit=cast.school_b1,
        username="new-leader",
        password="a-long-enough-secret",
        role=Role.SCHOOL_LEADER,
    )
    assert identify_hasher(user.password).algorithm == "argon2"


def test_passwords_need_ten_characters_and_pass_djangos_validators():
    from xueji import settings as project_settings

    lengths = [
        validator.get("OPTIONS", {}).get("min_length")
        for validator in project_settings.AUTH_PASSWORD_VALIDATORS
        if validator["NAME"].endswith("MinimumLengthValidator")
    ]
    assert lengths == [10]
    for weak in ("nine-char", "1234567890", "password123"):
        with pytest.raises(ValidationError):
            password_validation.validate_password(weak)
    password_validation.validate_password("ten-chars!")


def test_the_bureau_cannot_give_a_short_password(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = client.post(
        "/api/v1/users",
        {
            "unit_id": cast.school_a1.pk,
            "username": "short-pw",
            "password": "short-pw1",
            "role": "school_leader",
        },
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["field"] == "password"
    assert not User.objects.filter(username="short-pw").exists()


# --- Lockout --------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes_and_say_until_when(cast):
    for attempt in range(4):
        _client, response = log_in("a1", "wrong-password", address=f"10.0.1.{attempt}")
        assert response.status_code == 200
    _client, response = log_in("a1", "wrong-password", address="10.0.1.9")
    assert response.status_code == 429
    until = timezone.localtime(timezone.now() + datetime.timedelta(minutes=15))
    assert "This account is locked for 15 minutes after 5 failed logins" in response.text
    assert re.search(r"Try again after \d\d:\d\d", response.text)
    assert until.strftime("%H:%M") in response.text or (
        (until - datetime.timedelta(minutes=1)).strftime("%H:%M") in response.text
    )
    # Even the right password is refused now, from any address.
    client, response = log_in("a1", CAST_PASSWORD, address="10.0.1.10")
    assert response.status_code == 429 and not logged_in(client)
    # A login name differing only in case is the same account.
    client, response = log_in("A1", CAST_PASSWORD, address="10.0.1.11")
    assert response.status_code == 429 and not logged_in(client)


def test_the_account_lock_ends_after_fifteen_minutes(cast):
    for attempt in range(5):
        log_in("a1", "wrong-password", address=f"10.0.2.{attempt}")
    lock = lockout.lock_of("a1", "10.0.2.99")
    assert lock is not None and lock.kind == lockout.ACCOUNT
    assert lock.until - timezone.now() <= datetime.timedelta(minutes=15)
    assert lock.until - timezone.now() > datetime.timedelta(minutes=14)
    assert lockout.lock_of("a1", "10.0.2.99", now=lock.until - datetime.timedelta(seconds=5))
    assert (
        lockout.lock_of("a1", "10.0.2.99", now=lock.until + datetime.timedelta(seconds=1)) is None
    )
    assert lockout.lock_of("b1", "10.0.2.99") is None  # another account is not locked


def test_a_password_reset_by_the_bureau_ends_the_account_lock(cast):
    for attempt in range(5):
        log_in("a1", "wrong-password", address=f"10.0.5.{attempt}")
    assert lockout.lock_of("a1", "10.0.5.99") is not None
    services.do_reset_password(cast.a1_registrar, "new-password-2026", actor=cast.bureau_registrar)
    assert lockout.lock_of("a1", "10.0.5.99") is None
    client, response = log_in("a1", "new-password-2026", address="10.0.5.50")
    assert response.status_code == 302 and logged_in(client)


def test_five_failures_from_one_address_lock_that_address_for_every_account(cast):
    for username in ("a1", "b1", "c", "nobody", "central-a"):
        _client, response = log_in(username, "wrong-password", address="192.0.2.7")
    assert response.status_code == 429
    assert "Logins from this computer are locked for 15 minutes" in response.text
    client, response = log_in("bureau", CAST_PASSWORD, address="192.0.2.7")
    assert response.status_code == 429 and not logged_in(client)
    client, response = log_in("bureau", CAST_PASSWORD, address="192.0.2.8")
    assert response.status_code == 302 and logged_in(client)


def test_the_address_is_the_one_django_sees_not_a_header_the_client_chooses(cast):
    for attempt in range(5):
        Client().post(
            "/login/",
            {"username": f"guess-{attempt}", "password": "wrong-password"},
            REMOTE_ADDR="192.0.2.20",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}",
        )
    assert lockout.lock_of("someone-else", "192.0.2.20") is not None


def test_a_successful_login_starts_the_account_count_again(cast):
    for attempt in range(4):
        log_in("a1", "wrong-password", address=f"10.0.3.{attempt}")
    client, response = log_in("a1", CAST_PASSWORD, address="10.0.3.50")
    assert logged_in(client)
    for attempt in range(4):
        _client, response = log_in("a1", "wrong-password", address=f"10.0.3.{attempt + 10}")
    assert response.status_code == 200
    assert lockout.lock_of("a1", "10.0.3.99") is None


def test_failures_and_the_lock_are_audited_and_the_bureau_sees_them(cast):
    for attempt in range(5):
        log_in("a1", "wrong-password", address=f"10.0.4.{attempt}")
    failed = AuditEvent.objects.filter(action="login.failed").order_by("seq")
    assert [event.data["address"] for event in failed] == [f"10.0.4.{n}" for n in range(5)]
    assert {event.data["username"] for event in failed} == {"a1"}
    locked = AuditEvent.objects.get(action="login.locked")
    assert locked.data["key"] == "account" and locked.data["username"] == "a1"
    assert locked.target_id == str(cast.a1_registrar.pk)
    assert locked.data["until"]
    seen = scope_for(cast.bureau_registrar).audit_events().filter(action__startswith="login.")
    assert seen.count() == 6
    # Attempts while locked are refused unchecked and write nothing.
    before = AuditEvent.objects.count()
    for attempt in range(3):
        log_in("a1", "wrong-password", address=f"10.0.4.{attempt + 20}")
    assert AuditEvent.objects.count() == before


def test_no_api_operation_takes_a_password_so_tokens_obey_the_login(cast, client):
    """API tokens are made by a logged-in session (POST /tokens) or by the operator
    (`xueji api_token create`): nothing in the API checks a password, so the lockout on
    the login is the only door."""
    from xueji.api.api import api

    document = api.get_openapi_schema()
    password_fields = sorted(
        name
        for name, schema in document["components"]["schemas"].items()
        if "password" in schema.get("properties", {})
    )
    # The bureau sets a user's first password (and resets it): those set, not check.
    assert password_fields == ["PasswordIn", "UserIn"]
    response = client.post(
        "/api/v1/tokens",
        {"name": "script", "username": "a1", "password": CAST_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_a_real_server_locks_the_clients_address_behind_the_trusted_proxy(tmp_path):
    """`xueji serve` behind the proxy: the client's address (X-Forwarded-For from the
    trusted proxy) is what five failures lock; another client of the same proxy logs in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XUEJI_", "PYTEST_", "DJANGO_SETTINGS"))
    }
    env["XUEJI_DATA_DIR"] = str(tmp_path)
    env["XUEJI_TRUSTED_PROXY"] = "127.0.0.1"
    xueji = [sys.executable, "-m", "xueji"]
    subprocess.run([*xueji, "migrate", "-v0"], env=env, check=True, cwd=tmp_path, timeout=180)
    subprocess.run(
        [
            *xueji,
            "init_county",
            "--code",
            "370828",
            "--name",
            "金乡县",
            "--bureau",
            "金乡县教育局",
            "--registrar",
            "jyj",
            "--password",
            "first-password-2026",
        ],
        env=env,
        check=True,
        cwd=tmp_path,
        timeout=120,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [*xueji, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def attempt(username: str, password: str, client_address: str) -> tuple[int, str]:
        """The answer's status and the path it ended on (redirects followed)."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        headers = {"X-Forwarded-For": client_address}
        page = opener.open(urllib.request.Request(f"{base}/login/", headers=headers), timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
        assert token is not None
        body = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
        ).encode()
        request = urllib.request.Request(f"{base}/login/", data=body, headers=headers)
        try:
            with opener.open(request, timeout=10) as reply:
                return reply.status, urllib.parse.urlsplit(reply.geturl()).path
        except urllib.error.HTTPError as error:
            return error.code, urllib.parse.urlsplit(error.geturl()).path

    try:
        for _attempt in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        for n in range(4):
            assert attempt(f"guess-{n}", "wrong-password", "203.0.113.7") == (200, "/login/")
        assert attempt("guess-4", "wrong-password", "203.0.113.7") == (429, "/login/")
        assert attempt("jyj", "first-password-2026", "203.0.113.7") == (429, "/login/")
        # The proxy's other client is not locked: the lock is on the client, not the proxy.
        # (Logged in, the seeded registrar lands on the password change.)
        assert attempt("jyj", "first-password-2026", "203.0.113.8") == (
            200,
            "/account/password/",
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- Sessions -------------------------------------------------------------------------------------


def test_a_session_ends_after_thirty_idle_minutes_and_each_request_extends_it(cast):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    client = Client()
    client.force_login(cast.a1_registrar)
    key = client.session.session_key

    def age(minutes: int) -> None:
        # The idle time is what is left of the session: aging it moves its end closer.
        session = Session.objects.get(session_key=key)
        session.expire_date = timezone.now() + datetime.timedelta(minutes=30 - minutes)
        session.save()

    age(29)
    assert client.get("/").status_code == 200
    left = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < left <= datetime.timedelta(minutes=30)
    age(31)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/api/v1/me").status_code == 401


def test_reading_pages_writes_the_session_at_most_once_a_minute(cast):
    """The end of a session moves with the requests, but a page read a second time within
    the minute writes nothing (saving the session was a database write per request)."""
    client = Client()
    client.force_login(cast.a1_registrar)
    assert client.get("/").status_code == 200
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/students/").status_code == 200
    assert not [q for q in captured if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
    assert Session.objects.get(session_key=key).expire_date == before


# --- Seeded accounts ----------------------------------------------------------------------------


def must_change_at_first_login(username: str, password: str) -> None:
    client = Client()
    assert client.login(username=username, password=password)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/account/password/"
    assert client.get("/students/").status_code == 302
    assert client.get("/api/v1/me").status_code == 403


@override_settings(DEMO_MODE=False)
def test_the_first_registrar_of_init_county_must_change_the_password(db):
    call_command(
        "init_county",
        "--code",
        "370828",
        "--name",
        "金乡县",
        "--bureau",
        "金乡县教育局",
        "--registrar",
        "jyj",
        "--password",
        "first-password-2026",
        stdout=io.StringIO(),
    )
    must_change_at_first_login("jyj", "first-password-2026")


@override_settings(DEMO_MODE=False)
def test_accounts_the_bureau_creates_must_change_the_password(cast, client_for):
    services.do_create_user(
        actor=cast.bureau_registrar,
        unit=cast.school_a1,
        username="by-service",
        password="given-password-1",
        role=Role.SCHOOL_LEADER,
    )
    response = client_for(cast.bureau_registrar).post(
        "/api/v1/users",
        {
            "unit_id": cast.school_b1.pk,
            "username": "by-api",
            "password": "given-password-2",
            "role": "school_leader",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    must_change_at_first_login("by-service", "given-password-1")
    must_change_at_first_login("by-api", "given-password-2")


@override_settings(DEMO_MODE=False)
def test_demo_accounts_must_change_the_password_when_demo_mode_is_off(db):
    from xueji.core.demo import DEMO_PASSWORD, load_demo_county

    load_demo_county(students=0)
    assert not User.objects.filter(must_change_password=False).exists()
    must_change_at_first_login("jyj", DEMO_PASSWORD)
    must_change_at_first_login("huji-dsxx", DEMO_PASSWORD)


@override_settings(DEMO_MODE=True)
def test_demo_mode_lets_the_printed_demo_logins_in(db):
    from xueji.core.demo import DEMO_PASSWORD, load_demo_county

    load_demo_county(students=0)
    client = Client()
    assert client.login(username="jyj", password=DEMO_PASSWORD)
    assert client.get("/").status_code == 200


def test_the_sessions_user_comes_with_their_unit_and_a_deactivated_one_with_nothing(cast):
    """The backend reads the session's user, their unit and its county in one query (every
    page asks for the unit next: scope, navigation, the county's school year); a
    deactivated account gets no user (P1)."""
    from xueji.core.lockout import LockoutBackend

    backend = LockoutBackend()
    with CaptureQueriesContext(connection) as captured:
        user = backend.get_user(cast.a1_registrar.pk)
        assert user is not None and user.unit.name == cast.school_a1.name
        assert user.unit.county.name == cast.school_a1.county.name
    assert len(captured) == 1
    assert backend.get_user(10**9) is None
    type(cast.a1_registrar).objects.filter(pk=cast.a1_registrar.pk).update(is_active=False)
    assert backend.get_user(cast.a1_registrar.pk) is None
