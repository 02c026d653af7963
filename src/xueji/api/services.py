"""Every change to API tokens: `do_<verb>_api_token(..., *, actor)`, audited in one transaction.

A token is `xj_` followed by 43 random URL-safe characters (256 bits). The database keeps
only its SHA-256: a token is random enough that a plain hash is safe, and a hash lets the
API find the token with one indexed lookup on every request.
"""

import datetime
import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.api.models import NAME_MAX_LENGTH, ApiToken
from xueji.audit.services import record_event
from xueji.core.errors import RuleViolation

TOKEN_PREFIX = "xj_"
# last_used_at is a hint for the owner, not an audit record: writing it at most once a
# minute keeps a busy script from turning every read into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def do_create_api_token(*, actor, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor themselves; returns it with the plain token, shown once."""
    if actor is None or not actor.is_active:
        raise PermissionDenied(_("Your role may not do this."))
    name = name.strip()
    if not name:
        raise RuleViolation(
            _("Name: give the token a name, e.g. the script that uses it."), field="name"
        )
    if len(name) > NAME_MAX_LENGTH:
        raise RuleViolation(
            _("Name: use at most %(count)d characters.") % {"count": NAME_MAX_LENGTH},
            field="name",
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor, name=name, prefix=plain[:8], token_hash=hash_token(plain)
        )
        record_event(
            "api_token.created",
            actor=actor,
            target=token,
            data={"name": token.name, "prefix": token.prefix},
        )
    return token, plain


def do_revoke_api_token(token: ApiToken, *, actor) -> ApiToken:
    """Revoke one of the actor's own tokens; revoking a revoked token changes nothing."""
    if actor is None or token.user_id != actor.pk:
        raise PermissionDenied(_("Your role may not do this."))
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked:
            return token
        token.revoked = True
        token.save(update_fields=["revoked"])
        record_event(
            "api_token.revoked",
            actor=actor,
            target=token,
            data={"name": token.name, "prefix": token.prefix},
        )
    return token


def user_for_token(plain: str):
    """The active user a token belongs to, or None for an unknown, revoked or orphaned one."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user__unit")
        .filter(token_hash=hash_token(plain), revoked=False)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
