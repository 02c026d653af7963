"""A strict Content Security Policy from the first template on, and nothing from outside."""

import re
from pathlib import Path

import xueji

SOURCE = Path(xueji.__file__).parent
TEMPLATES = sorted(SOURCE.rglob("templates/**/*.html"))


def test_every_page_carries_the_strict_policy(cast, client_for):
    response = client_for(cast.bureau_registrar).get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_inline_script_or_style():
    assert TEMPLATES
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert "<style" not in text, template
        assert not re.search(r"\sstyle\s*=", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template  # onclick= and friends


def test_no_template_or_stylesheet_loads_anything_from_outside():
    for path in [*TEMPLATES, *SOURCE.rglob("static/xueji/*")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), path
        assert "@import url(http" not in text, path


def test_htmx_is_served_from_our_own_static_files(cast, client_for):
    page = client_for(cast.a1_registrar).get("/")
    assert "/static/django_htmx/htmx-2.min.js" in page.text
    assert '"allowEval": false' in page.text


def test_forms_carry_the_csrf_token(cast, client_for):
    page = client_for(cast.bureau_registrar).get("/setup/calendar/")
    assert page.text.count("csrfmiddlewaretoken") >= 2


def test_a_post_without_the_csrf_token_is_refused(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.bureau_registrar)
    response = client.post("/setup/calendar/days/", {"date": "2026-10-01", "kind": "holiday"})
    assert response.status_code == 403
