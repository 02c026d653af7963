"""Login lockout (issue 8): five failed logins for one account, or from one address, lock
that account or address for fifteen minutes.

The lock is enforced by the authentication backend, so every way of logging in with a
password (the login page today; anything that calls `authenticate` tomorrow) obeys it.
Failures and locks are audit events: the bureau sees who was locked out and from where,
the chain keeps them, and every server process sees the same count without a cache.

While a lock holds, attempts are refused before the password is checked and are not
written down: an attacker hammering a locked account adds nothing to the audit log.
The address is the one Django sees (REMOTE_ADDR). Behind the reverse proxy, `xueji
serve` takes it from X-Forwarded-For only when the proxy is XUEJI_TRUSTED_PROXY, so a
client cannot choose its own address by sending the header (docs/deploy.md).
"""

import datetime
import functools
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.models import AuditEvent
from xueji.audit.services import record_event
from xueji.core import reads

FAILED = "login.failed"
LOCKED = "login.locked"
ACCOUNT = "account"
ADDRESS = "address"


def max_failures() -> int:
    return settings.XUEJI_LOGIN_MAX_FAILURES


def lock_duration() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.XUEJI_LOGIN_LOCK_MINUTES)


def client_address(request) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR") or "")


def account_key(username: str) -> str:
    # Login names are unique without regard to case (orgs.services): "A1" and "a1" are
    # one account to count, whatever the backend makes of the case.
    return username.strip().lower()


@dataclass(frozen=True)
class Lock:
    kind: str  # ACCOUNT or ADDRESS
    until: datetime.datetime

    def message(self) -> str:
        until = timezone.localtime(self.until).strftime("%H:%M")
        if self.kind == ACCOUNT:
            return _(
                "This account is locked for %(minutes)d minutes after %(count)d failed "
                "logins. Try again after %(time)s, or ask the bureau registrar to reset "
                "the password."
            ) % {
                "minutes": settings.XUEJI_LOGIN_LOCK_MINUTES,
                "count": max_failures(),
                "time": until,
            }
        return _(
            "Logins from this computer are locked for %(minutes)d minutes after %(count)d "
            "failed logins. Try again after %(time)s."
        ) % {"minutes": settings.XUEJI_LOGIN_LOCK_MINUTES, "count": max_failures(), "time": until}


def _keys(username: str, address: str) -> list[tuple[str, str]]:
    keys = [(ACCOUNT, account_key(username))] if username.strip() else []
    if address:
        keys.append((ADDRESS, address))
    return keys


def _field(kind: str) -> str:
    return "data__username" if kind == ACCOUNT else "data__address"


def _last_lock(kind: str, value: str, now: datetime.datetime) -> AuditEvent | None:
    return (
        AuditEvent.objects.filter(
            action=LOCKED,
            occurred_at__gt=now - lock_duration(),
            data__key=kind,
            **{_field(kind): value},
        )
        .order_by("-seq")
        .first()
    )


def _last_reset(username: str) -> datetime.datetime | None:
    """When the bureau (or the operator) last reset this account's password: a reset
    ends the account's lock, so the user logs in with the new password at once."""
    from xueji.orgs.models import User

    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        return None
    return (
        AuditEvent.objects.filter(
            action="user.password_reset", target_type="orgs.user", target_id=str(user.pk)
        )
        .order_by("-seq")
        .values_list("occurred_at", flat=True)
        .first()
    )


def lock_of(username: str, address: str, now: datetime.datetime | None = None) -> Lock | None:
    """The lock that holds for this login name or this address now, if any."""
    now = now or timezone.now()
    for kind, value in _keys(username, address):
        event = _last_lock(kind, value, now)
        if event is None:
            continue
        if kind == ACCOUNT:
            reset = _last_reset(username)
            if reset is not None and reset > event.occurred_at:
                continue
        return Lock(kind, event.occurred_at + lock_duration())
    return None


def _failures(kind: str, value: str, since: datetime.datetime) -> int:
    return AuditEvent.objects.filter(
        action=FAILED, occurred_at__gt=since, **{_field(kind): value}
    ).count()


def _counting_since(kind: str, value: str, user, now: datetime.datetime) -> datetime.datetime:
    """Failures count within the lock's own span, and only after the last lock (which
    they caused) and, for an account, after its last successful login or reset."""
    since = now - lock_duration()
    previous = (
        AuditEvent.objects.filter(action=LOCKED, data__key=kind, **{_field(kind): value})
        .order_by("-seq")
        .values_list("occurred_at", flat=True)
        .first()
    )
    if previous is not None:
        since = max(since, previous)
    if kind == ACCOUNT and user is not None:
        for moment in (user.last_login, _last_reset(user.username)):
            if moment is not None:
                since = max(since, moment)
    return since


def do_record_failure(username: str, address: str) -> Lock | None:
    """Write the failed login; when it is the one too many, lock and say until when."""
    from xueji.orgs.models import User

    user = User.objects.filter(username__iexact=username.strip()).select_related("unit").first()
    data = {"username": account_key(username), "address": address}
    now = timezone.now()
    lock = None
    with transaction.atomic():
        # The account's unit, so the bureau sees its users' failures in its audit log.
        record_event(FAILED, actor=None, target=user, data=data)
        for kind, value in _keys(username, address):
            if _failures(kind, value, _counting_since(kind, value, user, now)) >= max_failures():
                until = now + lock_duration()
                record_event(
                    LOCKED,
                    actor=None,
                    target=user,
                    data=data | {"key": kind, "until": until.isoformat()},
                )
                lock = lock or Lock(kind, until)
    return lock


class LockoutBackend(ModelBackend):
    """Django's model backend behind the lock: a locked account or address is refused
    before its password is checked; a wrong password is counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        address = client_address(request)
        lock = lock_of(username, address)
        if lock is not None:
            if request is not None:
                request.xueji_login_lock = lock
            # PermissionDenied stops authenticate() at once: no other backend is asked.
            raise PermissionDenied(lock.message())
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            lock = do_record_failure(username, address)
            if lock is not None and request is not None:
                request.xueji_login_lock = lock
        return user

    def get_user(self, user_id):
        """The session's user with their unit and its county in the same query: every page
        asks for the unit (scope, navigation) and the county (its school year) right after,
        each a query of its own. Every request reads it, so by a statement written once
        (core/reads.py), not through the ORM."""
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None  # a session holding something else than a user's id: no user
        rows = reads.read(_user_statement(), [user_id], _user_models())
        if not rows:
            return None
        user, unit, county = rows[0]
        reads.link(user, "unit", unit)
        if unit is not None:
            reads.link(unit, "county", county)
        return user if self.user_can_authenticate(user) else None


class LockoutLoginMixin:
    """For the login view: a locked login shows when to try again instead of "wrong
    password" (the password was not even checked), with 429 Too Many Requests."""

    request: HttpRequest

    def form_invalid(self, form):
        lock = getattr(self.request, "xueji_login_lock", None)
        if lock is not None:
            form.errors.pop(NON_FIELD_ERRORS, None)
            form.add_error(None, lock.message())
        response = super().form_invalid(form)  # type: ignore[misc]
        if lock is not None:
            response.status_code = 429
        return response


def _user_models():
    from xueji.orgs.models import County, Unit

    return (get_user_model(), Unit, County)


@functools.cache
def _user_statement() -> str:
    user_model, unit_model, county_model = _user_models()
    quote = connection.ops.quote_name
    unit_key = quote(user_model._meta.get_field("unit").column)
    county_key = quote(unit_model._meta.get_field("county").column)
    return (
        f"SELECT {reads.columns(user_model, 'u')}, {reads.columns(unit_model, 'n')}, "
        f"{reads.columns(county_model, 'c')} FROM {quote(user_model._meta.db_table)} u "
        f"LEFT JOIN {quote(unit_model._meta.db_table)} n ON n.id = u.{unit_key} "
        f"LEFT JOIN {quote(county_model._meta.db_table)} c ON c.id = n.{county_key} "
        "WHERE u.id = %s"
    )
