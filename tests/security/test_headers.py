"""Headers (issue 8): the CSRF token in every form, the strict Content Security Policy on
every page, secure cookies and HSTS behind TLS, and no debug page outside development.

The page checks walk every GET page of the URL resolver as every role of A1's side and as
a visitor, so a page added tomorrow is checked without editing this file.
"""

import json
import os
import subprocess
import sys

from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from tests.conftest import CAST_PASSWORD
from tests.security.test_access_walk import resolved
from tests.security.walk import Walker, post_forms
from tests.security.world import OWNER_ROLES

STRICT = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'")
# Uploaded files and downloads are served under a stricter policy still (nothing runs in
# them: tests/security/test_hostile_uploads.py proves what it keeps out).
NOTHING_RUNS = "default-src 'none'"


def policy_problems(answer) -> list[str]:
    policy = answer.response.get("Content-Security-Policy", "")
    where = f"{answer.method} {answer.path} ({answer.status})"
    is_page = "html" in answer.response.get("Content-Type", "")
    strict = NOTHING_RUNS in policy and not is_page
    missing = [] if strict else [part for part in STRICT if part not in policy]
    problems = [f"{where}: the policy lacks {missing}"] if missing else []
    if "unsafe-inline" in policy or "unsafe-eval" in policy:
        problems.append(f"{where}: the policy allows inline code")
    if answer.response.get("X-Frame-Options") != "DENY":
        problems.append(f"{where}: may be framed")
    if answer.response.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: content type may be sniffed")
    return problems


def test_every_page_has_the_strict_policy_and_every_post_form_the_csrf_token(world):
    """Every GET page as every role of A1's side and as a visitor (error pages and
    redirects included): the strict policy on every answer; every <form method=post> in
    an HTML page carries csrfmiddlewaretoken; a page with htmx posts gets the token in
    the header htmx sends (base.html's hx-headers)."""
    walker = Walker(world)
    routes, _missing = resolved(world)
    problems: list[str] = []
    forms = 0
    for role in (*OWNER_ROLES, "b1_registrar", "anonymous"):
        walker.act_as(role)
        for _route, page_path, _owner in routes:
            answer = walker.request("GET", page_path)
            problems += policy_problems(answer)
            if "html" not in answer.response.get("Content-Type", ""):
                continue
            for form in post_forms(answer.text, page_path):
                forms += 1
                if not form.has_csrf_token:
                    problems.append(
                        f"{role} GET {page_path}: a form posting to {form.action} has no CSRF token"
                    )
            if "hx-post" in answer.text and '"X-CSRFToken"' not in answer.text:
                problems.append(f"{role} GET {page_path}: htmx posts without the CSRF header")
    assert not problems, "\n".join(problems)
    assert forms > 100


def test_a_post_without_the_token_is_refused_for_the_pages_and_the_api(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.cast.a1_registrar)
    before = client.get("/api/v1/tokens").json()
    assert (
        client.post(f"/students/{world.student.pk}/reveal/", {"what": "id_number"}).status_code
        == 403
    )
    answer = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert answer.status_code == 403
    assert client.get("/api/v1/tokens").json() == before
    # The login form too: a cross-site page cannot log a browser into an account.
    assert (
        Client(enforce_csrf_checks=True)
        .post("/login/", {"username": "a1", "password": CAST_PASSWORD})
        .status_code
        == 403
    )


def test_api_answers_are_never_cached(world, client_for):
    client = client_for(world.cast.a1_registrar)
    for address in ("/api/v1/me", f"/api/v1/students/{world.student.pk}", "/api/v1/students"):
        assert client.get(address)["Cache-Control"] == "no-store"


# --- Behind TLS ---------------------------------------------------------------------------


def settings_in_a_fresh_process(tmp_path, **environment) -> dict:
    """The settings module as a deployment reads it: a new interpreter, no pytest, only
    the given XUEJI_* variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XUEJI_", "PYTEST_", "DJANGO_SETTINGS"))
    }
    env |= {
        "XUEJI_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "xueji.settings",
        **environment,
    }
    names = [
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_REDIRECT_EXEMPT",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_AGE",
        "MIDDLEWARE",
    ]
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(output.stdout)


def test_a_deployment_without_settings_has_no_debug_pages_and_plain_cookies(tmp_path):
    found = settings_in_a_fresh_process(tmp_path)
    assert found["DEBUG"] is False
    assert found["SESSION_COOKIE_HTTPONLY"] is True
    assert found["SESSION_COOKIE_AGE"] == 1800
    assert "xueji.core.middleware.IdleSessionMiddleware" in found["MIDDLEWARE"]
    assert found["SECURE_HSTS_SECONDS"] == 0 and found["SESSION_COOKIE_SECURE"] is False


def test_behind_tls_cookies_are_secure_and_hsts_is_sent(tmp_path, world):
    found = settings_in_a_fresh_process(tmp_path, XUEJI_HTTPS="1")
    assert found["SESSION_COOKIE_SECURE"] is True and found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    tls = {
        name: tuple(value)
        if isinstance(value, list) and name == "SECURE_PROXY_SSL_HEADER"
        else value
        for name, value in found.items()
        if name.startswith(("SECURE_", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"))
    }
    with override_settings(**tls):
        client = Client()
        # Plain HTTP is sent to HTTPS (the monitor's /healthz excepted).
        plain = client.get("/login/")
        assert plain.status_code == 301 and plain["Location"].startswith("https://")
        assert client.get("/healthz").status_code == 200
        # Through the proxy, which says the browser came over HTTPS.
        https = {"HTTP_X_FORWARDED_PROTO": "https"}
        page = client.get("/login/", **https)
        assert page.status_code == 200
        assert page["Strict-Transport-Security"].startswith("max-age=31536000")
        client.post("/login/", {"username": "a1", "password": CAST_PASSWORD}, **https)
        cookies = client.cookies
        assert cookies["sessionid"]["secure"] and cookies["sessionid"]["httponly"]
        assert cookies["csrftoken"]["secure"]
        assert cookies["sessionid"]["samesite"] == "Lax"


# --- No debug pages ----------------------------------------------------------------------------


def broken_view(request):
    raise RuntimeError("boom: secret detail 4711")


def fine_view(request):
    return HttpResponse("fine")


urlpatterns = [
    path("broken/", broken_view),
    path("fine/", fine_view),
    path("", include("xueji.urls")),
]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_shows_our_page_without_a_traceback(db):
    answer = Client(raise_request_exception=False).get("/broken/")
    assert answer.status_code == 500
    assert "Server error" in answer.text and "系统错误" in answer.text
    for leak in ("Traceback", "boom", "4711", "RuntimeError", "settings", "/work/"):
        assert leak not in answer.text
    assert "script-src 'self'" in answer["Content-Security-Policy"]


def test_not_found_and_forbidden_pages_are_ours_and_say_nothing_more(world, client_for):
    client = client_for(world.cast.b1_registrar)
    for address, status in (
        ("/no-such-page/", 404),
        ("/setup/users/", 403),
        (f"/students/{world.student.pk}/", 404),
    ):
        answer = client.get(address)
        assert answer.status_code == status
        assert "/static/xueji/xueji.css" in answer.text  # our template, not Django's
        assert "Traceback" not in answer.text and "URLconf" not in answer.text
    # Uploaded files are never served from /media/ outside development.
    assert client.get("/media/evidence/anything.jpg").status_code == 404
