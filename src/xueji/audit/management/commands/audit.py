"""`xueji audit verify`: recompute the hash chain and name the first altered row."""

import sys

from django.core.management.base import BaseCommand, CommandError

from xueji.audit.services import verify_chain


class Command(BaseCommand):
    help = "Audit log tools. `verify` recomputes the chain and names the first altered event."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"audit chain broken at event #{result.first_bad_seq}: {result.message}"
            )
        self.stdout.write(f"audit chain intact: {result.checked} event(s) verified")
        sys.stdout.flush()
