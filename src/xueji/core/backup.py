"""Backup and restore of a whole installation: `xueji backup OUT`, `xueji restore IN`.

The design is an engine-neutral logical backup, one zip file:

    manifest.json                      format and version, Xueji's version, when, the
                                       engine, the applied migrations, every table with
                                       its columns and row count, and the size and SHA-256
                                       of every other member
    data/NNNN-<app>.<model>.jsonl      one JSON array per row, columns as the manifest
                                       names them, tables in dependency order
    media/<path>                       every file under MEDIA_ROOT (photos, evidence ...)
    keys/<path>                        every file under XUEJI_KEY_DIR (private signing keys)

Why not the engines' own tools (`pg_dump`, SQLite's `.backup`)? They need a different
procedure per engine and per operating system (pg_dump on a Windows laptop), they leave
the files to a second tool at a second moment, and neither can carry a county from the
SQLite laptop it started on to PostgreSQL. A dump through Django's models is read back by
either engine, and it carries what must not change byte for byte: the audit chain's
hashes cover the stored values, not the engine's representation, so a chain restored on
PostgreSQL from SQLite still verifies. Why not `dumpdata`/`loaddata`? dumpdata writes
one JSON document (memory grows with the county), its encoder cuts times to milliseconds
(the audit hashes cover microseconds), and loaddata saves row by row with signals.

Consistency while the server runs: every table is read inside one read transaction. On
PostgreSQL it is REPEATABLE READ READ ONLY: one snapshot for all tables, taking no lock a
writer waits for. On SQLite it is a DEFERRED transaction (our settings make transactions
IMMEDIATE, which takes the write lock; a backup must not): in WAL mode a reader keeps
the database as it was at its first read while writers go on. The files are copied after
the tables; a file the data names but that is gone by then is listed in the manifest
(`missing_files`) and reported, never silently skipped.

Restore (core/restore.py) goes only into an empty installation of the same migration
state (an empty database after `xueji migrate` with the Xueji version that made the
backup). It first checks the whole file (every member's size and hash, nothing missing,
nothing extra), then the migration state, then that the database and the file
directories hold nothing of their own; only then it writes: the files, and every row
with its original primary key in one transaction, inserted raw (no `auto_now`, no
`save()`, no signals), so stored times and the audit hashes stay exactly as they were.
Foreign keys are checked at commit (Django declares them DEFERRABLE INITIALLY DEFERRED on
both engines), PostgreSQL's sequences are moved past the restored keys, one event
records the restore, and the audit chain is verified and reported.

The SHA-256 sums detect damage (a truncated copy, a bad disk, an altered byte); they are
no signature, so a backup is kept where only the operator can reach it. It holds every
student's personal data and the units' private signing keys.
"""

import datetime
import hashlib
import io
import json
import os
import zipfile
from base64 import b64encode
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any
from uuid import UUID

from django.apps import apps
from django.conf import settings
from django.db import connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.duration import duration_iso_string
from django.utils.translation import gettext as _

FORMAT = "xueji-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATA_DIR = "data/"
MEDIA_DIR = "media/"
KEYS_DIR = "keys/"
# Logins are not data: a restored installation asks everyone to log in again. The search
# index is the database's own, rebuilt by its triggers as the records are restored
# (students.models.SearchKey).
EXCLUDED = frozenset({"sessions.session", "students.searchkey"})
CHUNK = 2000
COPY_BUFFER = 1024 * 1024

Progress = Callable[[str], None]


class BackupRefused(Exception):
    """The file is not a backup we restore, or the target is not where to restore it.
    `code` is stable (tests, scripts); `message` says what to do, in the active language."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class BackupReport:
    path: Path
    sha256: str
    rows: dict[str, int]
    media_files: int
    key_files: int
    missing_files: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def quiet(message: str) -> None:
    return None


def xueji_version() -> str:
    try:
        return metadata.version("xueji")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- Which tables, in which order ------------------------------------------------------------


def backup_models() -> list[type[models.Model]]:
    """Every table Xueji and Django keep (many-to-many tables included), the tables a row
    points to before the row: a restore then writes parents first. A cycle, if a future
    model makes one, is still restored: foreign keys are checked at commit."""
    candidates = {
        model._meta.label_lower: model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and not model._meta.swapped
        and model._meta.label_lower not in EXCLUDED
    }
    needs: dict[str, set[str]] = {}
    for label, model in candidates.items():
        targets = set()
        for model_field in model._meta.concrete_fields:
            remote = getattr(model_field, "remote_field", None)
            if remote is not None and remote.model is not None:
                target = remote.model._meta.concrete_model._meta.label_lower
                if target != label and target in candidates:
                    targets.add(target)
        needs[label] = targets
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(candidates):
        ready = sorted(
            label for label in candidates if label not in placed and needs[label] <= placed
        )
        if not ready:  # a cycle: take the rest by name
            ready = sorted(label for label in candidates if label not in placed)[:1]
        ordered.append(ready[0])
        placed.add(ready[0])
    return [candidates[label] for label in ordered]


def columns_of(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


# --- Values in and out of JSON ---------------------------------------------------------------


def _encode(value: Any) -> Any:
    """What json cannot write by itself, as the text each field's to_python reads back.
    Times keep their microseconds (DjangoJSONEncoder would cut them to milliseconds, and
    the audit chain's hashes cover them)."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def _decoders(model: type[models.Model], names: list[str]) -> list[Callable[[Any], Any]]:
    by_name = {column.attname: column for column in columns_of(model)}
    decoders: list[Callable[[Any], Any]] = []
    for name in names:
        column = by_name[name]
        if isinstance(column, models.JSONField):
            decoders.append(lambda value: value)  # already the stored structure
        else:
            decoders.append(column.to_python)
    return decoders


def iter_rows(
    archive: zipfile.ZipFile, table: dict[str, Any], model: type[models.Model]
) -> Iterator[dict[str, Any]]:
    """The rows of one table of a backup, as {attname: Python value}."""
    names = table["fields"]
    decoders = _decoders(model, names)
    with archive.open(table["member"]) as raw:
        # Only "\n" ends a row: json.dumps escapes every line break inside a value.
        for line in io.TextIOWrapper(raw, encoding="utf-8", newline="\n"):
            if not line.strip():
                continue
            values = json.loads(line)
            yield {
                name: None if value is None else decode(value)
                for name, decode, value in zip(names, decoders, values, strict=True)
            }


# --- Writing a backup ---------------------------------------------------------------------


@contextmanager
def read_snapshot(using: str = "default") -> Iterator[None]:
    """One consistent view of every table, without holding up the writers (see above)."""
    connection = connections[using]
    if connection.in_atomic_block:
        # Inside a caller's transaction (the test suite) its view applies; a savepoint
        # keeps the caller's transaction as it was.
        with transaction.atomic(using=using):
            yield
        return
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        mode = getattr(connection, "transaction_mode", None)
        connection.transaction_mode = "DEFERRED"  # type: ignore[attr-defined]
        try:
            with transaction.atomic(using=using):
                yield
        finally:
            connection.transaction_mode = mode  # type: ignore[attr-defined]
    elif connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
    else:
        raise BackupRefused(
            "engine",
            _("Backups support SQLite and PostgreSQL, not %(vendor)s.")
            % {"vendor": connection.vendor},
        )


class _Hashing:
    """A writable zip member that counts and hashes what goes through it."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.stream.write(data)

    @property
    def entry(self) -> dict[str, Any]:
        return {"sha256": self.digest.hexdigest(), "size": self.size}


def _file_names(model: type[models.Model]) -> list[str]:
    return [column.attname for column in columns_of(model) if isinstance(column, models.FileField)]


def _dump_table(
    archive: zipfile.ZipFile,
    member: str,
    model: type[models.Model],
    using: str,
    referenced: set[str],
) -> tuple[list[str], int, dict[str, Any]]:
    names = [column.attname for column in columns_of(model)]
    file_positions = [names.index(name) for name in _file_names(model)]
    rows = (
        model._base_manager.using(using)
        .order_by("pk")
        .values_list(*names)
        .iterator(chunk_size=CHUNK)
    )
    count = 0
    with archive.open(member, "w", force_zip64=True) as stream:
        out = _Hashing(stream)
        for row in rows:
            out.write(
                json.dumps(row, default=_encode, ensure_ascii=False, separators=(",", ":")).encode()
                + b"\n"
            )
            for position in file_positions:
                if row[position]:
                    referenced.add(row[position])
            count += 1
    return names, count, out.entry


def _walk(root: Path, skip: set[Path]) -> Iterator[tuple[str, Path]]:
    """(posix path relative to root, path) of every file under root, in a stable order."""
    if not root.is_dir():
        return
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.resolve() in skip or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


def _copy_file(archive: zipfile.ZipFile, member: str, path: Path) -> dict[str, Any] | None:
    try:
        source = path.open("rb")
    except FileNotFoundError:  # removed while we walked: it is no longer part of the data
        return None
    with source, archive.open(member, "w", force_zip64=True) as stream:
        out = _Hashing(stream)
        while chunk := source.read(COPY_BUFFER):
            out.write(chunk)
    return out.entry


def create_backup(
    out: Path | str, *, using: str = "default", progress: Progress | None = None
) -> BackupReport:
    """Write the backup to `out` (a new file; it appears only when complete)."""
    progress = progress or quiet
    out = Path(out).resolve()
    partial = out.with_name(out.name + ".partial")
    media_root = Path(settings.MEDIA_ROOT).resolve()
    key_dir = Path(settings.XUEJI_KEY_DIR).resolve()
    connection = connections[using]
    members: dict[str, dict[str, Any]] = {}
    tables: list[dict[str, Any]] = []
    referenced: set[str] = set()
    counts = {"media": 0, "keys": 0}
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with (
            os.fdopen(fd, "wb") as target,
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        ):
            with read_snapshot(using):
                recorder = MigrationRecorder(connection)
                migrations = sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())
                for position, model in enumerate(backup_models(), start=1):
                    label = model._meta.label_lower
                    member = f"{DATA_DIR}{position:04d}-{label}.jsonl"
                    names, count, entry = _dump_table(archive, member, model, using, referenced)
                    members[member] = entry
                    tables.append(
                        {
                            "model": label,
                            "table": model._meta.db_table,
                            "fields": names,
                            "rows": count,
                            "member": member,
                        }
                    )
                    progress(f"{label}: {count}")
            skip = {out, partial}
            present: set[str] = set()
            for prefix, root, kind in (
                (MEDIA_DIR, media_root, "media"),
                (KEYS_DIR, key_dir, "keys"),
            ):
                for relative, path in _walk(root, skip):
                    copied = _copy_file(archive, prefix + relative, path)
                    if copied is not None:
                        members[prefix + relative] = copied
                        counts[kind] += 1
                        if kind == "media":
                            present.add(relative)
            progress(f"files: {counts['media']} media, {counts['keys']} keys")
            missing = sorted(referenced - present)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "xueji_version": xueji_version(),
                "created_at": timezone.now().isoformat(),
                "engine": connection.vendor,
                "migrations": migrations,
                "tables": tables,
                "files": counts,
                "missing_files": missing,
                "members": members,
            }
            archive.writestr(
                MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
            )
        digest = sha256_of(partial)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupReport(
        path=out,
        sha256=digest,
        rows={table["model"]: table["rows"] for table in tables},
        media_files=counts["media"],
        key_files=counts["keys"],
        missing_files=missing,
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(COPY_BUFFER):
            digest.update(chunk)
    return digest.hexdigest()


def record_backup(report: BackupReport) -> None:
    """The audit log says when a copy of everything was taken, and which file it is."""
    from xueji.audit.services import record_event

    with transaction.atomic():
        record_event(
            "backup.created",
            actor=None,
            data={
                "file": report.path.name,
                "sha256": report.sha256,
                "rows": report.total_rows,
                "media_files": report.media_files,
                "key_files": report.key_files,
                "missing_files": len(report.missing_files),
            },
        )


# --- Checking a backup -----------------------------------------------------------------------


def safe_relative(name: str, prefix: str) -> str:
    """A member's path below its directory, refused if it could climb out of it."""
    relative = name[len(prefix) :]
    path = PurePosixPath(relative)
    if (
        not relative
        or "\\" in relative
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in relative.split("/"))
    ):
        raise BackupRefused(
            "member", _("The backup holds a file with an unsafe name: %(name)s.") % {"name": name}
        )
    return relative


def verify_backup(path: Path | str) -> dict[str, Any]:
    """The manifest of a backup whose every member is present, alone, and unaltered;
    BackupRefused naming the first problem otherwise. Nothing is written."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, NotImplementedError) as error:
        raise BackupRefused(
            "not_a_backup", _("This file is not a Xueji backup (not a readable zip file).")
        ) from error
    with archive:
        try:
            manifest = json.loads(archive.read(MANIFEST))
        except (KeyError, ValueError) as error:
            raise BackupRefused(
                "manifest", _("The backup's manifest is missing or damaged.")
            ) from error
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupRefused("manifest", _("This file is not a Xueji backup."))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BackupRefused(
                "format_version",
                _(
                    "The backup has format version %(found)s; this Xueji reads version "
                    "%(wanted)s. Restore it with the Xueji version that made it (%(version)s)."
                )
                % {
                    "found": manifest.get("format_version"),
                    "wanted": FORMAT_VERSION,
                    "version": manifest.get("xueji_version", "?"),
                },
            )
        expected: dict[str, dict[str, Any]] = manifest.get("members") or {}
        if not isinstance(expected, dict) or not all(
            isinstance(entry, dict) for entry in expected.values()
        ):
            raise BackupRefused("manifest", _("The backup's manifest is missing or damaged."))
        present = {info.filename: info for info in archive.infolist()}
        present.pop(MANIFEST, None)
        missing = sorted(set(expected) - set(present))
        extra = sorted(set(present) - set(expected))
        if missing:
            raise BackupRefused(
                "missing_member",
                _("The backup is incomplete: %(name)s is missing.") % {"name": missing[0]},
            )
        if extra:
            raise BackupRefused(
                "extra_member",
                _("The backup holds a file its manifest does not list: %(name)s.")
                % {"name": extra[0]},
            )
        for name, entry in sorted(expected.items()):
            prefix = next((p for p in (DATA_DIR, MEDIA_DIR, KEYS_DIR) if name.startswith(p)), None)
            if prefix is None:
                raise BackupRefused(
                    "member", _("The backup holds an unexpected file: %(name)s.") % {"name": name}
                )
            safe_relative(name, prefix)
            if present[name].file_size != entry.get("size"):
                raise altered(name)
            digest = hashlib.sha256()
            try:
                with archive.open(name) as stream:
                    while chunk := stream.read(COPY_BUFFER):
                        digest.update(chunk)
            except (zipfile.BadZipFile, OSError) as error:  # a CRC error: damaged bytes
                raise altered(name) from error
            if digest.hexdigest() != entry.get("sha256"):
                raise altered(name)
        tables = manifest.get("tables")
        if not isinstance(tables, list) or not all(_well_formed(table) for table in tables):
            raise BackupRefused("manifest", _("The backup's manifest is missing or damaged."))
        if not {table["member"] for table in tables} <= set(expected):
            raise BackupRefused("manifest", _("The backup's manifest is missing or damaged."))
    return manifest


def _well_formed(table: Any) -> bool:
    return (
        isinstance(table, dict)
        and isinstance(table.get("model"), str)
        and isinstance(table.get("member"), str)
        and isinstance(table.get("rows"), int)
        and isinstance(table.get("fields"), list)
        and all(isinstance(name, str) for name in table["fields"])
    )


def altered(name: str) -> BackupRefused:
    return BackupRefused(
        "altered",
        _(
            "The backup is damaged or was altered: %(name)s does not match the checksum "
            "its manifest recorded. Use another copy."
        )
        % {"name": name},
    )
