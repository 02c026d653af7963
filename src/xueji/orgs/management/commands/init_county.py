"""`xueji init_county`: start a new installation with its county, bureau and first registrar."""

import getpass

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from xueji.core.errors import RuleViolation
from xueji.orgs import services
from xueji.orgs.models import Role


class Command(BaseCommand):
    help = "Create a county, its education bureau and the bureau's designated registrar."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="6-digit division code, e.g. 370828")
        parser.add_argument("--name", required=True, help="County name, e.g. 金乡县")
        parser.add_argument("--bureau", required=True, help="Bureau name, e.g. 金乡县教育局")
        parser.add_argument("--registrar", required=True, help="Login name of the bureau registrar")
        parser.add_argument("--full-name", default="")
        parser.add_argument("--password", help="Asked for when not given")

    def handle(self, *args, **opts):
        password = opts["password"] or getpass.getpass("Password for the registrar: ")
        try:
            with transaction.atomic():
                county, bureau = services.do_create_county(
                    actor=None,
                    division_code=opts["code"],
                    name=opts["name"],
                    bureau_name=opts["bureau"],
                )
                services.do_create_user(
                    actor=None,
                    unit=bureau,
                    username=opts["registrar"],
                    password=password,
                    role=Role.BUREAU_REGISTRAR,
                    full_name=opts["full_name"],
                    designated=True,
                    must_change_password=True,
                )
        except RuleViolation as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{county.name} and {bureau.name} created; {opts['registrar']} can log in."
        )
