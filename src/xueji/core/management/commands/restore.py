"""`xueji restore IN`: restore a backup made by `xueji backup` into this installation,
which must be empty: a new database after `xueji migrate`, and empty media and key
directories. `xueji restore --check IN` only checks the file (every member present and
unaltered) and writes nothing.

It exits non-zero when the file or the target is refused (nothing was written), and
when the restored audit chain does not verify (the data is restored as the backup held
it; the message names the first bad event).
"""

from django.core.management.base import BaseCommand, CommandError

from xueji.core.backup import BackupRefused, verify_backup
from xueji.core.restore import restore_backup


class Command(BaseCommand):
    help = "Restore a backup into this installation, which must be empty (run migrate first)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup (.zip) written by `xueji backup`")
        parser.add_argument(
            "--check", action="store_true", help="only check the file; write nothing"
        )

    def handle(self, *args, file, check, verbosity, **options):
        def progress(message: str) -> None:
            if verbosity >= 2:
                self.stdout.write(f"  {message}")

        try:
            if check:
                manifest = verify_backup(file)
                rows = sum(table["rows"] for table in manifest["tables"])
                self.stdout.write(
                    f"backup intact: made {manifest['created_at']} by Xueji "
                    f"{manifest['xueji_version']} on {manifest['engine']}, {rows} rows, "
                    f"{manifest['files']['media']} media files, "
                    f"{manifest['files']['keys']} key files"
                )
                return
            report = restore_backup(file, progress=progress)
        except BackupRefused as error:
            raise CommandError(f"nothing was restored: {error.message}") from error
        manifest = report.manifest
        self.stdout.write(
            f"restored the backup made {manifest['created_at']}: "
            f"{sum(report.rows.values())} rows in {len(report.rows)} tables, "
            f"{report.files} files"
        )
        for name in manifest.get("missing_files", []):
            self.stderr.write(f"warning: {name} was missing when the backup was made")
        if not report.chain_ok:
            raise CommandError(f"the restored audit chain is broken: {report.chain_message}")
        self.stdout.write(f"audit chain: {report.chain_message}")
