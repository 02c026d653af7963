"""Security headers, the first-login password change and the idle end of sessions."""

import time

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

# Strict from the first template on: no inline script or style, nothing from outside.
# htmx is configured (base.html meta tag) to add no inline styles and never to eval.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(self), microphone=(), geolocation=()"
        )
        # An API answer is one caller's view of children's data (a revealed ID number,
        # say): no cache, shared or private, keeps it unless the operation says otherwise.
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class PasswordChangeRequiredMiddleware:
    """Outside demo mode, an account with a set or reset password must choose its own
    before it can do anything else."""

    ALLOWED_PREFIXES = ("/account/password/", "/logout/", "/static/", "/healthz", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            not settings.DEMO_MODE
            and user is not None
            and user.is_authenticated
            and user.must_change_password
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and not request.path.startswith("/api/")
        ):
            return redirect(reverse("password_change"))
        return self.get_response(request)


class IdleSessionMiddleware:
    """Sessions end after SESSION_COOKIE_AGE idle seconds (30 minutes): each request moves
    the end forward. Saving the session on every request did that at the cost of a
    database write per page, a search as much as a form; the end is moved at most once a
    minute instead, so a session ends between 29 and 30 idle minutes after its last
    request, and reading pages writes nothing."""

    TOUCHED = "_xueji_touched"
    EVERY_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and not session.is_empty():
            now = int(time.time())
            if now - int(session.get(self.TOUCHED, 0)) >= self.EVERY_SECONDS:
                session[self.TOUCHED] = now  # modified: the session and its end are saved
        return response
