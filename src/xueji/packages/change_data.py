"""changes.json: a change request as a package carries it, and back (C8).

Stable identifiers only: the request by its uid, the student by ID number, national
number, name and birth date, schools by their codes, people by name and login. Database
ids mean nothing on another installation and never appear.

Writing (`change_to_data`) reads one request; reading (`parse_changes`) checks the shape
of what a verified package carries, so the import never trips over a missing field: the
signature proves who wrote the file, not that their software wrote it well.
"""

import dataclasses
import datetime
import uuid
from typing import Any

from django.utils.translation import gettext as _

from xueji.changes.models import ChangeRequest, Kind, State
from xueji.packages.format import PackageRefused, VerifiedPackage
from xueji.packages.units import unit_code

CHANGES_MEMBER = "changes.json"
CHANGES_XLSX = "changes.xlsx"
DATA_FORMAT = "xueji-changes"
DATA_VERSION = 1

# The order a request walks its steps in; refused and withdrawn end it on the way.
STATE_ORDER = [
    State.DRAFT,
    State.DOCUMENTS_CHECKED,
    State.REPORT_PRINTED,
    State.SIGNED,
    State.CENTRAL_REVIEWED,
    State.SUBMITTED,
    State.APPROVED,
    State.RECORDED,
]
CLOSED_STATES = (State.REFUSED, State.WITHDRAWN)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def rank(state: str) -> int:
    """How far along the steps a state is; the closed states rank after the decision."""
    if state in STATE_ORDER:
        return STATE_ORDER.index(State(state))
    return len(STATE_ORDER)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _person(user) -> dict[str, str] | None:
    if user is None:
        return None
    return {"login": user.username, "name": user.display_name}


def _signature(user, at) -> dict[str, Any] | None:
    if at is None:
        return None
    return {"by": _person(user), "at": at.isoformat()}


def _school(unit) -> dict[str, str] | None:
    if unit is None:
        return None
    return {"code": unit_code(unit), "name": unit.name}


def evidence_member(request: ChangeRequest, position: int, document: str, content_type: str):
    return f"evidence/{request.uid}/{document}-{position}.{EXTENSIONS.get(content_type, 'bin')}"


def signed_scan_member(request: ChangeRequest) -> str:
    extension = request.signed_scan.name.rsplit(".", 1)[-1].lower() if request.signed_scan else ""
    return f"evidence/{request.uid}/signed-report.{extension or 'bin'}"


def change_to_data(
    request: ChangeRequest, *, grade: int | None, evidence: list[dict[str, Any]]
) -> dict[str, Any]:
    """One request as changes.json carries it. `evidence` lists the files already put in
    the package ({document, file, sha256, content_type, checked_at})."""
    student = request.student
    record = request.record
    decided = request.state in (State.APPROVED, State.REFUSED, State.RECORDED)
    return {
        "uid": str(request.uid),
        "kind": request.kind,
        "state": request.state,
        "student": {
            "name": student.name,
            "sex": student.sex,
            "birth_date": student.birth_date.isoformat(),
            "id_type": student.id_type,
            "id_number": student.id_number,
            "national_number": student.national_number or "",
            "provincial_number": record.provincial_number or "",
            "grade": grade,
        },
        "from_school": _school(request.from_school),
        "to_school": _school(request.to_school),
        "outside_school": request.outside_school,
        "reason": request.reason,
        "reason_note": request.reason_note,
        "effective_date": request.effective_date.isoformat(),
        "suspension_until": _iso(request.suspension_until),
        "to_grade": request.to_grade,
        "to_class": request.to_class,
        "corrections": request.corrections,
        "created_at": request.created_at.isoformat(),
        "created_by": _person(request.created_by),
        "signatures": {
            "registrar": _signature(request.registrar_signed_by, request.registrar_signed_at),
            "leader": _signature(request.leader_signed_by, request.leader_signed_at),
            "receiving_school": _signature(
                request.receiving_confirmed_by, request.receiving_confirmed_at
            ),
        },
        "proxy": {
            "name": request.proxy_name,
            "id_number": request.proxy_id_number,
            "relation": request.proxy_relation,
            "call_note": request.proxy_call_note,
            "call_at": _iso(request.proxy_call_at),
        }
        if request.proxy_name
        else None,
        "submitted_at": _iso(request.submitted_at),
        "session_date": _iso(request.session.date) if request.session is not None else None,
        "decision": {
            "state": request.state if request.state != State.RECORDED else State.APPROVED,
            "by": _person(request.decided_by),
            "at": _iso(request.decided_at),
            "reason": request.decision_reason,
        }
        if decided and request.decided_at
        else None,
        "steps": [
            {
                "action": step.action,
                "at": step.at.isoformat(),
                "by": _person(step.actor),
                "unit": unit_code(step.unit) if step.unit is not None else "",
                "comment": step.comment,
            }
            for step in request.steps.all()
        ],
        "evidence": evidence,
    }


# --- reading --------------------------------------------------------------------------------


@dataclasses.dataclass
class CarriedChange:
    """One change of a verified package, its shape checked."""

    uid: uuid.UUID
    kind: str
    state: str
    name: str
    sex: str
    birth_date: datetime.date
    id_type: str
    id_number: str
    national_number: str
    grade: int | None
    from_code: str
    from_name: str
    to_code: str
    to_name: str
    outside_school: str
    reason: str
    reason_note: str
    effective_date: datetime.date
    to_grade: int | None
    to_class: str
    corrections: dict[str, list]
    signatures: dict[str, Any]
    proxy: dict[str, Any] | None
    steps: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    raw: dict[str, Any]

    def signature(self, who: str) -> dict[str, Any] | None:
        value = self.signatures.get(who)
        return value if isinstance(value, dict) and value.get("at") else None

    def step(self, action: str) -> dict[str, Any] | None:
        found = [step for step in self.steps if step.get("action") == action]
        return found[-1] if found else None

    @property
    def signed_scan(self) -> dict[str, Any] | None:
        found = [item for item in self.evidence if item.get("document") == "signed_report"]
        return found[-1] if found else None

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [item for item in self.evidence if item.get("document") != "signed_report"]


class _Shape:
    """Reads one change's fields, refusing the package with the change and field named."""

    def __init__(self, position: int, raw: Any):
        self.position = position
        if not isinstance(raw, dict):
            self.fail("")
        self.raw: dict[str, Any] = raw

    def fail(self, field: str):
        raise PackageRefused(
            "bad_member",
            _("changes.json: change %(position)d has no valid %(field)s.")
            % {"position": self.position, "field": field or _("content")},
        )

    def text(self, value: Any, field: str, *, required: bool = False, limit: int = 300) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
            self.fail(field)
        return value

    def day(self, value: Any, field: str) -> datetime.date:
        try:
            return datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(field)
            raise  # unreachable: fail() raises

    def number(self, value: Any, field: str) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 20:
            self.fail(field)
        return value

    def mapping(self, value: Any, field: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(field)
        return value


def _parse_one(position: int, raw: Any, members: dict[str, bytes]) -> CarriedChange:
    shape = _Shape(position, raw)
    raw = shape.raw
    try:
        uid = uuid.UUID(str(raw.get("uid")))
    except ValueError:
        shape.fail("uid")
    kind = shape.text(raw.get("kind"), "kind", required=True)
    state = shape.text(raw.get("state"), "state", required=True)
    if kind not in Kind.values:
        shape.fail("kind")
    if state not in State.values:
        shape.fail("state")
    student = shape.mapping(raw.get("student"), "student")
    from_school = shape.mapping(raw.get("from_school"), "from_school")
    to_school = shape.mapping(raw.get("to_school"), "to_school")
    corrections = shape.mapping(raw.get("corrections"), "corrections")
    if any(not isinstance(value, list) or len(value) != 2 for value in corrections.values()):
        shape.fail("corrections")
    evidence = raw.get("evidence") or []
    steps = raw.get("steps") or []
    if not isinstance(evidence, list) or not isinstance(steps, list):
        shape.fail("evidence")
    for item in evidence:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("document"), str)
            or item.get("file") not in members
        ):
            shape.fail("evidence")
    if any(not isinstance(step, dict) for step in steps):
        shape.fail("steps")
    proxy = raw.get("proxy")
    if proxy is not None and not isinstance(proxy, dict):
        shape.fail("proxy")
    return CarriedChange(
        uid=uid,
        kind=kind,
        state=state,
        name=shape.text(student.get("name"), "student.name", required=True, limit=30),
        sex=shape.text(student.get("sex"), "student.sex", limit=1),
        birth_date=shape.day(student.get("birth_date"), "student.birth_date"),
        id_type=shape.text(student.get("id_type"), "student.id_type", limit=1) or "1",
        id_number=shape.text(student.get("id_number"), "student.id_number", limit=30),
        national_number=shape.text(
            student.get("national_number"), "student.national_number", limit=19
        ),
        grade=shape.number(student.get("grade"), "student.grade"),
        from_code=shape.text(from_school.get("code"), "from_school", required=True, limit=10),
        from_name=shape.text(from_school.get("name"), "from_school", limit=60),
        to_code=shape.text(to_school.get("code"), "to_school", limit=10),
        to_name=shape.text(to_school.get("name"), "to_school", limit=60),
        outside_school=shape.text(raw.get("outside_school"), "outside_school", limit=60),
        reason=shape.text(raw.get("reason"), "reason", limit=20),
        reason_note=shape.text(raw.get("reason_note"), "reason_note", limit=200),
        effective_date=shape.day(raw.get("effective_date"), "effective_date"),
        to_grade=shape.number(raw.get("to_grade"), "to_grade"),
        to_class=shape.text(raw.get("to_class"), "to_class", limit=10),
        corrections=corrections,
        signatures=shape.mapping(raw.get("signatures"), "signatures"),
        proxy=proxy,
        steps=steps,
        evidence=evidence,
        raw=raw,
    )


def parse_changes(package: VerifiedPackage) -> list[CarriedChange]:
    content = package.json_member(CHANGES_MEMBER)
    if (
        not isinstance(content, dict)
        or content.get("format") != DATA_FORMAT
        or not isinstance(content.get("changes"), list)
    ):
        raise PackageRefused("bad_member", _("The package's changes.json cannot be read."))
    if content.get("version") != DATA_VERSION:
        raise PackageRefused(
            "unknown_version",
            _(
                "The package's changes have format version %(version)s, which this installation "
                "cannot read."
            )
            % {"version": content.get("version")},
        )
    changes = [
        _parse_one(position, raw, package.members)
        for position, raw in enumerate(content["changes"], start=1)
    ]
    if len({change.uid for change in changes}) != len(changes):
        raise PackageRefused("bad_member", _("changes.json names one change twice."))
    return changes
