"""Seeding an offline installation (issue 6): `xueji seed-offline PACKAGE --bureau-key
BUREAU.pub --registrar LOGIN` on a freshly migrated, empty installation (a unit's laptop).

Nothing is written before everything is checked: the bureau's public key file, the
package's every byte and signature against that key (and nothing else), its content (a
students package of the bureau named in the key file), every row of students.json
against this version's tables, and that the installation is empty. Then, in one
transaction: the county, its calendar and unit tree, the students with their records,
placements, numbers, family members and photos exactly as the bureau holds them (same
national and provincial numbers, same change request and intake entry uids), the
pending change requests with their steps and scans, the bureau's public key (registered,
the seed's signer), the seed as an imported package, this installation marked as the
offline installation of the unit, the unit's registrar (and leader) who must change the
password at first login, and the unit's own signing key, whose .pub file the registrar
carries to the bureau. One audit event names the package; each student's arrival is an
event too.
"""

import dataclasses
import datetime
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.audit.services import record_event, record_events
from xueji.changes.models import ChangeRequest
from xueji.core.errors import RuleViolation
from xueji.core.models import CalendarDay, SchoolYear
from xueji.intake.models import IntakeEntry
from xueji.orgs import services as org_services
from xueji.orgs.models import County, Role, Unit, User
from xueji.packages import format, key_services
from xueji.packages.installation import this_installation
from xueji.packages.models import Package, SigningKey
from xueji.packages.seed_data import Seed, carried_times, parse_seed
from xueji.packages.units import unit_code
from xueji.students.models import NumberSequence, Student, StudentRecord

# What a fresh `xueji migrate` leaves empty, and a seeded installation fills.
SEEDED_TABLES = (County, Unit, User, Student, StudentRecord, SchoolYear, ChangeRequest)
SEEDED_TABLES_EXTRA = (IntakeEntry, SigningKey, Package)


@dataclasses.dataclass(frozen=True)
class SeedPackage:
    """A seed verified against the bureau's key file, not yet written."""

    package: format.VerifiedPackage
    bureau_key: key_services.PublicKeyFile
    seed: Seed
    data: bytes

    @property
    def manifest(self) -> dict[str, Any]:
        return self.package.manifest

    @property
    def unit_name(self) -> str:
        for unit, code, _parent in self.seed.units:
            if code == self.seed.unit:
                return unit.name
        return self.seed.unit


@dataclasses.dataclass
class SeedResult:
    unit: Unit
    registrar: User
    leader: User | None
    key: SigningKey
    bureau_key: SigningKey
    package: Package
    counts: dict[str, int]
    public_key_path: Path | None = None


def _refused(code: str, message: str) -> format.PackageRefused:
    return format.PackageRefused(code, message)


def read_seed(data: bytes, bureau_public: bytes) -> SeedPackage:
    """Verify the seed against the bureau's .pub file, or raise naming the first thing
    wrong (PackageRefused for the package, RuleViolation for the key file)."""
    bureau_key = key_services.parse_public_key(bureau_public)
    if len(bureau_key.unit_code) != 6:
        raise RuleViolation(
            _(
                "Bureau key: this is the key file of %(unit)s, not of a county's bureau. Ask "
                "the bureau for its own key file."
            )
            % {"unit": bureau_key.unit_name or bureau_key.unit_code},
            field="bureau_key",
        )
    limit = settings.XUEJI_PACKAGE_MAX_BYTES
    if len(data) > limit:
        raise _refused(
            "too_large",
            _("The file is larger than %(limit)d MB.") % {"limit": limit // (1024 * 1024)},
        )
    named: list[str] = []

    def find_key(fingerprint: str) -> format.KnownKey | None:
        named.append(fingerprint)
        if fingerprint != bureau_key.fingerprint:
            return None
        return format.KnownKey(public=bureau_key.public, revoked=False)

    try:
        package = format.read(data, find_key)
    except format.PackageRefused as refusal:
        if refusal.code != "unknown_key":
            raise
        raise _refused(
            "unknown_key",
            _(
                "The package is not signed with the bureau's key in the key file (%(expected)s) "
                "but with the key %(found)s: do not use it. Ask the bureau for its seed and "
                "its key file again."
            )
            % {
                "expected": key_services.grouped(bureau_key.fingerprint)[:19],
                "found": key_services.grouped(named[-1] if named else "")[:19] or "—",
            },
        ) from refusal
    manifest = package.manifest
    if manifest.get("content") != Package.Content.STUDENTS:
        raise _refused(
            "wrong_content",
            _("This package does not hold the bureau's students: it cannot seed an installation."),
        )
    maker = manifest.get("unit")
    unit: dict[str, Any] = maker if isinstance(maker, dict) else {}
    if str(unit.get("code")) != bureau_key.unit_code or unit.get("kind") != Unit.Kind.BUREAU:
        raise _refused(
            "outside_scope",
            _("The package names %(unit)s as its maker, not the bureau of the key file.")
            % {"unit": unit.get("name") or unit.get("code") or "—"},
        )
    seed = parse_seed(package)
    if seed.county.division_code != bureau_key.unit_code:
        raise _refused(
            "outside_scope",
            _("The package's county is not the county of the bureau's key file."),
        )
    return SeedPackage(package=package, bureau_key=bureau_key, seed=seed, data=data)


def holding_tables() -> list[str]:
    """The tables that hold rows already: a seed goes into an empty installation only."""
    return [
        f"{model._meta.label_lower} ({count})"
        for model in (*SEEDED_TABLES, *SEEDED_TABLES_EXTRA)
        if (count := model._base_manager.count())
    ]


def check_empty() -> None:
    holding = holding_tables()
    if holding:
        raise RuleViolation(
            _(
                "This installation is not empty (it holds %(tables)s): an offline installation "
                "is seeded only into a new, empty database. Create one, run `xueji migrate`, "
                "then seed it."
            )
            % {"tables": ", ".join(holding[:4])}
        )


@dataclasses.dataclass
class Person:
    """A user the seed creates on the laptop."""

    username: str
    password: str
    full_name: str = ""


def do_seed_offline(
    verified: SeedPackage,
    *,
    registrar: Person,
    leader: Person | None = None,
    public_key_dir: Path | None = None,
) -> SeedResult:
    """Write the verified seed into this empty installation (see the module's docstring).
    The operator runs it from the command line: the system is the actor, and the users it
    creates exist only from here on."""
    check_empty()
    saved: list[Callable[[], None]] = []
    try:
        with transaction.atomic():
            result = _write(verified, registrar, leader, saved)
    except BaseException:
        # The rows are rolled back; the files written for them go too.
        for remove in saved:
            remove()
        raise
    if public_key_dir is not None:
        path = public_key_dir / key_services.public_key_filename(result.key)
        path.write_text(key_services.public_key_text(result.key), encoding="utf-8")
        result.public_key_path = path
    return result


def _save_file(field, name: str, content: bytes, saved: list[Callable[[], None]]) -> None:
    field.save(name, ContentFile(content), save=False)
    stored = field.name
    saved.append(lambda: default_storage.delete(stored))


def _keep_times(row, data: dict[str, Any]) -> None:
    times = carried_times(row, data)
    if times:
        type(row).objects.filter(pk=row.pk).update(**times)


def _write(verified: SeedPackage, registrar: Person, leader: Person | None, saved) -> SeedResult:
    seed = verified.seed
    files = seed.files
    county = seed.county
    county.save()
    units: dict[str, Unit] = {}
    for unit, code, parent in seed.units:
        unit.county = county
        unit.parent = units[parent] if parent is not None else None
        unit.save()
        units[code] = unit
    years: dict[int, SchoolYear] = {}
    for year, semesters in seed.years:
        year.county = county
        year.save()
        years[year.start_year] = year
        for semester in semesters:
            semester.school_year = year
            semester.save()
    for day in seed.days:
        day.county = county
    CalendarDay.objects.bulk_create(seed.days)
    for area, school in seed.catchments:
        area.school = units[school]
        area.save()
    NumberSequence.objects.bulk_create(seed.sequences)
    records: dict[tuple[int, int], StudentRecord] = {}
    students: list[Student] = []
    for position, carried in enumerate(seed.students):
        student = carried.student
        student.save()
        _keep_times(student, carried.data)
        students.append(student)
        for member in carried.family:
            member.student = student
            member.save()
        for index, item in enumerate(carried.records):
            record = item.record
            record.student, record.school = student, units[item.school]
            record.save()
            _keep_times(record, item.data)
            records[(position, index)] = record
            for placement, start_year, _data in item.placements:
                placement.record, placement.school_year = record, years[start_year]
                placement.save()
        for number, link, data in carried.numbers:
            number.student = student
            number.record = records[(position, link)] if link is not None else None
            number.save()
            _keep_times(number, data)
        if carried.photo:
            content = files[carried.photo]
            _save_file(
                student.photo, f"{student.pk}-{format.sha256(content)[:12]}.jpg", content, saved
            )
            Student.objects.filter(pk=student.pk).update(photo=student.photo.name)
    for carried_request in seed.requests:
        _write_request(carried_request, units, students, records, files, saved)
    for carried_entry in seed.entries:
        entry = carried_entry.entry
        entry.record = records[carried_entry.record]
        entry.school = units[carried_entry.school]
        entry.school_year = years[carried_entry.school_year]
        entry.save()
        _keep_times(entry, carried_entry.data)
    unit = units[seed.unit]
    bureau = units[verified.bureau_key.unit_code]
    return _finish(verified, county, unit, bureau, students, registrar, leader, saved)


def _write_request(carried, units, students, records, files, saved) -> None:
    request = carried.request
    request.student = students[carried.student]
    request.record = records[carried.record]
    request.new_record = records[carried.new_record] if carried.new_record else None
    request.from_school = units[carried.from_school]
    request.to_school = units[carried.to_school] if carried.to_school else None
    if carried.signed_scan:
        content = files[carried.signed_scan]
        extension = carried.signed_scan.rsplit(".", 1)[-1]
        _save_file(request.signed_scan, f"{request.uid}-signed.{extension}", content, saved)
    request.save()
    _keep_times(request, carried.data)
    for step, unit, data in carried.steps:
        step.request = request
        step.unit = units[unit] if unit else None
        step.save()
        _keep_times(step, data)
    for evidence, name, data in carried.evidence:
        evidence.request = request
        _save_file(evidence.file, name.rsplit("/", 1)[-1], files[name], saved)
        evidence.save()
        _keep_times(evidence, data)


def _made_at(manifest: dict[str, Any]) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(str(manifest.get("made_at")))
    except ValueError:
        return timezone.now()
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _registrar_role(unit: Unit) -> str:
    return Role.CENTRAL_REGISTRAR if unit.is_central else Role.SCHOOL_REGISTRAR


def _finish(verified, county, unit, bureau, students, registrar, leader, saved) -> SeedResult:
    manifest = verified.manifest
    now = timezone.now()
    bureau_key = SigningKey.objects.create(
        unit=bureau,
        public_key=format.b64(verified.bureau_key.public),
        fingerprint=verified.bureau_key.fingerprint,
        registered_at=now,
    )
    installation_facts = manifest.get("installation")
    if not isinstance(installation_facts, dict):
        installation_facts = {}
    made_by = manifest.get("made_by") if isinstance(manifest.get("made_by"), dict) else {}
    package_id = uuid.UUID(str(manifest.get("package_id")))
    package = Package(
        package_id=package_id,
        direction=Package.Direction.IMPORT,
        content=Package.Content.STUDENTS,
        unit=bureau,
        key=bureau_key,
        sequence=int(manifest.get("sequence") or 1),
        installation_id=uuid.UUID(str(installation_facts.get("id") or uuid.UUID(int=0))),
        made_by=str(made_by.get("name") or made_by.get("login") or "")[:80],
        made_at=_made_at(manifest),
        selection=manifest.get("selection") if isinstance(manifest.get("selection"), dict) else {},
        counts=manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {},
        sha256=verified.package.sha256,
    )
    _save_file(package.file, f"seed-{unit_code(unit)}.zip", verified.data, saved)
    package.save()
    installation = this_installation()
    installation.offline_unit = unit
    installation.seeded_from = package_id
    installation.seeded_at = now
    installation.save(update_fields=["offline_unit", "seeded_from", "seeded_at"])
    counts = {
        "units": len(verified.seed.units),
        "students": len(students),
        "records": StudentRecord.objects.count(),
        "photos": Student.objects.exclude(photo="").count(),
        "change_requests": len(verified.seed.requests),
        "intake_entries": len(verified.seed.entries),
    }
    record_event(
        "offline.seeded",
        actor=None,
        target=unit,
        unit=unit,
        data={
            "package_id": str(package_id),
            "sha256": package.sha256,
            "bureau_key": bureau_key.fingerprint,
            "made_at": package.made_at,
            "counts": counts,
        },
    )
    record_events(
        [("student.seeded", student, {"package_id": str(package_id)}) for student in students],
        actor=None,
        unit=unit,
    )
    from xueji.packages.round_services import ensure_regular_rounds

    ensure_regular_rounds(county)
    registrar_user = org_services.do_create_user(
        actor=None,
        unit=unit,
        username=registrar.username,
        password=registrar.password,
        role=_registrar_role(unit),
        full_name=registrar.full_name,
        designated=True,
        must_change_password=True,
    )
    leader_user = None
    if leader is not None:
        leader_user = org_services.do_create_user(
            actor=None,
            unit=unit,
            username=leader.username,
            password=leader.password,
            role=Role.SCHOOL_LEADER,
            full_name=leader.full_name,
            must_change_password=True,
        )
    # Last, so a refusal before it leaves no key file behind.
    key = key_services.do_generate_key(actor=registrar_user)
    key_file = key_services.key_dir() / key.private_file
    saved.append(lambda: key_file.unlink(missing_ok=True))
    return SeedResult(
        unit=unit,
        registrar=registrar_user,
        leader=leader_user,
        key=key,
        bureau_key=bureau_key,
        package=package,
        counts=counts,
    )
