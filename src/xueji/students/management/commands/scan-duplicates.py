"""`xueji scan-duplicates --user LOGIN`: scan the user's county for double registrations
(N11), synchronously, as the double-registration page's button does in the background.

Prints how many candidate pairs the county has and how many were new; the new ones wait
on the double-registration page for the bureau's decision. Exits non-zero, with the
reason, when the user may not scan.
"""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from xueji.core.errors import RuleViolation
from xueji.orgs.models import User
from xueji.students.duplicates import do_scan_duplicates


class Command(BaseCommand):
    help = "Scan the county for double registrations and hold the new pairs for the bureau."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="act as this bureau registrar")

    def handle(self, *args, user, **options):
        actor = User.objects.filter(username=user, is_active=True).select_related("unit").first()
        if actor is None:
            raise CommandError(f"no active user {user!r}")
        try:
            result = do_scan_duplicates(actor=actor)
        except (RuleViolation, PermissionDenied) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"found {result.found} candidate pair(s), {result.added} new; "
            "the new ones wait on the double-registration page"
        )
