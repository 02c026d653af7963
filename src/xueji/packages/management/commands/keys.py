"""`xueji keys ...`: the signing keys of change packages (B6), as the keys page does it.

xueji keys list --user LOGIN
xueji keys generate --user LOGIN                   the user's unit makes its key
xueji keys replace --reason TEXT --user LOGIN      revoke the unit's key and make a new one
xueji keys export-public --user LOGIN [-o FILE]    the unit's .pub file (stdout by default)
xueji keys register --fingerprint FP --user LOGIN  the bureau registers a pending key
xueji keys register --file UNIT.pub [--heard FP] --user LOGIN   ... or an offline unit's
xueji keys receive --file UNIT.pub --user LOGIN    keep it pending until the phone check
xueji keys revoke --fingerprint FP --reason TEXT --user LOGIN
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.packages import key_services
from xueji.packages.cli import acting_user
from xueji.packages.models import SigningKey
from xueji.packages.units import unit_code


class Command(BaseCommand):
    help = "Make, export, register and revoke the signing keys of change packages."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        for name in ("list", "generate", "export-public"):
            sub = actions.add_parser(name)
            sub.add_argument("--user", required=True)
            if name == "export-public":
                sub.add_argument("-o", "--output", help="write the .pub file here")
        replace = actions.add_parser("replace")
        replace.add_argument("--user", required=True)
        replace.add_argument("--reason", required=True)
        register = actions.add_parser("register")
        register.add_argument("--user", required=True)
        register.add_argument("--fingerprint", help="a pending key's fingerprint (or its start)")
        register.add_argument("--file", help="an offline unit's .pub file")
        register.add_argument("--heard", default="", help="the fingerprint read over the phone")
        receive = actions.add_parser("receive")
        receive.add_argument("--user", required=True)
        receive.add_argument("--file", required=True, help="an offline unit's .pub file")
        revoke = actions.add_parser("revoke")
        revoke.add_argument("--user", required=True)
        revoke.add_argument("--fingerprint", required=True)
        revoke.add_argument("--reason", required=True)

    def handle(self, *args, action, user, **options):
        actor = acting_user(user)
        try:
            getattr(self, "_" + action.replace("-", "_"))(actor, **options)
        except (RuleViolation, PermissionDenied) as error:
            raise CommandError(str(error)) from error

    def _line(self, key: SigningKey) -> str:
        state = "revoked" if key.revoked_at else "registered" if key.registered_at else "pending"
        return f"{unit_code(key.unit)}\t{key.unit.name}\t{state}\t{key.fingerprint}"

    def _find(self, actor, fingerprint: str) -> SigningKey:
        wanted = "".join(fingerprint.split()).lower()
        found = list(scope_for(actor).signing_keys().filter(fingerprint__startswith=wanted)[:2])
        if len(wanted) < 8 or len(found) != 1:
            raise CommandError(f"no single key in your scope starts with {fingerprint!r}")
        return found[0]

    def _list(self, actor, **options):
        for key in scope_for(actor).signing_keys().order_by("unit__name", "-created_at"):
            self.stdout.write(self._line(key))

    def _generate(self, actor, **options):
        key = key_services.do_generate_key(actor=actor)
        self.stdout.write(f"made: {self._line(key)}")
        self.stdout.write(f"read to the bureau: {key_services.grouped(key.fingerprint)}")

    def _replace(self, actor, reason, **options):
        key = key_services.do_replace_key(actor=actor, reason=reason)
        self.stdout.write(f"made: {self._line(key)}")

    def _export_public(self, actor, output=None, **options):
        unit = scope_for(actor).unit
        key = key_services.live_key(unit) if unit is not None else None
        if key is None:
            raise CommandError("your unit has no key; make one with `xueji keys generate`")
        text = key_services.public_key_text(key)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(f"written to {output}: {key_services.grouped(key.fingerprint)}")
        else:
            self.stdout.write(text, ending="")

    def _register(self, actor, fingerprint=None, file=None, heard="", **options):
        if bool(fingerprint) == bool(file):
            raise CommandError("name either --fingerprint or --file")
        if file:
            key = key_services.do_register_public_key(
                Path(file).read_bytes(), actor=actor, fingerprint_read=heard
            )
        else:
            key = key_services.do_register_key(self._find(actor, fingerprint), actor=actor)
        self.stdout.write(f"registered: {self._line(key)}")

    def _receive(self, actor, file, **options):
        key = key_services.do_register_public_key(
            Path(file).read_bytes(), actor=actor, register=False
        )
        self.stdout.write(f"received: {self._line(key)}")

    def _revoke(self, actor, fingerprint, reason, **options):
        key = key_services.do_revoke_key(self._find(actor, fingerprint), actor=actor, reason=reason)
        self.stdout.write(f"revoked: {self._line(key)}")
