"""This installation of Xueji: the one row that names it in every package it writes."""

import socket

from django.db import transaction

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
