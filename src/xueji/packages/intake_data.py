"""intake.json: the new pupils an offline installation's change package carries (issue 6:
"it prepares intake batches and change requests and exports them in the same format").

Only an offline installation writes it (`Installation.offline_unit` set): on the county's
server every intake entry is already in the registry, so a package there would only
repeat it. The entries chosen are those of the selected schools and grades that were
entered or moved on within the selection's date range, in any state.

Each entry carries its uid (stable across installations), its state, its school and
school year, every item of the national form by its key (codes, yes/no, ISO dates, as
validation reads them; the laptop's provincial number is left out: numbers are given at
the bureau's installation after its review) and its photo as a member of the package.
"""

import dataclasses
import datetime
import uuid
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from xueji.audit.services import normalise
from xueji.intake.models import EntryState, ExceptionKind, IntakeEntry
from xueji.orgs.models import Unit
from xueji.packages import format
from xueji.packages.format import PackageRefused, VerifiedPackage
from xueji.packages.units import unit_code
from xueji.students import form_items
from xueji.students.form_items import ITEMS

INTAKE_MEMBER = "intake.json"
INTAKE_FORMAT = "xueji-intake"
INTAKE_VERSION = 1
# Numbers are the reviewing unit's at the bureau's installation (N3), never the laptop's.
NOT_CARRIED = {"photo", "provincial_number"}


def select_entries(
    schools: list[Unit],
    grades: list[int] | None,
    date_from: datetime.date,
    date_to: datetime.date,
) -> QuerySet[IntakeEntry]:
    entries = IntakeEntry.objects.filter(school__in=schools).filter(
        Q(created_at__date__gte=date_from, created_at__date__lte=date_to)
        | Q(updated_at__date__gte=date_from, updated_at__date__lte=date_to)
    )
    if grades:
        entries = entries.filter(
            record__placements__school_year=F("school_year"),
            record__placements__grade__in=grades,
        )
    return entries.distinct().order_by("pk")


def photo_member(entry: IntakeEntry) -> str:
    return f"intake/{entry.uid}/photo.jpg"


def _items(entry: IntakeEntry) -> dict[str, Any]:
    record = entry.record
    student = record.student
    placement = record.placements.filter(school_year=entry.school_year).first()
    family = {member.position: member for member in student.family.all()}
    sources: dict[str, Any] = {
        form_items.STUDENT: student,
        form_items.RECORD: record,
        form_items.PLACEMENT: placement,
        form_items.FAMILY_1: family.get(1),
        form_items.FAMILY_2: family.get(2),
    }
    values: dict[str, Any] = {}
    for item in ITEMS:
        if item.key in NOT_CARRIED:
            continue
        source = sources[item.where]
        value = getattr(source, item.field, "") if source is not None else ""
        values[item.key] = "" if value is None else value
    return normalise(values)


def _person(user) -> dict[str, str] | None:
    if user is None:
        return None
    return {"login": user.username, "name": user.display_name}


def entry_content(
    entries: list[IntakeEntry],
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The entries as intake.json lists them, and their photos as members."""
    listed, files = [], {}
    for entry in entries:
        student = entry.record.student
        photo = None
        if student.photo:
            try:
                with student.photo.open("rb") as handle:
                    content = handle.read()
            except (OSError, ValueError):
                content = b""
            if content:
                photo = photo_member(entry)
                files[photo] = content
        listed.append(
            {
                "uid": str(entry.uid),
                "state": entry.state,
                "school": {"code": unit_code(entry.school), "name": entry.school.name},
                "school_year": entry.school_year.start_year,
                "stage": entry.stage,
                "items": _items(entry),
                "photo": photo,
                "eligibility_problems": list(entry.eligibility_problems or []),
                "exception_kind": entry.exception_kind,
                "exception_note": entry.exception_note,
                "returned_reason": entry.returned_reason,
                "document_shown": entry.document_shown,
                "created_at": entry.created_at.isoformat(),
                "updated_at": entry.updated_at.isoformat(),
                "reviewed_by": _person(entry.reviewed_by),
            }
        )
    return listed, files


def add_intake(
    members: dict[str, bytes],
    counts: dict[str, Any],
    *,
    schools: list[Unit],
    grades: list[int] | None,
    date_from: datetime.date,
    date_to: datetime.date,
) -> None:
    """Put the offline unit's new pupils into the package being written (services.py)."""
    from xueji.packages.installation import this_installation

    if this_installation().offline_unit_id is None:
        return
    entries = list(
        select_entries(schools, grades, date_from, date_to).select_related(
            "school", "school_year", "record__student", "reviewed_by"
        )
    )
    listed, files = entry_content(entries)
    members.update(files)
    members[INTAKE_MEMBER] = format.dump_json(
        {"format": INTAKE_FORMAT, "version": INTAKE_VERSION, "entries": listed}
    )
    counts["intake_entries"] = len(listed)
    counts["intake_photos"] = len(files)


# --- reading --------------------------------------------------------------------------------


@dataclasses.dataclass
class CarriedEntry:
    """One new pupil of a verified package, its shape checked."""

    uid: uuid.UUID
    state: str
    school_code: str
    school_name: str
    school_year: int
    items: dict[str, Any]
    photo: str | None
    exception_kind: str
    exception_note: str
    raw: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.items.get("name") or "")

    @property
    def id_type(self) -> str:
        return str(self.items.get("id_type") or "1")

    @property
    def id_number(self) -> str:
        return str(self.items.get("id_number") or "")

    @property
    def grade(self) -> int | None:
        grade = self.items.get("grade")
        if isinstance(grade, bool):
            return None
        if isinstance(grade, str) and grade.strip().isdigit():
            grade = int(grade)
        return grade if isinstance(grade, int) and 1 <= grade <= 9 else None


def _fail(position: int, field: str) -> PackageRefused:
    return PackageRefused(
        "bad_member",
        _("intake.json: new pupil %(position)d has no valid %(field)s.")
        % {"position": position, "field": field},
    )


def _text(raw: dict[str, Any], key: str, position: int, limit: int) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise _fail(position, key)
    return value


def _parse_one(position: int, raw: Any, members: dict[str, bytes]) -> CarriedEntry:
    if not isinstance(raw, dict):
        raise _fail(position, "content")
    try:
        uid = uuid.UUID(str(raw.get("uid")))
    except ValueError:
        raise _fail(position, "uid") from None
    state = raw.get("state")
    if state not in EntryState.values:
        raise _fail(position, "state")
    school = raw.get("school")
    if not isinstance(school, dict) or not isinstance(school.get("code"), str):
        raise _fail(position, "school")
    year = raw.get("school_year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise _fail(position, "school_year")
    items = raw.get("items")
    if not isinstance(items, dict) or not all(
        isinstance(value, str | int | float | bool) or value is None for value in items.values()
    ):
        raise _fail(position, "items")
    photo = raw.get("photo")
    if photo is not None and photo not in members:
        raise _fail(position, "photo")
    exception_kind = _text(raw, "exception_kind", position, 10)
    if exception_kind not in ExceptionKind.values:
        raise _fail(position, "exception_kind")
    return CarriedEntry(
        uid=uid,
        state=state,
        school_code=school["code"][:10],
        school_name=str(school.get("name") or "")[:60],
        school_year=year,
        items={key: value for key, value in items.items() if key not in NOT_CARRIED},
        photo=photo,
        exception_kind=exception_kind,
        exception_note=_text(raw, "exception_note", position, 200),
        raw=raw,
    )


def parse_entries(package: VerifiedPackage) -> list[CarriedEntry]:
    """The new pupils of a verified changes package; none when it carries no intake.json
    (a package of the county's server, or of an installation before issue 6)."""
    if INTAKE_MEMBER not in package.members:
        return []
    content = package.json_member(INTAKE_MEMBER)
    if (
        not isinstance(content, dict)
        or content.get("format") != INTAKE_FORMAT
        or not isinstance(content.get("entries"), list)
    ):
        raise PackageRefused("bad_member", _("The package's intake.json cannot be read."))
    if content.get("version") != INTAKE_VERSION:
        raise PackageRefused(
            "unknown_version",
            _(
                "The package's new pupils have format version %(version)s, which this "
                "installation cannot read."
            )
            % {"version": content.get("version")},
        )
    entries = [
        _parse_one(position, raw, package.members)
        for position, raw in enumerate(content["entries"], start=1)
    ]
    if len({entry.uid for entry in entries}) != len(entries):
        raise PackageRefused("bad_member", _("intake.json names one new pupil twice."))
    return entries
