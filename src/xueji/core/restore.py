"""Restoring a backup (core/backup.py describes the file and why it is made so) into an
empty installation: `xueji restore IN`.

Everything is checked before anything is written: the file (every member present, alone
and unaltered), the migration state (equal to the backup's), the database (no rows of
its own) and the media and key directories (no file that would be replaced). Then the
files are written and every row inserted with its original primary key in one
transaction, raw, so stored times and the audit chain's hashes stay as they were; one
event records the restore, and the audit chain is verified and reported.
"""

import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.sql import InsertQuery
from django.utils.translation import gettext as _

from xueji.core.backup import (
    COPY_BUFFER,
    KEYS_DIR,
    MEDIA_DIR,
    BackupRefused,
    Progress,
    altered,
    backup_models,
    columns_of,
    iter_rows,
    quiet,
    safe_relative,
    sha256_of,
    verify_backup,
)

# Tables `xueji migrate` fills by itself (content types, permissions, the code tables, the
# chain's genesis head): an empty installation holds them, and a restore replaces them.
SEEDED = ("auth.permission", "contenttypes.contenttype", "students.codeitem", "audit.audithead")


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    rows: dict[str, int]
    files: int
    chain_ok: bool
    chain_message: str


def _check_migrations(manifest: dict[str, Any], using: str) -> None:
    recorder = MigrationRecorder(connections[using])
    if not recorder.has_table():
        raise BackupRefused(
            "not_migrated",
            _("The database has no tables yet: run `xueji migrate` first, then restore."),
        )
    here = {f"{app}.{name}" for app, name in recorder.applied_migrations()}
    there = set(manifest.get("migrations") or [])
    if here == there:
        return
    version = manifest.get("xueji_version", "?")
    if there - here:
        raise BackupRefused(
            "migrations",
            _(
                "The backup was made at a later migration state than this installation "
                "(%(example)s is not applied here). Run `xueji migrate`; if that is not "
                "enough, install Xueji %(version)s (the version that made the backup) or newer."
            )
            % {"example": sorted(there - here)[0], "version": version},
        )
    raise BackupRefused(
        "migrations",
        _(
            "This installation is newer than the backup (%(example)s was not applied when "
            "the backup was made). Restore with Xueji %(version)s, the version that made "
            "it, into an empty database, then upgrade as usual."
        )
        % {"example": sorted(here - there)[0], "version": version},
    )


def _check_empty(using: str) -> None:
    holding = []
    for model in backup_models():
        label = model._meta.label_lower
        if label in SEEDED:
            continue
        count = model._base_manager.using(using).count()
        if count:
            holding.append(f"{label} ({count})")
    from xueji.audit.models import AuditHead

    if AuditHead.objects.using(using).filter(seq__gt=0).exists():
        holding.append("audit.audithead")
    if holding:
        raise BackupRefused(
            "not_empty",
            _(
                "The database is not empty: it holds %(tables)s. A backup is restored only "
                "into a new installation: create an empty database, run `xueji migrate`, "
                "then `xueji restore`."
            )
            % {"tables": ", ".join(holding[:5]) + (" …" if len(holding) > 5 else "")},
        )


def _file_plan(manifest: dict[str, Any], archive: zipfile.ZipFile) -> list[tuple[str, Path]]:
    """Where each file goes. A file already there with other content is never replaced."""
    roots = {
        MEDIA_DIR: Path(settings.MEDIA_ROOT).resolve(),
        KEYS_DIR: Path(settings.XUEJI_KEY_DIR).resolve(),
    }
    plan = []
    for name, entry in sorted(manifest["members"].items()):
        for prefix, root in roots.items():
            if not name.startswith(prefix):
                continue
            target = (root / safe_relative(name, prefix)).resolve()
            if root not in target.parents:
                raise BackupRefused(
                    "member",
                    _("The backup holds a file with an unsafe name: %(name)s.") % {"name": name},
                )
            if target.exists():
                if sha256_of(target) != entry["sha256"]:
                    raise BackupRefused(
                        "files_exist",
                        _(
                            "%(path)s already exists with other content. Restore into a new "
                            "installation with empty media and key directories."
                        )
                        % {"path": target},
                    )
                continue
            plan.append((name, target))
    return plan


def _write_files(
    archive: zipfile.ZipFile, plan: list[tuple[str, Path]], written: list[Path]
) -> None:
    key_dir = Path(settings.XUEJI_KEY_DIR).resolve()
    for name, target in plan:
        private = key_dir in target.parents
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
        written.append(target)
        with archive.open(name) as source, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, COPY_BUFFER)


def _insert_table(
    archive: zipfile.ZipFile, table: dict[str, Any], model: type[models.Model], using: str
) -> int:
    """Insert the rows as stored: a raw insert (what loaddata does) skips every field's
    pre_save, so auto_now and auto_now_add keep the stored times, and Model.save, which
    the audit log's models guard, is never called."""
    connection = connections[using]
    by_name = {column.attname: column for column in columns_of(model)}
    columns = [by_name[name] for name in table["fields"]]
    batch_size = max(1, min(500, connection.ops.bulk_batch_size(columns, [None] * 500)))
    count = 0
    batch: list[models.Model] = []

    def flush() -> None:
        query = InsertQuery(model)
        query.insert_values(columns, batch, raw=True)
        query.get_compiler(using=using).execute_sql(returning_fields=None)
        batch.clear()

    try:
        for row in iter_rows(archive, table, model):
            batch.append(model(**row))
            count += 1
            if len(batch) >= batch_size:
                flush()
    except (ValueError, TypeError, ValidationError) as error:
        # The checksums matched, so the manifest and its data were made to disagree.
        raise altered(table["member"]) from error
    if batch:
        flush()
    return count


def _check_tables(manifest: dict[str, Any]) -> list[tuple[dict[str, Any], type[models.Model]]]:
    """Pair each table of the backup with our model; the same migrations imply the same
    columns, and this says so before anything is written if the code differs anyway."""
    models_by_label = {model._meta.label_lower: model for model in backup_models()}
    pairs = []
    for table in manifest.get("tables", []):
        model = models_by_label.get(table.get("model"))
        if model is None:
            raise BackupRefused(
                "tables",
                _("The backup holds a table this Xueji does not know: %(table)s.")
                % {"table": table.get("model")},
            )
        if sorted(table.get("fields", [])) != sorted(c.attname for c in columns_of(model)):
            raise BackupRefused(
                "tables",
                _(
                    "The columns of %(table)s differ from this Xueji's; restore with the "
                    "version that made the backup."
                )
                % {"table": table["model"]},
            )
        pairs.append((table, model))
    labels = [table["model"] for table, _model in pairs]
    if len(labels) != len(set(labels)):
        raise BackupRefused("manifest", _("The backup's manifest is missing or damaged."))
    missing = set(models_by_label) - set(labels)
    if missing:
        raise BackupRefused(
            "tables",
            _("The backup lacks the table %(table)s; restore with the version that made it.")
            % {"table": sorted(missing)[0]},
        )
    return pairs


def restore_backup(path: Path | str, *, progress: Progress | None = None) -> RestoreReport:
    """Restore into the configured, empty installation; BackupRefused before anything is
    written if the file or the target is not right."""
    from django.contrib.contenttypes.models import ContentType

    from xueji.audit.services import record_event, verify_chain

    progress = progress or quiet
    using = "default"
    path = Path(path)
    manifest = verify_backup(path)
    progress(_("The backup is complete and unaltered."))
    _check_migrations(manifest, using)
    _check_empty(using)
    pairs = _check_tables(manifest)
    rows: dict[str, int] = {}
    written: list[Path] = []
    with zipfile.ZipFile(path) as archive:
        plan = _file_plan(manifest, archive)
        try:
            with transaction.atomic(using=using):
                for label in SEEDED:  # the target's own copies; the backup's replace them
                    apps.get_model(label)._base_manager.using(using).all().delete()
                for table, model in pairs:
                    count = _insert_table(archive, table, model, using)
                    if count != table["rows"]:
                        raise altered(table["member"])
                    rows[table["model"]] = count
                    progress(f"{table['model']}: {count}")
                connection = connections[using]
                statements = connection.ops.sequence_reset_sql(
                    no_style(), [model for _table, model in pairs]
                )
                with connection.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement)
                _write_files(archive, plan, written)
                record_event(
                    "backup.restored",
                    actor=None,
                    data={
                        "file": path.name,
                        "sha256": sha256_of(path),
                        "created_at": manifest.get("created_at"),
                        "xueji_version": manifest.get("xueji_version"),
                        "engine": manifest.get("engine"),
                        "rows": sum(rows.values()),
                        "files": len(plan),
                    },
                )
        except DatabaseError as error:
            # A row the database refuses (a key that points nowhere, checked at commit):
            # the transaction is rolled back, so nothing was restored.
            for target in written:
                target.unlink(missing_ok=True)
            raise BackupRefused(
                "database",
                _("The database refused the backup's rows (%(error)s).") % {"error": error},
            ) from error
        except BaseException:
            for target in written:
                target.unlink(missing_ok=True)
            raise
    ContentType.objects.clear_cache()
    chain = verify_chain()
    return RestoreReport(
        manifest=manifest,
        rows=rows,
        files=len(plan),
        chain_ok=chain.ok,
        chain_message=chain.message,
    )
