"""The demo county's signing keys and change packages (issue 6), so the bureau's pages
show real verdicts. Idempotent, through the same services as the pages.

- The bureau (jyj) has made its own key and registered it; the keys of the schools that
  reported in the current round (demo_rounds.py) are registered.
- 马庙镇中心小学 works offline (SCENARIOS.md, week 3: "马庙镇 has no network this
  week"): the bureau made the seed of its laptop while one of its suspensions was
  submitted; the bureau approved that request in its session since, and the school
  recorded it. The laptop's package, carried on a USB stick, holds that request as the
  laptop knew it ("submitted": the registry has it approved and recorded, so it is
  reconciled) and a suspension made on the laptop (unknown: it enters the bureau's queue
  as submitted, for the next Wednesday session). The bureau registered the laptop's key
  from its .pub file after the phone call, and imported the package. (The demo's intake
  is demo_intake.py's alone: the package carries no new pupil.)

The laptop's key is derived from a fixed phrase so the demo is the same every time; a
real laptop makes its key with `xueji seed-offline`.
"""

import datetime
import hashlib
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.db import transaction
from django.utils import timezone

from xueji.changes import rules as change_rules
from xueji.changes import services as changes
from xueji.changes.demo_changes import _Demo, scan
from xueji.changes.models import Kind, State
from xueji.core import calendar
from xueji.orgs.models import County, Unit, User
from xueji.packages import format, import_services, key_services, offline_services
from xueji.packages.change_data import CHANGES_MEMBER, DATA_FORMAT, DATA_VERSION, change_to_data
from xueji.packages.demo_rounds import REPORTERS
from xueji.packages.models import Package, SigningKey
from xueji.packages.units import unit_code
from xueji.students.models import Placement

OFFLINE_SCHOOL = "马庙镇中心小学"
LAPTOP_NAME = "马庙镇中心小学的笔记本电脑"
LAPTOP_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://xueji.example/demo/mamiao-laptop")
LAPTOP_SECRET = hashlib.sha256("xueji demo: the laptop of 马庙镇中心小学".encode()).digest()
LAPTOP_REGISTRAR = {"login": "mamiao-zxxx", "name": "马庙镇中心小学学籍管理员"}
LAPTOP_LEADER = {"login": "mamiao-zxxx-ld", "name": "马庙镇中心小学分管领导"}


def _bureau_key(bureau_user: User) -> None:
    unit = bureau_user.unit
    key = key_services.live_key(unit)
    if key is None:
        key = key_services.do_generate_key(actor=bureau_user)
    if key.registered_at is None:
        key_services.do_register_key(key, actor=bureau_user)


def _school_keys(county: County, bureau_user: User) -> None:
    for user in User.objects.filter(username__in=REPORTERS, unit__county=county).select_related(
        "unit"
    ):
        key = key_services.live_key(user.unit)
        if key is not None and key.registered_at is None:
            key_services.do_register_key(key, actor=bureau_user)


def _laptop_pair() -> format.KeyPair:
    private = Ed25519PrivateKey.from_private_bytes(LAPTOP_SECRET)
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return format.KeyPair(private=LAPTOP_SECRET, public=public)


def _laptop_key(school: Unit, bureau_user: User, pair: format.KeyPair) -> None:
    """The bureau registers the laptop's .pub file after the phone call."""
    if SigningKey.objects.filter(fingerprint=pair.fingerprint).exists():
        return
    text = format.dump_json(
        {
            "format": key_services.PUBLIC_FORMAT,
            "version": key_services.PUBLIC_VERSION,
            "algorithm": "ed25519",
            "unit_code": unit_code(school),
            "unit_name": school.name,
            "public_key": format.b64(pair.public),
            "fingerprint": pair.fingerprint,
        }
    )
    key_services.do_register_public_key(
        text, actor=bureau_user, fingerprint_read=key_services.grouped(pair.fingerprint)[:19]
    )


def _grade(record) -> int | None:
    placement = Placement.objects.filter(record=record).order_by("-school_year__start_year")
    first = placement.first()
    return first.grade if first else None


def _laptop_request(demo: _Demo, record, effective: datetime.date) -> tuple[dict, dict]:
    """A suspension the registrar made on the laptop and submitted there: changes.json's
    entry and its scans, as the laptop writes them."""
    uid = uuid.uuid5(LAPTOP_ID, f"request-{record.student.id_number}")
    school = record.school
    student = record.student
    files: dict[str, bytes] = {}
    evidence: list[dict[str, str | None]] = []
    for position, document in enumerate(
        change_rules.required_documents(Kind.SUSPENSION, "sick"), start=1
    ):
        name = f"evidence/{uid}/{document}-{position}.jpg"
        files[name] = scan()
        evidence.append(
            {
                "document": document,
                "file": name,
                "sha256": format.sha256(files[name]),
                "content_type": "image/jpeg",
                "checked_at": timezone.now().isoformat(),
            }
        )
    signed = f"evidence/{uid}/signed-report.jpg"
    files[signed] = scan()
    evidence.append(
        {
            "document": "signed_report",
            "file": signed,
            "sha256": format.sha256(files[signed]),
            "content_type": "image/jpeg",
            "checked_at": None,
        }
    )
    now = timezone.now().isoformat()
    step = {"by": LAPTOP_REGISTRAR, "at": now}
    entry = {
        "uid": str(uid),
        "kind": Kind.SUSPENSION,
        "state": State.SUBMITTED,
        "student": {
            "name": student.name,
            "sex": student.sex,
            "birth_date": student.birth_date.isoformat(),
            "id_type": student.id_type,
            "id_number": student.id_number,
            "national_number": student.national_number or "",
            "provincial_number": record.provincial_number or "",
            "grade": _grade(record),
        },
        "from_school": {"code": unit_code(school), "name": school.name},
        "to_school": None,
        "outside_school": "",
        "reason": "sick",
        "reason_note": "肺炎住院治疗，需休学一年",
        "effective_date": effective.isoformat(),
        "suspension_until": None,
        "to_grade": None,
        "to_class": "",
        "corrections": {},
        "created_at": now,
        "created_by": LAPTOP_REGISTRAR,
        "signatures": {
            "registrar": step,
            "leader": {"by": LAPTOP_LEADER, "at": now},
            "receiving_school": None,
        },
        "proxy": None,
        "submitted_at": now,
        "session_date": None,
        "decision": None,
        "steps": [
            {**step, "action": action, "unit": unit_code(school), "comment": ""}
            for action in ("created", "documents_checked", "report_printed", "submitted")
        ],
        "evidence": evidence,
    }
    return entry, files


def _laptop_package(school: Unit, pair: format.KeyPair, changes_: list, files: dict) -> bytes:
    members = {
        **files,
        CHANGES_MEMBER: format.dump_json(
            {"format": DATA_FORMAT, "version": DATA_VERSION, "changes": changes_}
        ),
    }
    today = calendar.today()
    year = calendar.current_school_year(school.county, today)
    semesters = year.semesters.filter(start_date__lte=today) if year is not None else None
    started = semesters.order_by("-start_date").first() if semesters is not None else None
    date_from = started.start_date if started is not None else today.replace(day=1)
    manifest = {
        "package_id": str(uuid.uuid5(LAPTOP_ID, "package-1")),
        "sequence": 1,
        "content": Package.Content.CHANGES,
        "installation": {"id": str(LAPTOP_ID), "name": LAPTOP_NAME},
        "unit": {"code": unit_code(school), "name": school.name, "kind": school.kind},
        "made_by": LAPTOP_REGISTRAR,
        "made_at": timezone.now().isoformat(),
        "selection": {
            "schools": [unit_code(school)],
            "grades": None,
            "from": date_from.isoformat(),
            "to": today.isoformat(),
            "round": None,
        },
        "counts": {"changes": len(changes_)},
    }
    return format.build(manifest, members, pair)


def load_demo_packages(county: County) -> int:
    """Returns how many packages it imported (0 when run again)."""
    bureau_user = User.objects.select_related("unit").get(username="jyj")
    _bureau_key(bureau_user)
    _school_keys(county, bureau_user)
    school = Unit.objects.select_related("county", "parent").get(county=county, name=OFFLINE_SCHOOL)
    if Package.objects.filter(unit=school, direction=Package.Direction.IMPORT).exists():
        return 0
    demo = _Demo(county)
    first, second = demo.pupil(school), demo.pupil(school)
    if first is None or second is None:
        return 0
    with transaction.atomic():
        # Submitted while the school still had a network; the laptop's seed carries it.
        request = demo.submitted(demo.start(first, Kind.SUSPENSION, "sick"))
        carried = change_to_data(request, grade=_grade(first), evidence=[])
        offline_services.do_export_students(actor=bureau_user, unit=school)
        # Since then: approved in the session, recorded by the school.
        changes.do_open_session(county, actor=bureau_user)
        request = changes.do_decide(request, actor=bureau_user, approve=True)
        changes.do_record(request, actor=demo.registrar(school))
        pair = _laptop_pair()
        _laptop_key(school, bureau_user, pair)
        made, files = _laptop_request(demo, second, demo.effective_date())
        data = _laptop_package(school, pair, [carried, made], files)
        import_services.do_import_package(data, actor=bureau_user)
    return 1
