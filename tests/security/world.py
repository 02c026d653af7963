"""The world the access walks run in: the shared cast, a second county, and one school's
data planted with marker strings that no one outside that school may ever see (P1, B6).

The owner is school A1 (rural, no printer, township A). Its registrar, its leader, its
central school and the bureau are the owner side. Everyone else is an outsider: the
other township's school, leader and central school, the county-direct school C of A1's
own township, and the bureau, leader and school of a second county. A few objects belong
to the county as a whole (the approval session, a calendar day): for those the outsiders
are the second county's users.

Besides the world, this module holds the id registry that turns a URL pattern or an API
path into a concrete address; tests/security/walk.py holds the walking itself.
"""

from __future__ import annotations

import datetime
import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from tests.conftest import CAST_PASSWORD, make_cast
from tests.students.conftest import TODAY, id_number, raw_student

# --- Markers: strings that exist only in A1's data ------------------------------------------

BIRTH = datetime.date(2019, 3, 15)
STUDENT_NAME = "司马秘安"
STUDENT_ID = id_number(BIRTH, 417)
ADDRESSES = {
    "current_address": "胡集镇秘安村东街十七号",
    "mailing_address": "胡集镇秘安村邮政代办点",
    "home_address": "胡集镇秘安村老宅西院",
}
STUDENT_PHONE = "13912340417"
GUARDIAN_NAME = "司马守秘"
GUARDIAN_ID = id_number(datetime.date(1988, 6, 2), 233)
GUARDIAN_ADDRESS = "胡集镇秘安村家长住处"
GUARDIAN_HUKOU = "胡集镇秘安村户籍地址"
GUARDIAN_PHONE = "13912349233"
MOTHER_NAME = "欧阳藏秘"
REQUEST_NOTE = "秘安休学情况说明"
ENTRY_NAME = "慕容秘录"
ENTRY_ID = id_number(datetime.date(2020, 5, 20), 377, sex="2")
ADMITTED_NAME = "慕容秘取"
ADMITTED_ID = id_number(datetime.date(2020, 4, 11), 379)
TWIN_NAME = "上官秘重"
PLAN_NOTE = "秘安学校异动管理方案"
# County-wide markers: the second county must not see the first county's calendar or
# its reporting rounds.
COUNTY_DAY_NAME = "秘历纪念日"
COUNTY_ROUND_TITLE = "秘安补报轮次"
SICK_DOCUMENTS = ["hospital_certificate", "medical_records", "medical_bills"]

OWNER_ROLES = (
    "a1_registrar",
    "a1_leader",
    "central_a_registrar",
    "bureau_registrar",
    "bureau_leader",
)
# Outsiders of A1's objects; the last three are outsiders of the county's objects too.
OUTSIDER_ROLES = (
    "b1_registrar",
    "b1_leader",
    "central_b_registrar",
    "central_b_leader",
    "c_registrar",
    "county2_bureau_registrar",
    "county2_bureau_leader",
    "county2_school_registrar",
)
COUNTY2_ROLES = tuple(role for role in OUTSIDER_ROLES if role.startswith("county2_"))


def scan() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), (240, 240, 240)).save(buffer, "JPEG")
    return buffer.getvalue()


def portrait() -> bytes:
    """A photo that passes the national standard: light blue, a head and shoulders."""
    width, height = 358, 441
    image = Image.new("RGB", (width, height), (160, 200, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.1, height * 0.75, width * 0.9, height * 1.3), fill=(40, 50, 90))
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.7), fill=(205, 160, 130))
    grain = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(image, grain, 0.12)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class World:
    cast: Any
    users: dict[str, Any]
    school_year: Any
    student: Any
    record: Any
    twin: Any
    request: Any
    evidence: Any
    entry: Any
    admitted_entry: Any
    candidate: Any
    session: Any
    calendar_day: Any
    plan: Any
    job: Any
    token: Any
    paper_code: str
    key: Any
    package: Any
    package_change: Any
    change_round: Any
    county2: Any
    county2_bureau: Any
    # Rows (model label, pk) that belong to A1 or to the first county, for the checks of
    # what an outsider's request may refer to.
    owner_rows: set[tuple[str, str]] = field(default_factory=set)
    county1_rows: set[tuple[str, str]] = field(default_factory=set)
    a1_markers: list[str] = field(default_factory=list)
    county_markers: list[str] = field(default_factory=list)

    def user(self, role: str):
        return self.users[role]

    def markers_for(self, role: str) -> list[str]:
        """What this role must never read."""
        if role in COUNTY2_ROLES or role == "anonymous":
            return self.a1_markers + self.county_markers
        return list(self.a1_markers)

    def forbidden_rows(self, role: str) -> set[tuple[str, str]]:
        """Rows a new row written by this role's request may not refer to."""
        from xueji.core.scope import scope_for
        from xueji.orgs.models import Unit, User

        if role == "anonymous":
            return self.county1_rows | self.owner_rows
        user = self.user(role)
        rows = set(self.owner_rows)
        if role in COUNTY2_ROLES:
            rows |= self.county1_rows
        visible = set(scope_for(user).units().values_list("pk", flat=True))
        rows |= {
            ("orgs.unit", str(pk))
            for pk in Unit.objects.exclude(pk__in=visible).values_list("pk", flat=True)
        }
        rows |= {
            ("orgs.user", str(pk))
            for pk in User.objects.exclude(pk=user.pk).values_list("pk", flat=True)
        }
        return rows


@contextmanager
def world_for_module(django_db_blocker, folder: Path) -> Iterator[World]:
    """One world for all the tests of a module (the `world` fixture of tests/security/
    conftest.py): built in a transaction that is rolled back when the module ends, with
    the signing keys in the module's own folder. Each test still runs in its own savepoint
    of that transaction (pytest-django's `db`), so whatever a test writes is gone before
    the next one starts, and every test meets the world exactly as built, as it did when
    each test built its own: building it takes longer than many of its tests."""
    from django.db import transaction
    from django.test import override_settings

    # As tests/conftest.py's `_fast_hashing`, which the world's users were made under.
    fast = override_settings(
        XUEJI_KEY_DIR=folder / "keys",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    with django_db_blocker.unblock():
        fast.enable()
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
        except BaseException:
            _roll_back(outer, fast)
            raise
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            _roll_back(outer, fast)


def _roll_back(outer, overridden) -> None:
    from django.db import transaction

    transaction.set_rollback(True)
    outer.__exit__(None, None, None)
    overridden.disable()


def student_row(**overrides) -> dict:
    row = raw_student(
        name=STUDENT_NAME,
        birth=BIRTH,
        sequence=417,
        phone=STUDENT_PHONE,
        **ADDRESSES,
        **{
            "family1.name": GUARDIAN_NAME,
            "family1.id_type": "1",
            "family1.id_number": GUARDIAN_ID,
            "family1.current_address": GUARDIAN_ADDRESS,
            "family1.hukou_address": GUARDIAN_HUKOU,
            "family1.phone": GUARDIAN_PHONE,
            "family2.name": MOTHER_NAME,
        },
    )
    row.update(overrides)
    return row


def _register(world_cast, school_year, row, status="enrolled"):
    from xueji.students.services import do_register_student
    from xueji.students.validation import validate_student

    checked = validate_student(row, today=TODAY)
    assert checked.ok, [problem.message for problem in checked.errors]
    return do_register_student(
        checked.values,
        actor=world_cast.a1_registrar,
        school=world_cast.school_a1,
        school_year=school_year,
        status=status,
    )


def build_world() -> World:
    from tests.security.walk import row_keys
    from xueji.api.services import do_create_api_token
    from xueji.changes import rules as change_rules
    from xueji.changes import services as change_services
    from xueji.changes.report import issue_change_report
    from xueji.core import services as calendar_services
    from xueji.core.jobs import do_enqueue_job, run_pending
    from xueji.intake import services as intake_services
    from xueji.intake.catchment_services import do_set_catchment
    from xueji.orgs import services as org_services
    from xueji.orgs.models import Role, Stage
    from xueji.students.models import DuplicateCandidate
    from xueji.students.photo_services import do_set_photo
    from xueji.students.rules import mask_address, mask_id_number
    from xueji.students.services import do_assign_numbers
    from xueji.students.validation import validate_student

    before_county1 = row_keys()
    cast = make_cast()

    def user(unit, username, role, designated=False):
        return org_services.do_create_user(
            actor=None,
            unit=unit,
            username=username,
            password=CAST_PASSWORD,
            role=role,
            full_name=username,
            designated=designated,
            must_change_password=False,
        )

    b1_leader = user(cast.school_b1, "b1-leader", Role.SCHOOL_LEADER)
    central_b_leader = user(cast.central_b, "central-b-leader", Role.SCHOOL_LEADER)
    school_year = calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2026,
        autumn_start=datetime.date(2026, 9, 1),
        spring_start=datetime.date(2027, 2, 22),
    )
    county1_rows = row_keys() - before_county1

    county2, county2_bureau = org_services.do_create_county(
        actor=None, division_code="370829", name="嘉祥县", bureau_name="嘉祥县教育局"
    )
    county2_township = org_services.do_create_township(
        actor=None, bureau=county2_bureau, name="马村镇", division_code="370829101", ordinal=1
    )
    county2_school = org_services.do_create_school(
        actor=None,
        township=county2_township,
        name="马村镇第一小学",
        school_code="3708290102",
        stage=Stage.PRIMARY,
        ordinal=2,
    )
    users = {
        "a1_registrar": cast.a1_registrar,
        "a1_leader": cast.a1_leader,
        "central_a_registrar": cast.central_a_registrar,
        "bureau_registrar": cast.bureau_registrar,
        "bureau_leader": cast.bureau_leader,
        "b1_registrar": cast.b1_registrar,
        "b1_leader": b1_leader,
        "central_b_registrar": cast.central_b_registrar,
        "central_b_leader": central_b_leader,
        "c_registrar": cast.c_registrar,
        "county2_bureau_registrar": user(
            county2_bureau, "county2", Role.BUREAU_REGISTRAR, designated=True
        ),
        "county2_bureau_leader": user(county2_bureau, "county2-leader", Role.BUREAU_LEADER),
        "county2_school_registrar": user(
            county2_school, "county2-school", Role.SCHOOL_REGISTRAR, designated=True
        ),
    }
    before_owner = row_keys()

    # A1's data: a pupil with every marker, numbered and photographed.
    registered = _register(cast, school_year, student_row())
    student, record = registered.student, registered.record
    # Two registrations without an ID number that look alike: held for the bureau (N11).
    twin_row = dict(
        name=TWIN_NAME, sequence=419, id_type="Z", id_number="", **{"family1.id_type": "1"}
    )
    twin_row["family1.id_number"] = id_number(datetime.date(1987, 1, 9), 211)
    twin_registration = _register(cast, school_year, raw_student(**twin_row))
    twin = twin_registration.student
    _register(cast, school_year, raw_student(**twin_row))
    # The twin is numbered first, so the pupil's number is not the settings page's sample
    # (the first number of the sequence).
    do_assign_numbers(twin_registration.record, actor=cast.a1_registrar)
    do_assign_numbers(record, actor=cast.a1_registrar)
    do_set_photo(student, portrait(), actor=cast.a1_registrar)
    record.refresh_from_db()
    student.refresh_from_db()
    candidate = (
        DuplicateCandidate.objects.filter(existing=twin).first()
        or DuplicateCandidate.objects.filter(newer=twin).first()
    )

    # A suspension walked to the central school's re-review: evidence, the printed report
    # (a verification code), signatures and the stamped scan.
    change = change_services.do_create_request(
        record,
        "suspension",
        actor=cast.a1_registrar,
        reason="sick",
        reason_note=REQUEST_NOTE,
        effective_date=datetime.date(2026, 11, 30),
    )
    evidence = None
    for document in change_rules.required_documents(change.kind, change.reason):
        added = change_services.do_add_evidence(change, document, scan(), actor=cast.a1_registrar)
        change_services.do_check_evidence(added, actor=cast.a1_registrar)
        evidence = evidence or added
    change = change_services.do_pass_documents(change, actor=cast.a1_registrar)
    paper, _pdf = issue_change_report(change, actor=cast.central_a_registrar)
    change.refresh_from_db()
    change = change_services.do_sign(change, actor=cast.a1_registrar)
    change = change_services.do_sign(change, actor=cast.a1_leader)
    change = change_services.do_upload_signed_scan(change, scan(), actor=cast.a1_registrar)

    # Intake: one pupil waiting for the central school's review, one admitted with a photo.
    def enter(name, number, birth):
        # The 17th digit of an ID number is odd for boys, even for girls.
        sex = "1" if int(number[16]) % 2 else "2"
        row = raw_student(name=name, birth=birth, id_number=number, sex=sex)
        values = validate_student(row, today=TODAY).values
        return intake_services.do_enter_pupil(
            values, actor=cast.a1_registrar, school=cast.school_a1, school_year=school_year
        )

    entry = enter(ENTRY_NAME, ENTRY_ID, datetime.date(2020, 5, 20))
    admitted = enter(ADMITTED_NAME, ADMITTED_ID, datetime.date(2020, 4, 11))
    intake_services.do_send_for_review([entry, admitted], actor=cast.a1_registrar)
    intake_services.do_review([admitted], actor=cast.central_a_registrar, admit=True)
    intake_services.do_collect_photo(admitted, portrait(), actor=cast.central_a_registrar)
    do_set_catchment(cast.school_a1, ["370828102"], actor=cast.bureau_registrar)

    plan = change_services.do_file_plan(
        cast.school_a1, scan(), actor=cast.a1_registrar, note=PLAN_NOTE
    )
    job = do_enqueue_job(
        "students.export", {"params": {}, "format": "xlsx", "full": False}, actor=cast.a1_registrar
    )
    run_pending()
    job.refresh_from_db()
    token, _plain = do_create_api_token(actor=cast.a1_registrar, name="a1 script")

    # A1 works offline this term: its laptop's key is registered at the bureau, which has
    # imported A1's change package (C8).
    from tests.packages.helpers import change_entry, evidence_for, offline_key, offline_package
    from xueji.packages import import_services
    from xueji.packages.models import SigningKey
    from xueji.packages.round_services import do_announce_round

    pair = offline_key(cast, cast.school_a1)
    uid = uuid.uuid4()
    listed, files = evidence_for(uid, SICK_DOCUMENTS)
    entry_data = change_entry(student, record, cast.school_a1, uid=uid, evidence=listed)
    imported = import_services.do_import_package(
        offline_package(pair, cast.school_a1, [entry_data], members=files),
        actor=cast.bureau_registrar,
    )
    package = imported.package
    key = SigningKey.objects.get(unit=cast.school_a1)

    # The county's own objects.
    session = change_services.do_open_session(cast.county, actor=cast.bureau_registrar)
    calendar_day = calendar_services.do_set_calendar_day(
        actor=cast.bureau_registrar,
        county=cast.county,
        date=datetime.date(2026, 12, 24),
        kind="holiday",
        name=COUNTY_DAY_NAME,
    )
    change_round = do_announce_round(
        actor=cast.bureau_registrar,
        title=COUNTY_ROUND_TITLE,
        changes_from=datetime.date(2026, 11, 1),
        changes_to=datetime.date(2026, 11, 30),
        due_date=datetime.date(2026, 12, 20),
    )
    owner_rows = row_keys() - before_owner

    entry.refresh_from_db()
    admitted.refresh_from_db()
    a1_markers = [
        STUDENT_NAME,
        STUDENT_ID,
        mask_id_number(STUDENT_ID),
        STUDENT_PHONE,
        GUARDIAN_NAME,
        GUARDIAN_ID,
        mask_id_number(GUARDIAN_ID),
        GUARDIAN_PHONE,
        MOTHER_NAME,
        REQUEST_NOTE,
        ENTRY_NAME,
        ENTRY_ID,
        ADMITTED_NAME,
        ADMITTED_ID,
        TWIN_NAME,
        PLAN_NOTE,
        student.name_pinyin,
        record.provincial_number,
        student.national_number,
        *ADDRESSES.values(),
        *(mask_address(value) for value in ADDRESSES.values()),
        GUARDIAN_ADDRESS,
        GUARDIAN_HUKOU,
    ]
    return World(
        cast=cast,
        users=users,
        school_year=school_year,
        student=student,
        record=record,
        twin=twin,
        request=change,
        evidence=evidence,
        entry=entry,
        admitted_entry=admitted,
        candidate=candidate,
        session=session,
        calendar_day=calendar_day,
        plan=plan,
        job=job,
        token=token,
        paper_code=paper.code,
        key=key,
        package=package,
        package_change=package.changes.get(),
        change_round=change_round,
        county2=county2,
        county2_bureau=county2_bureau,
        owner_rows=owner_rows,
        county1_rows=county1_rows,
        a1_markers=[marker for marker in a1_markers if marker],
        county_markers=[COUNTY_DAY_NAME, COUNTY_ROUND_TITLE],
    )


# --- The id registry: which object each address of the walk names ------------------------

OWNER_A1 = "a1"  # outsiders: every role outside A1's chain (OUTSIDER_ROLES)
OWNER_COUNTY = "county"  # outsiders: the second county's roles
CALLER = None  # resolved inside the caller's own scope: outsiders may get an answer


@dataclass(frozen=True)
class Target:
    value: Callable[[World], Any]
    owner: str | None


# Arguments whose name says what they are, in URL patterns and API paths alike.
BY_ARGUMENT: dict[str, Target] = {
    "student_id": Target(lambda w: w.student.pk, OWNER_A1),
    "record_id": Target(lambda w: w.record.pk, OWNER_A1),
    "school_id": Target(lambda w: w.cast.school_a1.pk, OWNER_A1),
    "unit_id": Target(lambda w: w.cast.school_a1.pk, OWNER_A1),
    "user_id": Target(lambda w: w.cast.a1_registrar.pk, OWNER_A1),
    "entry_id": Target(lambda w: w.admitted_entry.pk, OWNER_A1),
    "request_id": Target(lambda w: w.request.pk, OWNER_A1),
    "evidence_id": Target(lambda w: w.evidence.pk, OWNER_A1),
    "candidate_id": Target(lambda w: w.candidate.pk, OWNER_A1),
    "job_id": Target(lambda w: w.job.pk, OWNER_A1),
    "token_id": Target(lambda w: w.token.pk, OWNER_A1),
    "session_id": Target(lambda w: w.session.pk, OWNER_COUNTY),
    "day_id": Target(lambda w: w.calendar_day.pk, OWNER_COUNTY),
    "key_id": Target(lambda w: w.key.pk, OWNER_A1),
    "package_id": Target(lambda w: w.package.pk, OWNER_A1),
    "round_id": Target(lambda w: w.change_round.pk, OWNER_COUNTY),
    "start_year": Target(lambda w: w.school_year.start_year, CALLER),
    "table": Target(lambda w: "sex", CALLER),
    "code": Target(lambda w: w.paper_code, CALLER),
    # A statistics table: each caller gets it for their own scope.
    "key": Target(lambda w: "schools", CALLER),
    # A bulk print: each caller prints within their own scope.
    "kind": Target(lambda w: "record-cards", CALLER),
}

# Arguments named only `pk` (or named like another object), by URL pattern name or API
# operationId. A new pattern whose argument is in neither table fails the walk.
BY_ROUTE: dict[str, dict[str, Target]] = {
    "unit_detail": {"pk": BY_ARGUMENT["unit_id"]},
    "township_edit": {"pk": Target(lambda w: w.cast.township_a.pk, OWNER_A1)},
    "school_edit": {"pk": BY_ARGUMENT["school_id"]},
    "unit_close": {"pk": BY_ARGUMENT["school_id"]},
    "unit_reopen": {"pk": BY_ARGUMENT["school_id"]},
    "update_township": {"unit_id": Target(lambda w: w.cast.township_a.pk, OWNER_A1)},
    "user_edit": {"pk": BY_ARGUMENT["user_id"]},
    "user_password": {"pk": BY_ARGUMENT["user_id"]},
    "user_designate": {"pk": BY_ARGUMENT["user_id"]},
    "calendar_day_remove": {"pk": BY_ARGUMENT["day_id"]},
    "job_detail": {"pk": BY_ARGUMENT["job_id"]},
    "job_download": {"pk": BY_ARGUMENT["job_id"]},
    "student_detail": {"pk": BY_ARGUMENT["student_id"]},
    "student_edit": {"pk": BY_ARGUMENT["student_id"]},
    "student_photo": {"pk": BY_ARGUMENT["student_id"]},
    "student_photo_upload": {"pk": BY_ARGUMENT["student_id"]},
    "student_reveal": {"pk": BY_ARGUMENT["student_id"]},
    "student_return": {"pk": BY_ARGUMENT["student_id"]},
    "duplicate_decide": {"pk": BY_ARGUMENT["candidate_id"]},
    "intake_exception": {"pk": Target(lambda w: w.entry.pk, OWNER_A1)},
    "intake_not_admit": {"pk": Target(lambda w: w.entry.pk, OWNER_A1)},
    "session_detail": {"pk": BY_ARGUMENT["session_id"]},
    "session_close": {"pk": BY_ARGUMENT["session_id"]},
    "session_approve_selected": {"pk": BY_ARGUMENT["session_id"]},
    "session_approve_all": {"pk": BY_ARGUMENT["session_id"]},
    "session_sign_off": {"pk": BY_ARGUMENT["session_id"]},
    "session_decide": {"pk": BY_ARGUMENT["request_id"]},
    "plan_download": {"pk": Target(lambda w: w.plan.pk, OWNER_A1)},
    "check_package_change": {"change_id": Target(lambda w: w.package_change.pk, OWNER_A1)},
    "package_change_check": {"pk": Target(lambda w: w.package_change.pk, OWNER_A1)},
    **{
        name: {"pk": BY_ARGUMENT["package_id"]}
        for name in (
            "package_detail",
            "package_download",
            "package_reconciliation",
            "package_reconciliation_xlsx",
        )
    },
    **{
        name: {"pk": BY_ARGUMENT["key_id"]} for name in ("key_register", "key_revoke", "key_public")
    },
    **{
        name: {"pk": BY_ARGUMENT["round_id"]}
        for name in ("round_detail", "round_report", "round_change_due_date", "round_cancel")
    },
    **{
        name: {"pk": BY_ARGUMENT["student_id"]}
        for name in ("print_record_card", "print_certificate")
    },
    "evidence_file": {"pk": BY_ARGUMENT["evidence_id"]},
    "evidence_check": {"pk": BY_ARGUMENT["evidence_id"]},
    **{
        name: {"pk": BY_ARGUMENT["request_id"]}
        for name in (
            "change_report",
            "request_detail",
            "evidence_add",
            "documents_pass",
            "request_sign",
            "signed_scan_upload",
            "signed_scan_file",
            "central_review",
            "receiving_confirm",
            "request_submit",
            "request_record",
            "request_withdraw",
            "print_transfer_certificate",
            "print_name_change_application",
        )
    },
}


class MissingIds(Exception):
    pass


def targets_of(route_name: str, arguments: list[str]) -> dict[str, Target]:
    """The targets of a route's arguments, or MissingIds naming what to add."""
    found, missing = {}, []
    for argument in arguments:
        target = BY_ROUTE.get(route_name, {}).get(argument) or BY_ARGUMENT.get(argument)
        if target is None:
            missing.append(argument)
        else:
            found[argument] = target
    if missing:
        raise MissingIds(
            f"{route_name}: no id for {', '.join(missing)}. Add the object to "
            "tests/security/world.py (build_world) and name it in BY_ARGUMENT or BY_ROUTE, "
            "so the access walk can request it as every outsider."
        )
    return found


def owner_of(targets: dict[str, Target]) -> str | None:
    owners = {target.owner for target in targets.values()}
    if OWNER_A1 in owners:
        return OWNER_A1
    if OWNER_COUNTY in owners:
        return OWNER_COUNTY
    return CALLER


def is_outsider(role: str, owner: str | None) -> bool:
    if owner == OWNER_A1:
        return role in OUTSIDER_ROLES or role == "anonymous"
    if owner == OWNER_COUNTY:
        return role in COUNTY2_ROLES or role == "anonymous"
    return False
