"""`xueji backup OUT`: a consistent backup of the database, the uploaded files and the
signing keys, while the server runs (core/backup.py describes the file).

OUT is the zip to write, or an existing directory to write `xueji-backup-<time>.zip` in
(for a nightly job). An existing file is never overwritten. The command prints what the
backup holds and its SHA-256; files the database names but that were missing are
listed as warnings. One audit event records that the copy was taken.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from xueji.core.backup import BackupRefused, create_backup, record_backup


class Command(BaseCommand):
    help = "Back up the database, the uploaded files and the signing keys into one zip file."

    def add_arguments(self, parser):
        parser.add_argument("out", help="the .zip to write, or a directory to write it in")

    def handle(self, *args, out, verbosity, **options):
        path = Path(out)
        if path.is_dir():
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            path = path / f"xueji-backup-{stamp}.zip"
        if path.exists():
            raise CommandError(f"{path} exists; choose a new name (a backup never overwrites)")
        if not path.parent.is_dir():
            raise CommandError(f"no such directory: {path.parent}")

        def progress(message: str) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  {message}")

        try:
            report = create_backup(path, progress=progress)
        except BackupRefused as error:
            raise CommandError(error.message) from error
        record_backup(report)
        for name in report.missing_files:
            self.stderr.write(f"warning: {name} is named by the database but missing on disk")
        self.stdout.write(
            f"backup written to {report.path}: {report.total_rows} rows in {len(report.rows)} "
            f"tables, {report.media_files} media files, {report.key_files} key files; "
            f"sha256 {report.sha256}"
        )
