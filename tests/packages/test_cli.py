"""The commands (C8, B6): keys made, exported, registered and revoked; a package exported
to a file and imported from it, a dry run writing nothing, a refusal exiting non-zero
with its reason."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xueji.packages.models import Package, PackageChange, SigningKey

from .helpers import flip_in_member, suspension, written_rows


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_keys_are_made_exported_registered_and_revoked_from_the_command_line(cast, tmp_path):
    made = run("keys", "generate", "--user", "a1")
    key = SigningKey.objects.get(unit=cast.school_a1)
    assert key.fingerprint in made and key.registered_at is None
    pub = tmp_path / "a1.pub"
    run("keys", "export-public", "--user", "a1", "-o", str(pub))
    assert json.loads(pub.read_text())["fingerprint"] == key.fingerprint
    with pytest.raises(CommandError):
        run("keys", "register", "--fingerprint", key.fingerprint[:12], "--user", "a1")
    run("keys", "register", "--fingerprint", key.fingerprint[:12], "--user", "bureau")
    key.refresh_from_db()
    assert key.is_registered
    assert "registered" in run("keys", "list", "--user", "bureau")
    run("keys", "revoke", "--fingerprint", key.fingerprint, "--reason", "lost", "--user", "bureau")
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoke_reason == "lost"


def test_an_offline_units_pub_file_is_registered_from_the_command_line(cast, tmp_path):
    run("keys", "generate", "--user", "b1")
    pub = tmp_path / "b1.pub"
    run("keys", "export-public", "--user", "b1", "-o", str(pub))
    fingerprint = json.loads(pub.read_text())["fingerprint"]
    SigningKey.objects.all().delete()  # the laptop's own row: the bureau never had it
    with pytest.raises(CommandError):
        run("keys", "register", "--file", str(pub), "--heard", "ffffffff", "--user", "bureau")
    run("keys", "register", "--file", str(pub), "--heard", fingerprint[:8], "--user", "bureau")
    assert SigningKey.objects.get(fingerprint=fingerprint).is_registered


def test_export_then_import_round_trip_with_a_dry_run_first(cast, register, tmp_path):
    pupil = register(sequence=3)
    request = suspension(cast, pupil.record)
    run("keys", "generate", "--user", "a1")
    key = SigningKey.objects.get(unit=cast.school_a1)
    run("keys", "register", "--fingerprint", key.fingerprint, "--user", "bureau")
    target = tmp_path / "a1.zip"
    said = run(
        "export-changes",
        "--school", "3708280604",
        "--grade", "1",
        "--grade", "2",
        "--from", "2026-09-01",
        "--to", "2026-12-31",
        "-o", str(target),
        "--user", "a1",
    )  # fmt: skip
    assert "1 changes" in said and target.is_file()
    exported = Package.objects.get(direction=Package.Direction.EXPORT)
    assert exported.selection["grades"] == [1, 2]
    before = written_rows()
    preview = run("import-changes", str(target), "--dry-run", "--user", "bureau")
    assert "pending" in preview and pupil.student.name in preview and "dry run" in preview
    assert written_rows() == before
    done = run("import-changes", str(target), "--user", "bureau")
    assert PackageChange.objects.get().request == request
    assert "1" in done
    again = run("import-changes", str(target), "--user", "bureau")
    assert PackageChange.objects.count() == 1 and again.strip()


def test_a_refused_package_exits_non_zero_with_its_reason(cast, register, tmp_path):
    pupil = register(sequence=3)
    suspension(cast, pupil.record)
    run("keys", "generate", "--user", "a1")
    key = SigningKey.objects.get(unit=cast.school_a1)
    target = tmp_path / "a1.zip"
    run(
        "export-changes", "--school", "3708280604", "--from", "2026-09-01",
        "--to", "2026-12-31", "-o", str(target), "--user", "a1",
    )  # fmt: skip
    with pytest.raises(CommandError) as refused:  # the key is not registered yet
        run("import-changes", str(target), "--user", "bureau")
    assert refused.value.returncode == 2 and "unregistered_key" in str(refused.value)
    run("keys", "register", "--fingerprint", key.fingerprint, "--user", "bureau")
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(flip_in_member(target.read_bytes(), "changes.json", 10))
    with pytest.raises(CommandError) as refused:
        run("import-changes", str(tampered), "--user", "bureau")
    assert refused.value.returncode == 2 and "altered_member" in str(refused.value)
    assert not PackageChange.objects.exists()


def test_the_commands_act_within_the_users_scope(cast, register, tmp_path):
    run("keys", "generate", "--user", "b1")
    with pytest.raises(CommandError) as refused:
        run(
            "export-changes", "--school", "3708280604", "--from", "2026-09-01",
            "--to", "2026-12-31", "-o", str(tmp_path / "x.zip"), "--user", "b1",
        )  # fmt: skip
    assert "refused" in str(refused.value)
    with pytest.raises(CommandError):
        run("import-changes", str(tmp_path / "missing.zip"), "--user", "bureau")
    with pytest.raises(CommandError):
        run("keys", "list", "--user", "nobody")
