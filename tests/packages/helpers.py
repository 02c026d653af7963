"""Builders for change-package tests: registered keys, requests at each state, packages
from "another installation" (an offline unit's laptop), and a way to alter a package."""

import datetime
import io
import uuid
import zipfile

from django.utils import timezone

from tests.changes.helpers import DAY, scan, signed, with_documents
from xueji.audit.models import AuditEvent
from xueji.changes import services as changes
from xueji.changes.models import ChangeRequest, Evidence, Kind
from xueji.packages import format, key_services
from xueji.packages.change_data import DATA_FORMAT, DATA_VERSION
from xueji.packages.models import Package, PackageChange, SigningKey
from xueji.packages.units import unit_code
from xueji.students.models import Student, StudentRecord

__all__ = ["DAY", "scan", "signed", "with_documents"]

RANGE = (datetime.date(2026, 9, 1), datetime.date(2026, 12, 31))


def registered_key(cast, registrar) -> SigningKey:
    """The registrar's unit makes its key on this installation; the bureau registers it."""
    key = key_services.do_generate_key(actor=registrar)
    return key_services.do_register_key(key, actor=cast.bureau_registrar)


def offline_key(cast, unit) -> format.KeyPair:
    """A unit working offline made this pair on its laptop; the bureau registered the
    public half from its .pub file."""
    pair = format.new_key_pair()
    SigningKey.objects.create(
        unit=unit,
        public_key=format.b64(pair.public),
        fingerprint=pair.fingerprint,
        registered_at=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC),
        registered_by=cast.bureau_registrar,
    )
    return pair


def suspension(cast, record, actor=None, day=DAY) -> ChangeRequest:
    return changes.do_create_request(
        record, Kind.SUSPENSION, actor=actor or cast.a1_registrar, reason="sick", effective_date=day
    )


def submitted(cast, request, registrar=None, leader=None, central=None):
    """Steps 1-4 for a rural primary school of township A (a1)."""
    registrar = registrar or cast.a1_registrar
    leader = leader or cast.a1_leader
    central = central or cast.central_a_registrar
    request = with_documents(request, registrar)
    request = signed(request, registrar, leader, printer=central)
    request = changes.do_central_review(request, actor=central, approve=True)
    return changes.do_submit(request, actor=registrar)


def decided(cast, request, approve=True):
    changes.do_open_session(cast.county, actor=cast.bureau_registrar)
    return changes.do_decide(
        request, actor=cast.bureau_registrar, approve=approve, reason="" if approve else "no"
    )


def written_rows() -> dict[str, int]:
    """What an import could write: a refusal must leave every count as it was."""
    return {
        "packages": Package.objects.filter(direction=Package.Direction.IMPORT).count(),
        "package_changes": PackageChange.objects.count(),
        "requests": ChangeRequest.objects.count(),
        "evidence": Evidence.objects.count(),
        "students": Student.objects.count(),
        "records": StudentRecord.objects.count(),
        "keys_last_sequence": sum(SigningKey.objects.values_list("last_sequence", flat=True)),
    }


def refusals() -> list[str]:
    return list(
        AuditEvent.objects.filter(action="package.refused")
        .order_by("seq")
        .values_list("data__code", flat=True)
    )


def change_entry(
    student,
    record,
    from_school,
    *,
    uid=None,
    kind="suspension",
    state="submitted",
    effective=DAY,
    evidence=(),
    **extra,
) -> dict:
    """One change as an offline installation writes it in changes.json."""
    entry = {
        "uid": str(uid or uuid.uuid4()),
        "kind": kind,
        "state": state,
        "student": {
            "name": student.name,
            "sex": student.sex,
            "birth_date": student.birth_date.isoformat(),
            "id_type": student.id_type,
            "id_number": student.id_number,
            "national_number": student.national_number or "",
            "provincial_number": record.provincial_number or "",
            "grade": 1,
        },
        "from_school": {"code": unit_code(from_school), "name": from_school.name},
        "to_school": None,
        "outside_school": "",
        "reason": "sick",
        "reason_note": "",
        "effective_date": effective.isoformat(),
        "suspension_until": None,
        "to_grade": None,
        "to_class": "",
        "corrections": {},
        "created_at": "2026-11-20T08:00:00+08:00",
        "created_by": {"login": "laptop", "name": "王老师"},
        "signatures": {
            "registrar": {
                "by": {"login": "laptop", "name": "王老师"},
                "at": "2026-11-21T09:00:00+08:00",
            },
            "leader": {
                "by": {"login": "leader", "name": "李校长"},
                "at": "2026-11-21T10:00:00+08:00",
            },
            "receiving_school": None,
        },
        "proxy": None,
        "submitted_at": None,
        "session_date": None,
        "decision": None,
        "steps": [
            {
                "action": "created",
                "at": "2026-11-20T08:00:00+08:00",
                "by": {"login": "laptop", "name": "王老师"},
                "unit": unit_code(from_school),
                "comment": "",
            },
            {
                "action": "central_reviewed",
                "at": "2026-11-22T08:00:00+08:00",
                "by": {"login": "central", "name": "赵主任"},
                "unit": "",
                "comment": "",
            },
        ],
        "evidence": list(evidence),
    }
    entry.update(extra)
    return entry


def offline_package(
    pair,
    unit,
    entries,
    *,
    members=None,
    sequence=1,
    schools=None,
    date_range=RANGE,
    package_id=None,
    installation=None,
    content="changes",
    unit_facts=None,
    made_at=None,
) -> bytes:
    """A package as another installation (the unit's offline laptop) writes it."""
    files = dict(members or {})
    files["changes.json"] = format.dump_json(
        {"format": DATA_FORMAT, "version": DATA_VERSION, "changes": entries}
    )
    files["changes.xlsx"] = b"PK\x03\x04 not read by the bureau"
    manifest = {
        "package_id": str(package_id or uuid.uuid4()),
        "sequence": sequence,
        "content": content,
        "installation": installation or {"id": str(uuid.uuid4()), "name": "laptop"},
        "unit": unit_facts or {"code": unit_code(unit), "name": unit.name, "kind": unit.kind},
        "made_by": {"login": "laptop", "name": "王老师"},
        "made_at": (made_at or timezone.now()).isoformat(),
        "selection": {
            "schools": schools if schools is not None else [unit_code(unit)],
            "grades": None,
            "from": date_range[0].isoformat(),
            "to": date_range[1].isoformat(),
            "round": None,
        },
        "counts": {"changes": len(entries)},
    }
    return format.build(manifest, files, pair)


def evidence_for(uid, documents, kind="suspension", reason="sick"):
    """Evidence list and member files for an offline change: every required document."""
    listed, files = [], {}
    for position, document in enumerate(documents, start=1):
        name = f"evidence/{uid}/{document}-{position}.jpg"
        files[name] = scan()
        listed.append(
            {
                "document": document,
                "file": name,
                "sha256": format.sha256(files[name]),
                "content_type": "image/jpeg",
                "checked_at": "2026-11-20T09:00:00+08:00",
            }
        )
    signed_name = f"evidence/{uid}/signed-report.jpg"
    files[signed_name] = scan()
    listed.append(
        {
            "document": "signed_report",
            "file": signed_name,
            "sha256": format.sha256(files[signed_name]),
            "content_type": "image/jpeg",
            "checked_at": None,
        }
    )
    return listed, files


def members_of(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def repacked(data: bytes, change) -> bytes:
    """The package's members, changed by `change(list)`, written again as a well-formed
    zip (valid CRCs): what someone who edits a package with care produces."""
    entries = members_of(data)
    change(entries)
    return format.zip_stored(entries)


def flip_in_member(data: bytes, name: str, offset: int = 0) -> bytes:
    """One byte of a member's content altered in place (the zip's CRC no longer matches)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + offset
    altered = bytearray(data)
    altered[start] ^= 0x01
    return bytes(altered)
