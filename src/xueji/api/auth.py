"""The API's two ways in: the browser session (with CSRF) and a bearer token (scripts).

The token is tried first: a request that carries a valid token is a script's, and needs no
CSRF token because browsers never add an Authorization header on their own. Without one,
the session is checked, and only for a logged-in user is CSRF enforced, so an anonymous
caller always gets 401 rather than a CSRF failure.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth as NinjaSessionAuth

from xueji.api.services import user_for_token


def _refuse_until_password_changed(user) -> None:
    """The API keeps the first-login rule of PasswordChangeRequiredMiddleware: an account
    with a set or reset password chooses its own in the web UI before it does anything."""
    if not settings.DEMO_MODE and user.must_change_password:
        raise PermissionDenied(_("Change your password in the web interface first."))


class SessionAuth(NinjaSessionAuth):
    """ninja's django_auth, checking CSRF only once the session names a user."""

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        user = super().__call__(request)  # runs the CSRF check on unsafe methods
        if user is not None:
            _refuse_until_password_changed(user)
        return user


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = user_for_token(token.strip())
        if user is None:
            return None
        _refuse_until_password_changed(user)
        # Code that reads request.user (logging, scope helpers) sees the token's owner.
        request.user = user
        return user


session_auth = SessionAuth()
token_auth = TokenAuth()
