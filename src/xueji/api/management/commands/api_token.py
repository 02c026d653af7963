"""`xueji api_token create --user LOGIN --name NAME`: a bearer token for a script.

The token is printed once and stored only as its hash; the user can revoke it in the API
(DELETE /api/v1/tokens/{id}) or here with `revoke --id N`.
"""

from django.core.management.base import BaseCommand, CommandError

from xueji.api.models import ApiToken
from xueji.api.services import do_create_api_token, do_revoke_api_token
from xueji.core.errors import RuleViolation
from xueji.orgs.models import User


class Command(BaseCommand):
    help = "Create, list or revoke a user's API tokens (for scripts and batch work)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("--user", required=True, help="login name of the token's owner")
        parser.add_argument("--name", default="", help="what the token is for (create)")
        parser.add_argument("--id", type=int, help="the token to revoke")

    def handle(self, *args, action, user, name, **options):
        owner = User.objects.filter(username=user, is_active=True).first()
        if owner is None:
            raise CommandError(f"no active user {user!r}")
        try:
            if action == "create":
                token, plain = do_create_api_token(actor=owner, name=name)
                self.stdout.write(f"token #{token.pk} for {owner.username}: {plain}")
                self.stdout.write(
                    "Keep it now: it is stored only as a hash and cannot be shown again."
                )
            elif action == "list":
                for token in ApiToken.objects.filter(user=owner).order_by("pk"):
                    state = "revoked" if token.revoked else "active"
                    self.stdout.write(f"#{token.pk} {token.prefix}… {token.name} ({state})")
            else:
                token = ApiToken.objects.filter(user=owner, pk=options["id"]).first()
                if token is None:
                    raise CommandError("no such token for this user")
                do_revoke_api_token(token, actor=owner)
                self.stdout.write(f"token #{token.pk} revoked")
        except RuleViolation as error:
            raise CommandError(error.message) from error
