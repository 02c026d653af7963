"""Setting up reporting rounds for tests: a school year whose dates sit around today, and
packages put in place directly (tests may set data up; product code goes through services)."""

import datetime
import hashlib
import uuid

from django.utils import timezone

from xueji.core import services as calendar_services
from xueji.packages.models import ChangeRound, Package, PackageChange, SigningKey


def today() -> datetime.date:
    return timezone.localdate()


def open_year(cast, *, autumn_start: datetime.date, actor=None):
    """A school year whose autumn starts on `autumn_start` (its spring 170 days later)."""
    return calendar_services.do_save_school_year(
        actor=actor,
        county=cast.county,
        start_year=autumn_start.year,
        autumn_start=autumn_start,
        spring_start=autumn_start + datetime.timedelta(days=170),
    )


def regular(year, term: str = "autumn") -> ChangeRound:
    return ChangeRound.objects.get(semester__school_year=year, semester__term=term)


def key_of(unit, *, offline: bool = False) -> SigningKey:
    """The unit's live key: made here (a private file) or, offline, registered from its
    laptop (the public half only)."""
    found = SigningKey.objects.filter(unit=unit, revoked_at__isnull=True).first()
    if found is not None:
        return found
    public = hashlib.sha256(f"key-{unit.pk}".encode()).digest()
    return SigningKey.objects.create(
        unit=unit,
        public_key=public.hex()[:44],
        fingerprint=hashlib.sha256(public).hexdigest(),
        private_file="" if offline else f"unit-{unit.pk}.key",
        registered_at=timezone.now(),
    )


def put_package(
    unit,
    change_round,
    *,
    direction=Package.Direction.EXPORT,
    changes: int = 2,
    schools=None,
    verdicts=(),
    offline: bool = False,
) -> Package:
    """A package of the round as the export (or, for an offline unit, the import) leaves it."""
    key = key_of(unit, offline=offline)
    package = Package.objects.create(
        package_id=uuid.uuid4(),
        direction=direction,
        content=Package.Content.CHANGES,
        unit=unit,
        key=key,
        sequence=key.packages.count() + 1,
        installation_id=uuid.uuid4(),
        made_by="tester",
        made_at=timezone.now(),
        selection={
            "schools": [school.school_code for school in (schools or [unit])],
            "from": change_round.changes_from.isoformat(),
            "to": change_round.changes_to.isoformat(),
        },
        counts={"changes": changes},
        sha256="0" * 64,
        file="packages/test.zip",
        round=change_round,
    )
    for index, verdict in enumerate(verdicts):
        PackageChange.objects.create(
            package=package,
            change_uid=uuid.uuid4(),
            kind="transfer",
            student_name=f"学生{index}",
            effective_date=change_round.changes_from,
            verdict=verdict,
        )
    return package
