"""B6, P1: `xueji backup` and `xueji restore`. A backup restores into an empty
installation with its data, files and audit chain intact; a damaged or altered backup,
a non-empty target and another migration state are refused with nothing written; a
backup taken while another connection writes is one consistent snapshot (SQLite WAL).

The restore runs as the real command in a subprocess against a fresh installation (a
copy of a migrated SQLite file, or a new PostgreSQL database when the suite runs on
PostgreSQL), so it is tested exactly as an operator runs it; the test then reads the
restored database through a second connection.
"""

import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import zipfile
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import translation
from PIL import Image, ImageDraw

from tests.changes.helpers import DAY, scan
from tests.students import conftest as student_fixtures
from xueji.audit.models import AuditEvent, AuditHead
from xueji.audit.services import compute_hash
from xueji.changes import services as change_services
from xueji.changes.models import ChangeRequest, Evidence, Kind
from xueji.core.backup import BackupRefused, create_backup, iter_rows, verify_backup
from xueji.core.restore import restore_backup
from xueji.students.models import Student
from xueji.students.photo_services import do_set_photo

SQLITE_OPTIONS = {
    # As settings.py configures production: IMMEDIATE transactions and WAL.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA busy_timeout=20000;",
}
# The students' fixtures (a school year, registrations), as tests/students uses them.
register = student_fixtures.register
school_year = student_fixtures.school_year
KEY_BYTES = b"-----BEGIN PRIVATE KEY-----\nnot a real key, test bytes\n-----END PRIVATE KEY-----\n"


# --- Running `xueji` the way an operator does --------------------------------------------------


def xueji(*args: str, database_url: str, data_dir: Path, check: bool = True):
    """Run `xueji ARGS` in its own process against the given installation."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        {
            "XUEJI_DATABASE_URL": database_url,
            "XUEJI_DATA_DIR": str(data_dir),
            "XUEJI_MEDIA_DIR": str(data_dir / "media"),
            "XUEJI_KEY_DIR": str(data_dir / "keys"),
            "XUEJI_LANGUAGE": "en",
            "XUEJI_SECRET_KEY": "backup-test-" + "x" * 40,
        }
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "xueji", *args],
        env=env,
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An empty installation's SQLite file, migrated once for the module; tests copy it."""
    data_dir = tmp_path_factory.mktemp("migrated")
    path = data_dir / "xueji.sqlite3"
    xueji("migrate", "-v0", database_url=f"sqlite:///{path}", data_dir=data_dir)
    # One file: fold the write-ahead log in, so a plain copy is the whole database.
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    return path


@contextmanager
def alias(name: str, settings_dict: dict):
    """A second connection, to another database, for the length of a test."""
    configured = connections.configure_settings(
        {"default": connections.settings["default"], name: dict(settings_dict)}
    )
    connections.settings[name] = configured[name]
    # Django's test case refuses to open connections to databases it does not manage;
    # an open one it lets through.
    connections[name].connect()
    try:
        yield connections[name]
    finally:
        connections[name].close()
        del connections[name]
        del connections.settings[name]


def _pg_admin():
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def empty_installation(tmp_path, migrated_sqlite):
    """(database URL, data directory, settings for a second connection) of a new,
    migrated, empty installation on the suite's engine."""
    data_dir = tmp_path / "target"
    data_dir.mkdir()
    if connection.vendor != "postgresql":
        path = data_dir / "xueji.sqlite3"
        shutil.copy(migrated_sqlite, path)
        second = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            "OPTIONS": SQLITE_OPTIONS,
        }
        yield f"sqlite:///{path}", data_dir, second
        return
    source = connection.settings_dict
    name = f"{source['NAME']}_restore"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    user = quote(source["USER"] or "postgres")
    password = f":{quote(source['PASSWORD'])}" if source["PASSWORD"] else ""
    host = f"{source['HOST'] or '127.0.0.1'}:{source['PORT'] or 5432}"
    url = f"postgresql://{user}{password}@{host}/{name}"
    xueji("migrate", "-v0", database_url=url, data_dir=data_dir)
    second = {key: source[key] for key in ("ENGINE", "USER", "PASSWORD", "HOST", "PORT")}
    try:
        yield url, data_dir, {**second, "NAME": name}
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Data worth backing up ---------------------------------------------------------------------


def portrait() -> bytes:
    image = Image.new("RGB", (400, 500), (160, 200, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((120, 75, 280, 350), fill=(205, 160, 130))
    draw.ellipse((40, 375, 360, 650), fill=(40, 50, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def source(settings, tmp_path, cast, register):
    """The shared cast, two students (one with a photo), a suspension request with
    evidence, a private key file, and the audit events all of that wrote."""
    settings.MEDIA_ROOT = tmp_path / "source" / "media"
    settings.XUEJI_KEY_DIR = tmp_path / "source" / "keys"
    first = register(sequence=1)
    register(sequence=2, name="李小红")
    do_set_photo(first.student, portrait(), actor=cast.a1_registrar)
    request = change_services.do_create_request(
        first.record, Kind.SUSPENSION, actor=cast.a1_registrar, reason="sick", effective_date=DAY
    )
    change_services.do_add_evidence(
        request, "hospital_certificate", scan(), actor=cast.a1_registrar
    )
    key_dir = Path(settings.XUEJI_KEY_DIR)
    key_dir.mkdir(parents=True)
    (key_dir / "unit-1.key").write_bytes(KEY_BYTES)
    return Path(settings.MEDIA_ROOT), key_dir


@pytest.fixture
def backup_file(source, tmp_path) -> Path:
    out = tmp_path / "backup.zip"
    create_backup(out)
    return out


def live_counts(using: str = "default") -> dict[str, int]:
    from xueji.core.backup import backup_models

    return {m._meta.label_lower: m._base_manager.using(using).count() for m in backup_models()}


# --- The round trip ----------------------------------------------------------------------------


def test_a_backup_restores_into_an_empty_installation_with_data_files_and_chain_intact(
    source, tmp_path, empty_installation, capsys
):
    media_root, key_dir = source
    out = tmp_path / "nightly.zip"
    call_command("backup", str(out))
    printed = capsys.readouterr().out
    assert f"backup written to {out}" in printed and "1 key files" in printed
    manifest = verify_backup(out)
    rows = {table["model"]: table["rows"] for table in manifest["tables"]}
    counts = live_counts()
    # The backup's own audit event came after the snapshot; everything else is equal.
    assert counts.pop("audit.auditevent") == rows.pop("audit.auditevent") + 1
    assert all(counts[label] == rows[label] for label in rows)
    assert rows["students.student"] == 2 and rows["changes.evidence"] == 1

    url, data_dir, settings_dict = empty_installation
    restored = xueji("restore", str(out), database_url=url, data_dir=data_dir)
    assert "audit chain: All" in restored.stdout and "intact" in restored.stdout
    assert xueji("audit", "verify", database_url=url, data_dir=data_dir).returncode == 0

    with alias("restored", settings_dict):
        after = live_counts("restored")
        # One event more: the restore's own, chained after the restored ones.
        assert after.pop("audit.auditevent") == manifest_rows(manifest, "audit.auditevent") + 1
        assert after == {label: rows[label] for label in after}
        last = AuditEvent.objects.using("restored").order_by("-seq").first()
        assert last.action == "backup.restored"
        for event in AuditEvent.objects.filter(seq__lt=last.seq):
            copy = AuditEvent.objects.using("restored").get(seq=event.seq)
            assert (copy.hash, copy.occurred_at, copy.data) == (
                event.hash,
                event.occurred_at,
                event.data,
            )
        # Field values, stored times (auto_now_add) and file names as they were.
        for student in Student.objects.all():
            copy = Student.objects.using("restored").get(pk=student.pk)
            assert (copy.name, copy.id_number, copy.created_at, copy.photo.name) == (
                student.name,
                student.id_number,
                student.created_at,
                student.photo.name,
            )
        evidence = Evidence.objects.get()
        copy = Evidence.objects.using("restored").get(pk=evidence.pk)
        assert (copy.sha256, copy.uploaded_at, copy.file.name) == (
            evidence.sha256,
            evidence.uploaded_at,
            evidence.file.name,
        )
        request = ChangeRequest.objects.get()
        assert ChangeRequest.objects.using("restored").get(pk=request.pk).uid == request.uid

    # The files, byte for byte; the private key readable by the service user only.
    photo = Student.objects.exclude(photo="").get().photo.name
    target_media = data_dir / "media"
    assert (target_media / photo).read_bytes() == (media_root / photo).read_bytes()
    assert (target_media / evidence.file.name).read_bytes() == (
        media_root / evidence.file.name
    ).read_bytes()
    key = data_dir / "keys" / "unit-1.key"
    assert key.read_bytes() == KEY_BYTES
    assert key.stat().st_mode & 0o077 == 0

    # A second restore into the same, no longer empty, installation is refused.
    again = xueji("restore", str(out), database_url=url, data_dir=data_dir, check=False)
    assert again.returncode != 0
    assert "nothing was restored: The database is not empty" in again.stderr


def manifest_rows(manifest: dict, label: str) -> int:
    return next(table["rows"] for table in manifest["tables"] if table["model"] == label)


def test_restore_refuses_a_database_that_is_not_empty(backup_file):
    before = live_counts()
    with pytest.raises(BackupRefused) as refused:
        restore_backup(backup_file)
    assert refused.value.code == "not_empty"
    assert "orgs.unit" in refused.value.message and "xueji migrate" in refused.value.message
    assert live_counts() == before


def test_restore_refuses_a_backup_of_another_migration_state(backup_file, tmp_path):
    older = tmp_path / "older.zip"
    rewrite(backup_file, older, manifest=lambda m: {**m, "migrations": m["migrations"][:-1]})
    with pytest.raises(BackupRefused) as refused, translation.override("en"):
        restore_backup(older)
    assert refused.value.code == "migrations"
    assert "newer than the backup" in refused.value.message


# --- Damaged and altered backups ---------------------------------------------------------------


def rewrite(source: Path, target: Path, *, members=None, manifest=None, extra=None, drop=None):
    """Copy a backup, changing what a damaged copy or a forger would change."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == drop:
                continue
            if info.filename == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            if members and info.filename in members:
                data = members[info.filename](data)
            new.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            new.writestr(name, data)


def member(path: Path, prefix: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return next(name for name in archive.namelist() if name.startswith(prefix))


def flip_last_byte(data: bytes) -> bytes:
    return data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]


@pytest.mark.parametrize(
    "damage, code",
    [
        ("data", "altered"),
        ("photo", "altered"),
        ("key", "altered"),
        ("missing", "missing_member"),
        ("extra", "extra_member"),
        ("climbing", "member"),
        ("truncated", "not_a_backup"),
        ("newer_zip", "not_a_backup"),
        ("no_manifest", "manifest"),
    ],
)
def test_a_damaged_or_altered_backup_is_refused_and_nothing_is_written(
    backup_file, tmp_path, damage, code
):
    damaged = tmp_path / "damaged.zip"
    if damage == "data":
        # One bit of one table's rows: the member's checksum no longer fits.
        rewrite(backup_file, damaged, members={member(backup_file, "data/"): flip_last_byte})
    elif damage == "photo":
        rewrite(
            backup_file, damaged, members={member(backup_file, "media/photos/"): flip_last_byte}
        )
    elif damage == "key":
        rewrite(backup_file, damaged, members={"keys/unit-1.key": flip_last_byte})
    elif damage == "missing":
        rewrite(backup_file, damaged, drop=member(backup_file, "data/"))
    elif damage == "extra":
        rewrite(backup_file, damaged, extra={"media/planted.jpg": b"\xff\xd8\xff"})
    elif damage == "climbing":
        planted = "media/../../planted.txt"
        rewrite(
            backup_file,
            damaged,
            extra={planted: b"x"},
            manifest=lambda m: {
                **m,
                "members": {
                    **m["members"],
                    planted: {"sha256": "0" * 64, "size": 1},
                },
            },
        )
    elif damage == "truncated":
        damaged.write_bytes(backup_file.read_bytes()[: backup_file.stat().st_size // 2])
    elif damage == "newer_zip":
        # Entries asking for zip version 6.4: Python's zipfile raises NotImplementedError.
        data = bytearray(backup_file.read_bytes())
        start = data.find(b"PK\x01\x02")
        while start != -1:
            struct.pack_into("<H", data, start + 6, 64)
            start = data.find(b"PK\x01\x02", start + 1)
        damaged.write_bytes(bytes(data))
    elif damage == "no_manifest":
        rewrite(backup_file, damaged, drop="manifest.json")
    before = live_counts()
    with pytest.raises(BackupRefused) as refused:
        restore_backup(damaged)
    assert refused.value.code == code, refused.value.message
    assert live_counts() == before
    assert not (tmp_path.parent / "planted.txt").exists()


def test_an_intact_backup_passes_the_check(backup_file, capsys):
    call_command("restore", str(backup_file), "--check")
    assert capsys.readouterr().out.startswith("backup intact: made ")


# --- Consistency while another connection writes -------------------------------------------


@pytest.mark.django_db
def test_a_backup_taken_while_another_process_writes_is_one_snapshot(empty_installation):
    """The backup reads every table in one transaction that holds up no writer (SQLite in
    WAL mode set up as in production, with IMMEDIATE transactions: a DEFERRED read;
    PostgreSQL: REPEATABLE READ READ ONLY). A writer in another process commits while
    the backup runs, and the backup holds the database as it was when it started: the
    audit chain's head and its events agree, and the chain verifies."""
    url, data_dir, live = empty_installation
    writer = (
        "from django.db import transaction\n"
        "from xueji.audit.services import record_event\n"
        "for i in range({n}):\n"
        "    with transaction.atomic():\n"
        "        record_event('test.written', actor=None, data={{'i': i, 'round': '{round}'}})\n"
    )
    xueji("shell", "-c", writer.format(n=3, round="before"), database_url=url, data_dir=data_dir)

    wrote_during: list[subprocess.CompletedProcess] = []

    def progress(message: str) -> None:
        # The chain's head has been read; the events have not. Another process appends
        # three events (and moves the head) and commits now.
        if message.startswith("audit.audithead:"):
            wrote_during.append(
                xueji(
                    "shell",
                    "-c",
                    writer.format(n=3, round="during"),
                    database_url=url,
                    data_dir=data_dir,
                )
            )

    out = data_dir / "live.zip"
    with alias("live", live):
        create_backup(out, using="live", progress=progress)
        assert len(wrote_during) == 1 and wrote_during[0].returncode == 0
        assert AuditEvent.objects.using("live").count() == 6  # the writer did commit

    manifest = verify_backup(out)
    tables = {table["model"]: table for table in manifest["tables"]}
    with zipfile.ZipFile(out) as archive:
        [head] = list(iter_rows(archive, tables["audit.audithead"], AuditHead))
        rows = iter_rows(archive, tables["audit.auditevent"], AuditEvent)
        events = [AuditEvent(**row) for row in rows]
    assert head["seq"] == len(events) == 3
    assert [event.data["round"] for event in events] == ["before"] * 3
    previous = "0" * 64
    for event in sorted(events, key=lambda e: e.seq):
        assert event.prev_hash == previous and compute_hash(event) == event.hash
        previous = event.hash
    assert head["hash"] == previous
