"""`xueji import-changes FILE [--dry-run] --user LOGIN [--round ID]`: verify a change
package, print each change with its verdict against the registry, and import it (the
bureau registrar). With --dry-run nothing is written. A refused package exits non-zero
with its reason code and message."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.packages import format, import_services
from xueji.packages.cli import acting_user

# A refused package exits with 2 (a broken rule or a missing file exits with 1).
REFUSED = 2


class Command(BaseCommand):
    help = "Verify, reconcile and import a change package at the bureau."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the package (.zip)")
        parser.add_argument("--dry-run", action="store_true", help="show the preview only")
        parser.add_argument("--user", required=True, help="act as this user")
        parser.add_argument("--round", type=int, help="the reporting round's id")

    def handle(self, *args, file, dry_run, user, round, **options):
        actor = acting_user(user)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        if path.stat().st_size > settings.XUEJI_PACKAGE_MAX_BYTES:
            raise CommandError("refused (too_large): the file is too large", returncode=REFUSED)
        data = path.read_bytes()
        change_round = None
        if round is not None:
            change_round = scope_for(actor).rounds().filter(pk=round).first()
            if change_round is None:
                raise CommandError(f"no reporting round {round} in your county")
        try:
            preview = import_services.preview_package(data, actor=actor, round=change_round)
            self._table(preview)
            if preview.already is not None:
                self.stdout.write(preview.message)
                return
            if dry_run:
                self.stdout.write("dry run: nothing was imported")
                return
            result = import_services.do_import_package(data, actor=actor, round=change_round)
        except format.PackageRefused as refusal:
            raise CommandError(
                f"refused ({refusal.code}): {refusal.message}", returncode=REFUSED
            ) from refusal
        except (RuleViolation, PermissionDenied) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(result.message)

    def _table(self, preview: import_services.Preview) -> None:
        verified = preview.verified
        self.stdout.write(
            f"package {verified.sequence} of {verified.unit.name}, made "
            f"{verified.made_at:%Y-%m-%d %H:%M}, {len(preview.changes)} changes, signature "
            "and files intact"
        )
        for item in preview.changes:
            carried, judgement = item.carried, item.judgement
            self.stdout.write(
                "\t".join(
                    [
                        judgement.verdict,
                        carried.name,
                        item.masked_id,
                        carried.kind,
                        carried.state,
                        carried.effective_date.isoformat(),
                        judgement.reason,
                    ]
                )
            )
        counts = ", ".join(f"{verdict} {count}" for verdict, count in preview.counts.items())
        self.stdout.write(counts)
        # An offline unit's new pupils (issue 6).
        for entry in preview.entries:
            self.stdout.write(
                "\t".join(
                    [
                        f"pupil {entry.judgement.verdict}",
                        entry.carried.name,
                        entry.masked_id,
                        entry.carried.state,
                        entry.judgement.reason,
                    ]
                )
            )
        if preview.entries:
            self.stdout.write(
                "new pupils: "
                + ", ".join(f"{verdict} {count}" for verdict, count in preview.entry_counts.items())
            )
