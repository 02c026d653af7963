"""This installation of Xueji: the one row that names it in every package it writes."""

import socket

from django.db import transaction
from django.utils import timezone

from xueji.packages.models import Installation


def this_installation() -> Installation:
    """The installation's row, made on first use. Its id never changes, so the bureau can
    tell packages of the county server from those of a school's offline laptop."""
    found = Installation.objects.order_by("created_at", "pk").first()
    if found is not None:
        return found
    with transaction.atomic():
        # Two first uses at once would make two rows; the oldest wins everywhere.
        Installation.objects.create(name=socket.gethostname()[:60])
    return Installation.objects.order_by("created_at", "pk").first() or Installation()


def offline_installation() -> Installation | None:
    """This installation's row when it is a unit's offline laptop (seeded from the bureau's
    package, issue 6), for the banner every page shows; None on the county's server. It
    never makes the row: reading a page writes nothing."""
    return (
        Installation.objects.filter(offline_unit__isnull=False)
        .select_related("offline_unit")
        .order_by("created_at", "pk")
        .first()
    )


# The banner's facts kept in the session: see offline_banner.
BANNER_KEY = "_xueji_offline"


def offline_banner(request) -> dict[str, str] | None:
    """What the offline banner says ({"unit", "seeded"}), or None on the county's server.
    A logged-in session keeps the answer from its first page on, so pages ask the database
    once a session instead of once a page: it cannot change under a session, since a seed
    goes only into an installation without users (seed.check_empty), so no session exists
    before it. The login page (no session yet) asks each time."""
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None or not user.is_authenticated:
        return _banner()
    if BANNER_KEY not in session:
        session[BANNER_KEY] = _banner()
    return session[BANNER_KEY]


def _banner() -> dict[str, str] | None:
    found = offline_installation()
    if found is None or found.offline_unit is None:
        return None
    seeded = timezone.localtime(found.seeded_at).date().isoformat() if found.seeded_at else ""
    return {"unit": found.offline_unit.name, "seeded": seeded}
