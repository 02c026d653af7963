"""`xueji export-students --unit CODE -o FILE --user LOGIN`: the bureau's seed of a unit's
offline installation (issue 6), signed with the bureau's key, written to FILE. The laptop
reads it with `xueji seed-offline`. Exits non-zero, with the reason, when it is refused."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.packages import key_services, offline_services
from xueji.packages.cli import acting_user
from xueji.packages.units import unit_by_code


class Command(BaseCommand):
    help = "Make the signed seed of a unit's offline installation (the bureau registrar)."

    def add_arguments(self, parser):
        parser.add_argument("--unit", required=True, help="the school's 10-digit code")
        parser.add_argument("-o", "--output", required=True, help="the package file to write")
        parser.add_argument("--user", required=True, help="act as this user")

    def handle(self, *args, unit, output, user, **options):
        actor = acting_user(user)
        found = unit_by_code(unit, scope_for(actor).county())
        if found is None:
            raise CommandError(f"no unit with the code {unit!r} in your county")
        try:
            package = offline_services.do_export_students(actor=actor, unit=found)
        except (RuleViolation, PermissionDenied) as error:
            raise CommandError(f"refused: {error}") from error
        with package.file.open("rb") as handle:
            Path(output).write_bytes(handle.read())
        counts = package.counts
        self.stdout.write(
            f"seed of {found.name}: {counts.get('students', 0)} students, "
            f"{counts.get('photos', 0)} photos, {counts.get('change_requests', 0)} pending "
            f"requests, {counts.get('intake_entries', 0)} intake entries -> {output} "
            f"(sha256 {package.sha256})"
        )
        if counts.get("photos_missing"):
            self.stdout.write(
                f"warning: {counts['photos_missing']} photos are missing from the files here"
            )
        self.stdout.write(
            "signed with the bureau's key "
            f"{key_services.grouped(package.key.fingerprint)}: give the laptop the bureau's "
            "public key file too (signing keys page or `xueji keys export-public`)"
        )
