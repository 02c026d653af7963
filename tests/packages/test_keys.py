"""Signing keys (B6, C8): a unit makes its key (the private half in a 0600 file, never
served), the bureau registers it, or registers an offline unit's .pub file after reading
the fingerprint over the phone; it revokes with a reason, which frees the unit for a new
key. Every change is audited."""

import json
import stat

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.packages import format, key_services
from xueji.packages.models import SigningKey

from .helpers import registered_key


def test_a_school_registrar_makes_the_units_key_with_the_private_half_in_a_0600_file(
    cast, settings
):
    key = key_services.do_generate_key(actor=cast.a1_registrar)
    assert key.unit == cast.school_a1 and key.registered_at is None and key.can_sign
    path = settings.XUEJI_KEY_DIR / key.private_file
    assert key.private_file.startswith("3708280604-")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.XUEJI_KEY_DIR.stat().st_mode) == 0o700
    pair = key_services.private_pair(key)
    assert pair.fingerprint == key.fingerprint == format.fingerprint(format.unb64(key.public_key))
    event = AuditEvent.objects.get(action="key.generated")
    assert event.actor == cast.a1_registrar and event.data["fingerprint"] == key.fingerprint
    assert "PRIVATE" not in json.dumps(event.data)


def test_a_second_key_is_refused_while_one_is_live_and_replacing_revokes_the_old(cast):
    first = key_services.do_generate_key(actor=cast.a1_registrar)
    with pytest.raises(RuleViolation):
        key_services.do_generate_key(actor=cast.a1_registrar)
    with pytest.raises(RuleViolation) as refused:
        key_services.do_replace_key(actor=cast.a1_registrar, reason="  ")
    assert refused.value.field == "reason"
    second = key_services.do_replace_key(actor=cast.a1_registrar, reason="laptop stolen")
    first.refresh_from_db()
    assert first.revoked_at is not None and first.revoke_reason == "laptop stolen"
    assert second.revoked_at is None and second.registered_at is None
    assert SigningKey.objects.filter(unit=cast.school_a1, revoked_at__isnull=True).count() == 1
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count("key.generated") == 2 and "key.revoked" in actions


def test_the_bureau_registers_a_pending_key_and_a_school_cannot(cast):
    key = key_services.do_generate_key(actor=cast.a1_registrar)
    with pytest.raises(PermissionDenied):
        key_services.do_register_key(key, actor=cast.a1_registrar)
    with pytest.raises(PermissionDenied):
        key_services.do_register_key(key, actor=cast.bureau_leader)
    key = key_services.do_register_key(key, actor=cast.bureau_registrar)
    assert key.is_registered and key.registered_by == cast.bureau_registrar
    with pytest.raises(RuleViolation):
        key_services.do_register_key(key, actor=cast.bureau_registrar)
    assert AuditEvent.objects.filter(action="key.registered", actor=cast.bureau_registrar).exists()


def test_the_bureau_revokes_with_a_reason_and_a_revoked_key_is_never_registered_again(cast):
    key = registered_key(cast, cast.b1_registrar)
    with pytest.raises(RuleViolation) as refused:
        key_services.do_revoke_key(key, actor=cast.bureau_registrar, reason="")
    assert refused.value.field == "reason"
    with pytest.raises(PermissionDenied):
        key_services.do_revoke_key(key, actor=cast.b1_registrar, reason="mine")
    key = key_services.do_revoke_key(key, actor=cast.bureau_registrar, reason="leaked")
    assert key.revoked_at and not key.is_registered and not key.can_sign
    with pytest.raises(RuleViolation):
        key_services.do_register_key(key, actor=cast.bureau_registrar)
    # The unit is free to make a new one.
    assert key_services.do_generate_key(actor=cast.b1_registrar).revoked_at is None


def test_an_offline_units_public_key_file_is_registered_after_the_phone_check(cast):
    laptop_key = key_services.do_generate_key(actor=cast.b1_registrar)
    text = key_services.public_key_text(laptop_key).encode()
    content = json.loads(text)
    assert content["unit_code"] == "3708280502" and "private" not in text.decode().lower()
    # The laptop's database is not the bureau's: the bureau knows nothing of this key yet.
    SigningKey.objects.filter(pk=laptop_key.pk).delete()
    with pytest.raises(RuleViolation) as refused:
        key_services.do_register_public_key(
            text, actor=cast.bureau_registrar, fingerprint_read="0000 0000"
        )
    assert refused.value.field == "fingerprint"
    heard = key_services.grouped(content["fingerprint"])[:19]  # four groups read aloud
    key = key_services.do_register_public_key(
        text, actor=cast.bureau_registrar, fingerprint_read=heard
    )
    assert key.unit == cast.school_b1 and key.is_registered and not key.private_file
    assert key.fingerprint == content["fingerprint"]


def test_an_altered_or_foreign_public_key_file_is_refused(cast):
    pair = format.new_key_pair()
    good = {
        "format": "xueji-public-key",
        "version": 1,
        "algorithm": "ed25519",
        "unit_code": "3708280502",
        "unit_name": "羊山镇第一小学",
        "public_key": format.b64(pair.public),
        "fingerprint": pair.fingerprint,
    }
    altered = dict(good, fingerprint=format.new_key_pair().fingerprint)
    foreign = dict(good, unit_code="9999999999")
    for content in (altered, foreign):
        with pytest.raises(RuleViolation):
            key_services.do_register_public_key(
                json.dumps(content).encode(), actor=cast.bureau_registrar
            )
    with pytest.raises(RuleViolation):
        key_services.do_register_public_key(b"not json", actor=cast.bureau_registrar)
    with pytest.raises(PermissionDenied):
        key_services.do_register_public_key(json.dumps(good).encode(), actor=cast.b1_registrar)
    registered_key(cast, cast.b1_registrar)
    with pytest.raises(RuleViolation) as refused:  # b1 already has a live key
        key_services.do_register_public_key(json.dumps(good).encode(), actor=cast.bureau_registrar)
    assert "revoke" in refused.value.message.lower() or refused.value.field == "file"
    assert SigningKey.objects.filter(fingerprint=pair.fingerprint).count() == 0


def test_a_missing_private_file_gives_a_clear_refusal(cast, settings):
    key = registered_key(cast, cast.a1_registrar)
    (settings.XUEJI_KEY_DIR / key.private_file).unlink()
    with pytest.raises(RuleViolation) as refused:
        key_services.private_pair(key)
    assert key.private_file in refused.value.message


def test_the_key_page_shows_the_fingerprint_in_groups_and_never_the_private_half(
    cast, client_for, settings
):
    key = key_services.do_generate_key(actor=cast.a1_registrar)
    client = client_for(cast.a1_registrar)
    with translation.override("en"):
        page = client.get("/keys/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert key_services.grouped(key.fingerprint) in page.text
    private_pem = (settings.XUEJI_KEY_DIR / key.private_file).read_text()
    body = private_pem.splitlines()[1]
    assert body not in page.text and key.private_file not in page.text
    public = client.get(f"/keys/{key.pk}/public/")
    assert (
        public.status_code == 200 and json.loads(public.content)["fingerprint"] == key.fingerprint
    )
    assert body not in public.content.decode()


def test_the_bureau_registers_and_revokes_from_the_page(cast, client_for):
    key = key_services.do_generate_key(actor=cast.a1_registrar)
    client = client_for(cast.bureau_registrar)
    page = client.get("/keys/")
    assert page.status_code == 200 and cast.school_a1.name in page.text
    assert client.post(f"/keys/{key.pk}/register/").status_code == 302
    key.refresh_from_db()
    assert key.is_registered
    assert client.post(f"/keys/{key.pk}/revoke/", {"reason": "lost"}).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoke_reason == "lost"


def test_the_bureau_uploads_a_pub_file_from_the_page(cast, client_for):
    pair = format.new_key_pair()
    text = json.dumps(
        {
            "format": "xueji-public-key",
            "version": 1,
            "algorithm": "ed25519",
            "unit_code": "3708280604",
            "unit_name": "胡集镇第三小学",
            "public_key": format.b64(pair.public),
            "fingerprint": pair.fingerprint,
        }
    ).encode()
    client = client_for(cast.bureau_registrar)
    response = client.post(
        "/keys/upload/",
        {"file": SimpleUploadedFile("a1.pub", text), "fingerprint": pair.fingerprint[:12]},
    )
    assert response.status_code == 302
    assert SigningKey.objects.get(fingerprint=pair.fingerprint).is_registered


def test_keys_outside_the_scope_are_404_and_schools_cannot_register(cast, client_for):
    key = key_services.do_generate_key(actor=cast.a1_registrar)
    client = client_for(cast.b1_registrar)
    assert client.get(f"/keys/{key.pk}/public/").status_code == 404
    assert client.post(f"/keys/{key.pk}/register/").status_code == 404
    own = client_for(cast.a1_registrar)
    own.post(f"/keys/{key.pk}/register/")
    key.refresh_from_db()
    assert key.registered_at is None
    assert client_for(cast.a1_leader).get("/keys/").status_code == 403
