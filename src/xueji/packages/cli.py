"""What the package commands share: acting as a named user, and one-line answers."""

from django.core.management.base import CommandError

from xueji.orgs.models import User


def acting_user(login: str | None) -> User:
    """Commands act as a named user and go through the same services and scope as the pages."""
    if not login:
        raise CommandError("name the user to act as with --user LOGIN")
    user = User.objects.filter(username=login, is_active=True).select_related("unit").first()
    if user is None:
        raise CommandError(f"no active user {login!r}")
    return user
