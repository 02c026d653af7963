"""Exporting change packages (C8, B6, N3): a unit's changes of a grade, school and date
selection as one signed file, for the bureau.

`do_export_changes` selects the requests, writes changes.json (stable identifiers),
changes.xlsx (for people) and the evidence files, and hands them to `write_package`,
which signs them with the unit's key and keeps the file as an exported Package. A
package of another content (the bureau's seed of an offline unit's students) goes
through `write_package` the same way.
"""

import datetime
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.changes import rules as change_rules
from xueji.changes.models import ChangeRequest
from xueji.core import calendar, uploads
from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.exchange.excel import write_table_xlsx
from xueji.orgs.models import Unit
from xueji.packages import format
from xueji.packages.change_data import (
    CHANGES_MEMBER,
    CHANGES_XLSX,
    DATA_FORMAT,
    DATA_VERSION,
    change_to_data,
    evidence_member,
    signed_scan_member,
)
from xueji.packages.installation import this_installation
from xueji.packages.intake_data import add_intake
from xueji.packages.key_services import private_pair, signing_key_of
from xueji.packages.models import ChangeRound, Package, SigningKey
from xueji.packages.units import unit_code
from xueji.students.models import Placement

Progress = Callable[[int, int], None]
GRADES = range(1, 10)


# --- choosing the changes ---------------------------------------------------------------


def _latest_grade() -> Subquery:
    return Subquery(
        Placement.objects.filter(record=OuterRef("record"))
        .order_by("-school_year__start_year")
        .values("grade")[:1]
    )


def select_requests(
    schools: Iterable[Unit],
    grades: list[int] | None,
    date_from: datetime.date,
    date_to: datetime.date,
) -> QuerySet[ChangeRequest]:
    """The requests from or to the schools whose effective date is in the range, of any
    kind and state, the student's grade (at the sending school) among `grades`."""
    school_ids = [school.pk for school in schools]
    requests = ChangeRequest.objects.filter(
        Q(from_school_id__in=school_ids) | Q(to_school_id__in=school_ids),
        effective_date__gte=date_from,
        effective_date__lte=date_to,
    ).annotate(student_grade=_latest_grade())
    if grades:
        requests = requests.filter(student_grade__in=grades)
    return requests.order_by("effective_date", "pk")


def default_range(unit: Unit, today: datetime.date | None = None):
    """The current semester's start to today: what a school reports in a round."""
    today = today or calendar.today()
    year = calendar.current_school_year(unit.county, today)
    start = None
    if year is not None:
        started = year.semesters.filter(start_date__lte=today).order_by("-start_date").first()
        start = started.start_date if started else None
    return start or today.replace(day=1), today


def check_selection(
    *,
    actor,
    schools: list[Unit],
    grades: list[int] | None,
    date_from: datetime.date,
    date_to: datetime.date,
    round: ChangeRound | None = None,
) -> None:
    """Who may export this, and is the selection sound; the message names the field."""
    scope = scope_for(actor)
    scope.require("packages.export")
    if not schools:
        raise RuleViolation(_("Schools: choose at least one school."), field="schools")
    visible = set(scope.schools().values_list("pk", flat=True))
    for school in schools:
        if school.pk not in visible:
            raise PermissionDenied(_("%(school)s is outside your scope.") % {"school": school.name})
    if grades is not None and any(grade not in GRADES for grade in grades):
        raise RuleViolation(_("Grades: choose grades 1 to 9."), field="grades")
    if date_from > date_to:
        raise RuleViolation(
            _("Dates: the end of the range lies before its start."), field="date_to"
        )
    if round is not None and not scope.rounds().filter(pk=round.pk).exists():
        raise PermissionDenied(_("This reporting round is outside your scope."))


def count_selection(**selection) -> int:
    return select_requests(
        selection["schools"], selection["grades"], selection["date_from"], selection["date_to"]
    ).count()


# --- writing the package ----------------------------------------------------------------


def _evidence_files(request: ChangeRequest) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    listed: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    for position, evidence in enumerate(request.evidence.all(), start=1):
        name = evidence_member(request, position, evidence.document, evidence.content_type)
        files[name] = _read_file(evidence.file, request)
        listed.append(
            {
                "document": evidence.document,
                "file": name,
                "sha256": evidence.sha256,
                "content_type": evidence.content_type,
                "checked_at": evidence.checked_at.isoformat() if evidence.checked_at else None,
            }
        )
    if request.signed_scan:
        name = signed_scan_member(request)
        files[name] = _read_file(request.signed_scan, request)
        listed.append(
            {
                "document": "signed_report",
                "file": name,
                "sha256": format.sha256(files[name]),
                "content_type": uploads.scan_kind(files[name]) or "",
                "checked_at": None,
            }
        )
    return listed, files


def _read_file(field, request: ChangeRequest) -> bytes:
    try:
        with field.open("rb") as handle:
            return handle.read()
    except (OSError, ValueError) as error:
        raise RuleViolation(
            _("The scan %(file)s of the request of %(student)s is missing from the files.")
            % {"file": field.name, "student": request.student.name}
        ) from error


def _xlsx(requests: list[ChangeRequest]) -> bytes:
    """The changes for people to read: in the installation's language (Chinese), whoever
    exports, because the bureau reads it."""
    with translation.override(settings.LANGUAGE_CODE):
        headers = [
            _("Change id"),
            _("Name"),
            _("ID number"),
            _("National number"),
            _("Grade"),
            _("Kind"),
            _("State"),
            _("From school"),
            _("To school"),
            _("Reason"),
            _("Effective date"),
            _("Submitted at"),
            _("Decided at"),
            _("Reason for the decision"),
            _("Evidence files"),
        ]
        rows = []
        for request in requests:
            reason = change_rules.reasons(request.kind).get(request.reason, {})
            to_school = request.to_school.name if request.to_school else request.outside_school
            rows.append(
                [
                    str(request.uid),
                    request.student.name,
                    request.student.id_number,
                    request.student.national_number or "",
                    str(getattr(request, "student_grade", "") or ""),
                    str(request.get_kind_display()),
                    str(request.get_state_display()),
                    request.from_school.name,
                    to_school or "",
                    reason.get("label", request.reason),
                    request.effective_date.isoformat(),
                    _local(request.submitted_at),
                    _local(request.decided_at),
                    request.decision_reason,
                    str(request.evidence.count() + (1 if request.signed_scan else 0)),
                ]
            )
        return write_table_xlsx(headers, rows, sheet_name=_("Changes"))


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def write_package(
    *,
    actor,
    content: str,
    members: dict[str, bytes],
    selection: dict[str, Any],
    counts: dict[str, Any],
    round: ChangeRound | None = None,
) -> Package:
    """Sign `members` with the actor's unit's key and keep the file as an exported package.
    The sequence number is the key's next one: the bureau refuses a package older than
    one it imported (a replay)."""
    scope = scope_for(actor)
    scope.require("packages.export")
    unit = scope.unit
    assert unit is not None, "a user with a capability has a unit"
    key = signing_key_of(unit)
    pair = private_pair(key)
    installation = this_installation()
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            raise RuleViolation(_("Your unit's key was revoked; make a new one."))
        last = (
            Package.objects.filter(key=key, direction=Package.Direction.EXPORT)
            .order_by("-sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        sequence = (last or 0) + 1
        made_at = timezone.now()
        package_id = uuid.uuid4()
        manifest = {
            "package_id": str(package_id),
            "sequence": sequence,
            "content": content,
            "installation": {"id": str(installation.id), "name": installation.name},
            "unit": {"code": unit_code(unit), "name": unit.name, "kind": unit.kind},
            "made_by": {"login": actor.username, "name": actor.display_name},
            "made_at": made_at.isoformat(),
            "selection": selection,
            "counts": counts,
        }
        data = format.build(manifest, members, pair)
        package = Package(
            package_id=package_id,
            direction=Package.Direction.EXPORT,
            content=content,
            unit=unit,
            key=key,
            sequence=sequence,
            installation_id=installation.id,
            made_by=actor.display_name[:80],
            made_at=made_at,
            selection=selection,
            counts=counts,
            sha256=format.sha256(data),
            round=round,
            handled_by=actor,
        )
        package.file.save(
            f"{content}-{unit_code(unit)}-{sequence:04d}.zip", ContentFile(data), save=False
        )
        package.save()
        record_event(
            "package.exported",
            actor=actor,
            target=package,
            data={
                "package_id": manifest["package_id"],
                "sequence": sequence,
                "content": content,
                "selection": selection,
                "counts": counts,
                "sha256": package.sha256,
            },
        )
    return package


def do_export_changes(
    *,
    actor,
    schools: list[Unit],
    grades: list[int] | None,
    date_from: datetime.date,
    date_to: datetime.date,
    round: ChangeRound | None = None,
    progress: Progress | None = None,
) -> Package:
    """C8: the changes from or to `schools` whose effective date lies in the range (and
    whose student is in one of `grades`, None for all), signed with the actor's unit's
    key, kept as an exported package. Any kind and any state, corrections included."""
    check_selection(
        actor=actor,
        schools=schools,
        grades=grades,
        date_from=date_from,
        date_to=date_to,
        round=round,
    )
    # Refuse before the work when the unit cannot sign.
    unit = scope_for(actor).unit
    assert unit is not None
    private_pair(signing_key_of(unit))
    requests = list(
        select_requests(schools, grades, date_from, date_to)
        .select_related(
            "student",
            "record",
            "from_school__county",
            "to_school__county",
            "session",
            "created_by",
            "registrar_signed_by",
            "leader_signed_by",
            "receiving_confirmed_by",
            "decided_by",
        )
        .prefetch_related("evidence", "steps__actor", "steps__unit__county")
    )
    members: dict[str, bytes] = {}
    changes = []
    for done, request in enumerate(requests, start=1):
        listed, files = _evidence_files(request)
        members.update(files)
        changes.append(
            change_to_data(request, grade=getattr(request, "student_grade", None), evidence=listed)
        )
        if progress is not None:
            progress(done, len(requests))
    members[CHANGES_MEMBER] = format.dump_json(
        {"format": DATA_FORMAT, "version": DATA_VERSION, "changes": changes}
    )
    members[CHANGES_XLSX] = _xlsx(requests)
    selection = {
        "schools": sorted(unit_code(school) for school in schools),
        "grades": sorted(grades) if grades else None,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "round": {"id": round.pk, "title": round.title} if round is not None else None,
    }
    counts = {
        "changes": len(changes),
        "evidence": len(members) - 2,
        "by_kind": dict(Counter(request.kind for request in requests)),
        "by_state": dict(Counter(request.state for request in requests)),
    }
    # An offline installation's package carries its new pupils too (intake_data.py).
    add_intake(
        members, counts, schools=schools, grades=grades, date_from=date_from, date_to=date_to
    )
    return write_package(
        actor=actor,
        content=Package.Content.CHANGES,
        members=members,
        selection=selection,
        counts=counts,
        round=round,
    )


# --- the background job -------------------------------------------------------------------

# Beyond this many changes the page exports in the background (the scans make it slow).
INLINE_LIMIT = 200


def do_start_export(*, actor, schools, grades, date_from, date_to, round=None):
    """A large selection as a background job; the job's result is the package file."""
    from xueji.core.jobs import do_enqueue_job

    check_selection(
        actor=actor,
        schools=schools,
        grades=grades,
        date_from=date_from,
        date_to=date_to,
        round=round,
    )
    return do_enqueue_job(
        "packages.export",
        {
            "schools": [school.pk for school in schools],
            "grades": grades,
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "round": round.pk if round is not None else None,
        },
        actor=actor,
    )


def run_export_job(job, progress: Progress) -> str:
    params = job.params
    actor = job.created_by
    schools = list(Unit.objects.filter(pk__in=params.get("schools") or []))
    round = ChangeRound.objects.filter(pk=params["round"]).first() if params.get("round") else None
    try:
        package = do_export_changes(
            actor=actor,
            schools=schools,
            grades=params.get("grades"),
            date_from=datetime.date.fromisoformat(params["from"]),
            date_to=datetime.date.fromisoformat(params["to"]),
            round=round,
            progress=progress,
        )
    except PermissionDenied as error:
        raise RuleViolation(str(error)) from error
    # The job's result file is the package itself (the same bytes as the package row's).
    with package.file.open("rb") as handle:
        name = package.file.name.rsplit("/", 1)[-1]
        job.result_file.save(name, ContentFile(handle.read()), save=False)
    type(job).objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    return _("Exported %(count)d changes into package #%(sequence)d.") % {
        "count": package.counts.get("changes", 0),
        "sequence": package.sequence,
    }


def _collect(value: Any, keys: frozenset[str], found: dict[str, set[str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys and isinstance(item, str) and item:
                found[key].add(item)
            else:
                _collect(item, keys, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, keys, found)


def students_in(package: Package) -> list[int]:
    """The students whose data the package's file (or its reconciliation) carries: by the
    requests' uids, the ID numbers it names, and the requests its changes matched here."""
    import json
    import zipfile

    from xueji.students.models import Student

    found: dict[str, set[str]] = {"uid": set(), "id_number": set()}
    try:
        # Its own handle: FieldFile.open() would share (and close) the caller's.
        storage = package.file.storage
        with storage.open(package.file.name, "rb") as handle, zipfile.ZipFile(handle) as archive:
            for name in archive.namelist():
                if name.endswith(".json") and name != format.MANIFEST:
                    _collect(json.loads(archive.read(name)), frozenset(found), found)
    except (OSError, ValueError, zipfile.BadZipFile):
        pass  # a missing or unreadable file names no one; the download itself fails
    uids = []
    for text in found["uid"]:
        try:
            uids.append(uuid.UUID(text))
        except ValueError:
            continue
    ids = set(ChangeRequest.objects.filter(uid__in=uids).values_list("student_id", flat=True))
    ids |= set(
        Student.objects.filter(id_number__in=found["id_number"]).values_list("pk", flat=True)
    )
    ids |= set(package.changes.exclude(request=None).values_list("request__student_id", flat=True))
    return sorted(ids)


def do_record_package_read(package: Package, *, actor, what: str) -> None:
    """Issue 8: a package file or its reconciliation carries full ID numbers and names, so
    each download writes one event naming every student in it."""
    record_event(
        "package.read",
        actor=actor,
        target=package,
        unit=package.unit,
        data={"what": what, "students": students_in(package)},
    )
