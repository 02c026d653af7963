"""`xueji seed-offline PACKAGE --bureau-key BUREAU.pub --registrar LOGIN [--password P]
[--name NAME] [--leader LOGIN --leader-password P]`: make this freshly migrated, empty
installation the offline installation of the unit the bureau's seed is for (issue 6).

The package is verified against the bureau's public key file given, and against nothing
else: the command shows the key's fingerprint (compare it with the bureau's signing keys
page) and refuses a package signed with any other key, an altered byte, or a non-empty
installation, writing nothing. Then it writes the seed, creates the registrar (and the
leader, who signs change reports with the registrar), both of whom must change the
password at first login, makes the unit's signing key and writes its .pub file next to
the package: carry it to the bureau and read the fingerprint to them over the phone.
"""

import getpass
import sys
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from xueji.core.errors import RuleViolation
from xueji.packages import format, key_services, seed

REFUSED = 2


def _password(given: str | None, login: str) -> str:
    if given:
        return given
    if not sys.stdin.isatty():
        raise CommandError(f"give the password of {login} with the password option")
    first = getpass.getpass(f"password for {login}: ")
    if first != getpass.getpass(f"password for {login} again: "):
        raise CommandError("the two passwords differ")
    return first


class Command(BaseCommand):
    help = "Seed this empty installation from the bureau's students package (offline unit)."

    def add_arguments(self, parser):
        parser.add_argument("package", help="the bureau's seed (.zip)")
        parser.add_argument("--bureau-key", required=True, help="the bureau's public key (.pub)")
        parser.add_argument("--registrar", required=True, help="the registrar's login to create")
        parser.add_argument("--password", help="the registrar's first password (else asked)")
        parser.add_argument("--name", default="", help="the registrar's full name")
        parser.add_argument("--leader", help="also create the unit's leader with this login")
        parser.add_argument("--leader-password", help="the leader's first password")
        parser.add_argument("--leader-name", default="", help="the leader's full name")

    def handle(self, *args, package, bureau_key, registrar, password, name, **options):
        package_path, key_path = Path(package), Path(bureau_key)
        for path in (package_path, key_path):
            if not path.is_file():
                raise CommandError(f"no such file: {path}")
        try:
            verified = seed.read_seed(package_path.read_bytes(), key_path.read_bytes())
        except format.PackageRefused as refusal:
            raise CommandError(
                f"refused ({refusal.code}): {refusal.message}", returncode=REFUSED
            ) from refusal
        except RuleViolation as error:
            raise CommandError(f"refused: {error}", returncode=REFUSED) from error
        fingerprint = key_services.grouped(verified.bureau_key.fingerprint)
        self.stdout.write(
            f"bureau key {verified.bureau_key.unit_name} ({verified.bureau_key.unit_code}): "
            f"{fingerprint}"
        )
        self.stdout.write(
            "the package is signed with this key and every file is intact; compare the "
            "fingerprint with the one the bureau reads to you"
        )
        try:
            seed.check_empty()
        except RuleViolation as error:
            raise CommandError(f"refused: {error}", returncode=REFUSED) from error
        leader = None
        if options.get("leader"):
            leader = seed.Person(
                options["leader"],
                _password(options.get("leader_password"), options["leader"]),
                options.get("leader_name") or "",
            )
        person = seed.Person(registrar, _password(password, registrar), name)
        try:
            result = seed.do_seed_offline(
                verified,
                registrar=person,
                leader=leader,
                public_key_dir=package_path.resolve().parent,
            )
        except (RuleViolation, PermissionDenied) as error:
            raise CommandError(f"refused: {error}") from error
        counts = result.counts
        self.stdout.write(
            f"offline installation of {result.unit.name}: {counts['students']} students, "
            f"{counts['records']} records, {counts['photos']} photos, "
            f"{counts['change_requests']} pending requests, {counts['intake_entries']} intake "
            "entries"
        )
        users = [result.registrar.username] + ([result.leader.username] if result.leader else [])
        self.stdout.write(f"users: {', '.join(users)} (must change the password at first login)")
        self.stdout.write(f"the unit's public key file: {result.public_key_path}")
        self.stdout.write(
            f"read this fingerprint to the bureau: {key_services.grouped(result.key.fingerprint)}"
        )
