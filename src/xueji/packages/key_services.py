"""Signing keys (B6, C8): every change to a key, `do_*(..., *, actor)`, audited.

A unit's registrar generates the unit's Ed25519 key pair on the installation the unit
works on: the private half goes to a file under XUEJI_KEY_DIR (mode 0600, never served,
never in any answer), the public half into a SigningKey row, pending until the bureau
registers it. The bureau registrar registers a pending key of this installation, or the
public key file (.pub) an offline unit exported and brought on a USB stick; it revokes a
key with a reason, which frees the unit to make a new one: one live key per unit.

Reading the fingerprint over the phone is the check that the file on the stick is the
unit's: the key page shows it in groups of four.
"""

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.orgs.models import Unit
from xueji.packages import format
from xueji.packages.models import SigningKey
from xueji.packages.units import unit_by_code, unit_code

PUBLIC_FORMAT = "xueji-public-key"
PUBLIC_VERSION = 1
# A .pub file is a few hundred bytes; anything much larger is not one.
PUBLIC_MAX_BYTES = 4096


def grouped(fingerprint: str) -> str:
    """The whole fingerprint in groups of four, to read over the phone."""
    text = fingerprint.upper()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


# --- who may do what --------------------------------------------------------------------


def _require_own_unit(actor) -> Unit:
    """A unit's registrar acts on the unit's own key."""
    scope = scope_for(actor)
    if not scope.may("packages.export") or scope.unit is None:
        raise PermissionDenied(_("Only a unit's registrar manages the unit's key."))
    return scope.unit


def _require_bureau(actor, key_unit: Unit | None = None):
    scope = scope_for(actor)
    if scope.level != scope.COUNTY or not scope.may("keys.manage"):
        raise PermissionDenied(_("Only the bureau registrar registers and revokes keys."))
    if key_unit is not None and not scope.can_see(key_unit):
        raise PermissionDenied(_("This unit is outside your scope."))
    return scope


def live_key(unit: Unit | None) -> SigningKey | None:
    if unit is None:
        return None
    return SigningKey.objects.filter(unit=unit, revoked_at__isnull=True).first()


# --- the private half ---------------------------------------------------------------------


def key_dir() -> Path:
    return Path(settings.XUEJI_KEY_DIR)


def _write_private(unit: Unit, pair: format.KeyPair) -> str:
    """Write the private key as PKCS#8 PEM, readable by the server's user only."""
    directory = key_dir()
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    name = f"{unit_code(unit)}-{pair.fingerprint[:16]}.key"
    pem = Ed25519PrivateKey.from_private_bytes(pair.private).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    descriptor = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return name


def private_pair(key: SigningKey) -> format.KeyPair:
    """The key pair of a key this installation made, for signing; a clear refusal when the
    file is gone (a restored database without the key directory, say)."""
    if not key.private_file or key.revoked_at is not None:
        raise RuleViolation(_("This key cannot sign on this installation."))
    path = key_dir() / key.private_file
    try:
        loaded = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise RuleViolation(
            _(
                "The private half of your unit's key (%(file)s) is missing from this "
                "installation's key directory. Restore it from the backup, or make a new key "
                "and have the bureau register it."
            )
            % {"file": key.private_file}
        ) from error
    if not isinstance(loaded, Ed25519PrivateKey):
        raise RuleViolation(_("The key file %(file)s is not an Ed25519 key.") % {"file": path.name})
    raw = loaded.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    pair = format.KeyPair(private=raw, public=format.public_of(raw))
    if pair.fingerprint != key.fingerprint:
        raise RuleViolation(
            _("The key file %(file)s does not belong to this key.") % {"file": path.name}
        )
    return pair


def signing_key_of(unit: Unit) -> SigningKey:
    """The unit's usable key on this installation, or the refusal that says what to do."""
    key = live_key(unit)
    if key is None or not key.private_file:
        raise RuleViolation(
            _(
                "%(unit)s has no signing key on this installation: generate one on the "
                "signing keys page and have the bureau register it."
            )
            % {"unit": unit.name}
        )
    return key


# --- the unit's own key -----------------------------------------------------------------


def _create(unit: Unit, *, actor) -> SigningKey:
    pair = format.new_key_pair()
    name = _write_private(unit, pair)
    try:
        with transaction.atomic():
            key = SigningKey.objects.create(
                unit=unit,
                public_key=format.b64(pair.public),
                fingerprint=pair.fingerprint,
                private_file=name,
                created_by=actor,
            )
    except IntegrityError as error:
        (key_dir() / name).unlink(missing_ok=True)
        raise RuleViolation(
            _("%(unit)s already has a live key; revoke or replace it first.") % {"unit": unit.name}
        ) from error
    record_event(
        "key.generated",
        actor=actor,
        target=key,
        unit=unit,
        data={"fingerprint": key.fingerprint, "file": name},
    )
    return key


def do_generate_key(*, actor) -> SigningKey:
    """The actor's unit gets its first key (or a new one after the bureau revoked the old)."""
    unit = _require_own_unit(actor)
    with transaction.atomic():
        current = live_key(unit)
        if current is not None:
            raise RuleViolation(
                _(
                    "Your unit already has a key (%(fingerprint)s); replace it instead, "
                    "giving the reason."
                )
                % {"fingerprint": current.short_fingerprint}
            )
        return _create(unit, actor=actor)


def do_replace_key(*, actor, reason: str) -> SigningKey:
    """The unit revokes its own live key (a laptop lost, a key file leaked) and makes a new
    one, pending until the bureau registers it; packages signed with the old one are refused
    from now on."""
    unit = _require_own_unit(actor)
    if not reason.strip():
        raise RuleViolation(_("Reason: say why the key is replaced."), field="reason")
    with transaction.atomic():
        current = SigningKey.objects.select_for_update().filter(unit=unit, revoked_at__isnull=True)
        for old in current:
            _revoke(old, actor=actor, reason=reason)
        return _create(unit, actor=actor)


# --- the bureau --------------------------------------------------------------------------


def do_register_key(key: SigningKey, *, actor) -> SigningKey:
    """The bureau registers a pending key: packages it signs are accepted from now on."""
    _require_bureau(actor, key.unit)
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().select_related("unit").get(pk=key.pk)
        if key.revoked_at is not None:
            raise RuleViolation(_("A revoked key is never registered again."))
        if key.registered_at is not None:
            raise RuleViolation(_("This key is already registered."))
        key.registered_at, key.registered_by = timezone.now(), actor
        key.save(update_fields=["registered_at", "registered_by"])
        record_event(
            "key.registered",
            actor=actor,
            target=key,
            data={"unit": unit_code(key.unit), "fingerprint": key.fingerprint},
        )
    return key


def _revoke(key: SigningKey, *, actor, reason: str) -> None:
    key.revoked_at, key.revoked_by = timezone.now(), actor
    key.revoke_reason = reason.strip()[:200]
    key.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    record_event(
        "key.revoked",
        actor=actor,
        target=key,
        unit=key.unit,
        data={"fingerprint": key.fingerprint, "reason": key.revoke_reason},
    )


def do_revoke_key(key: SigningKey, *, actor, reason: str) -> SigningKey:
    """The bureau revokes a key, with the reason: packages it signed are refused from now
    on, and the unit may make (or bring) a new one."""
    _require_bureau(actor, key.unit)
    if not reason.strip():
        raise RuleViolation(_("Reason: say why the key is revoked."), field="reason")
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().select_related("unit").get(pk=key.pk)
        if key.revoked_at is not None:
            raise RuleViolation(_("This key is already revoked."))
        _revoke(key, actor=actor, reason=reason)
    return key


# --- the public key file ------------------------------------------------------------------


@dataclass(frozen=True)
class PublicKeyFile:
    unit_code: str
    unit_name: str
    public: bytes
    fingerprint: str


def public_key_text(key: SigningKey) -> str:
    """The .pub file a unit carries to the bureau: JSON, a few lines, nothing secret."""
    return (
        json.dumps(
            {
                "format": PUBLIC_FORMAT,
                "version": PUBLIC_VERSION,
                "algorithm": "ed25519",
                "unit_code": unit_code(key.unit),
                "unit_name": key.unit.name,
                "public_key": key.public_key,
                "fingerprint": key.fingerprint,
                "created_at": key.created_at.isoformat(),
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )


def public_key_filename(key: SigningKey) -> str:
    return f"xueji-key-{unit_code(key.unit)}-{key.fingerprint[:8]}.pub"


def parse_public_key(data: bytes) -> PublicKeyFile:
    """Read a .pub file; the fingerprint it states must be the one of its key."""
    wrong = RuleViolation(_("Key file: this is not a Xueji public key file."), field="file")
    if len(data) > PUBLIC_MAX_BYTES:
        raise wrong
    try:
        content = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise wrong from error
    if not isinstance(content, dict) or content.get("format") != PUBLIC_FORMAT:
        raise wrong
    if content.get("version") != PUBLIC_VERSION or content.get("algorithm") != "ed25519":
        raise RuleViolation(
            _("Key file: this version of the key file cannot be read here."), field="file"
        )
    try:
        public = format.unb64(str(content.get("public_key", "")))
    except ValueError as error:
        raise wrong from error
    if len(public) != 32:
        raise wrong
    stated = str(content.get("fingerprint", "")).strip().lower()
    if not secrets.compare_digest(stated, format.fingerprint(public)):
        raise RuleViolation(
            _("Key file: the fingerprint does not match the key; the file was altered."),
            field="file",
        )
    return PublicKeyFile(
        unit_code=str(content.get("unit_code", "")),
        unit_name=str(content.get("unit_name", "")),
        public=public,
        fingerprint=stated,
    )


def do_register_public_key(
    data: bytes, *, actor, fingerprint_read: str = "", register: bool = True
) -> SigningKey:
    """The bureau registers the key of a unit working offline from the .pub file it
    brought. `fingerprint_read`, when given, is what the unit read over the phone (any
    leading part, spaces ignored): it must agree with the file. With `register=False` the
    key is only received: it waits, pending, until the unit has read the fingerprint over
    the phone and the bureau registers it (do_register_key); packages it signs are refused
    until then."""
    scope = _require_bureau(actor)
    parsed = parse_public_key(data)
    unit = unit_by_code(parsed.unit_code, county=scope.county())
    if unit is None or not scope.can_see(unit):
        raise RuleViolation(
            _("Key file: the unit %(code)s is not a unit of your county.")
            % {"code": parsed.unit_code},
            field="file",
        )
    heard = "".join(fingerprint_read.split()).lower()
    if heard and (len(heard) < 8 or not parsed.fingerprint.startswith(heard)):
        raise RuleViolation(
            _("Fingerprint: what the unit read does not match the key file. Do not register it."),
            field="fingerprint",
        )
    with transaction.atomic():
        existing = (
            SigningKey.objects.select_for_update().filter(fingerprint=parsed.fingerprint).first()
        )
        if existing is not None:
            if existing.unit_id != unit.pk:
                raise RuleViolation(_("Key file: this key belongs to another unit."), field="file")
            if not register:
                return existing
            return do_register_key(existing, actor=actor)
        current = live_key(unit)
        if current is not None:
            raise RuleViolation(
                _(
                    "%(unit)s already has a live key (%(fingerprint)s); revoke it first, "
                    "then register the new one."
                )
                % {"unit": unit.name, "fingerprint": current.short_fingerprint},
                field="file",
            )
        key = SigningKey.objects.create(
            unit=unit,
            public_key=format.b64(parsed.public),
            fingerprint=parsed.fingerprint,
            created_by=actor,
            registered_at=timezone.now() if register else None,
            registered_by=actor if register else None,
        )
        record_event(
            "key.registered" if register else "key.received",
            actor=actor,
            target=key,
            data={
                "unit": unit_code(unit),
                "fingerprint": key.fingerprint,
                "from_file": True,
            },
        )
    return key
