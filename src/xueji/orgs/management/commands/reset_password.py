"""`xueji reset_password LOGIN`: the operator sets a new password (audited); the user must
choose their own at the next login."""

import getpass

from django.core.management.base import BaseCommand, CommandError

from xueji.core.errors import RuleViolation
from xueji.orgs.models import User
from xueji.orgs.services import do_reset_password


class Command(BaseCommand):
    help = "Set a new password for a user; they must change it at their next login."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="Asked for when not given")

    def handle(self, *args, username, password, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        password = password or getpass.getpass(f"New password for {username}: ")
        try:
            do_reset_password(user, password, actor=None)
        except RuleViolation as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"password of {username} reset; they must change it at the next login")
