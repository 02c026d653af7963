"""The offline installation's round trip (issue 6, C8, B6, N1-N2), as two real
installations: the bureau's is this test's database (SQLite or PostgreSQL); the laptop of
羊山镇中心小学 is another process (`python -m xueji`) with its own SQLite file, data and key
directories.

The bureau makes the seed; the laptop verifies it against the bureau's key file (and
refuses an altered seed, another key, a second seed), seeds itself exactly, creates its
registrar and leader and its own key; there the registrar submits a change request and
enters a new pupil, and exports a changes package. At the bureau a package signed before
its key is registered is refused; after registration the preview says unknown for the
request and new for the pupil; the import enters the request as submitted (for the next
Wednesday session) and the pupil as awaiting review; importing again changes nothing.
"""

import datetime
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from tests.changes.helpers import with_documents
from xueji.changes import services as changes
from xueji.changes.models import ChangeRequest, Kind, State
from xueji.core import calendar
from xueji.intake.models import EntryState, IntakeEntry
from xueji.packages import format, import_services, key_services, offline_services
from xueji.packages.models import Package, PackageChange, PackageIntakeEntry
from xueji.students import services as student_services
from xueji.students.photo_services import do_set_photo

from .helpers import flip_in_member, refusals, written_rows
from .test_offline_seed import photo_bytes

LAPTOP_PASSWORD = "laptop-password-2026"
CENTRAL_B = "3708280501"
SCHOOL_B1 = "3708280502"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "bureau-media"


class Laptop:
    """The offline installation: `xueji` commands in another process, its own database."""

    def __init__(self, root: Path):
        self.root = root
        self.database = root / "laptop.sqlite3"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("XUEJI_", "PYTEST_", "DJANGO_SETTINGS"))
        }
        self.env.update(
            XUEJI_DATABASE_URL=f"sqlite:///{self.database}",
            XUEJI_DATA_DIR=str(root / "data"),
            XUEJI_KEY_DIR=str(root / "keys"),
            XUEJI_SECRET_KEY="laptop-secret-key-for-the-round-trip-test",
        )

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "xueji", *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"xueji {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def python(self, script: str, **facts) -> dict:
        """Run a script on the laptop through the product's services; it prints JSON."""
        path = self.root / "script.py"
        path.write_text(textwrap.dedent(script), encoding="utf-8")
        (self.root / "facts.json").write_text(json.dumps(facts, default=str), encoding="utf-8")
        done = self.run("shell", "-c", f"exec(open({str(path)!r}, encoding='utf-8').read())")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def rows(self, query: str) -> list[tuple]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(query).fetchall()


@pytest.fixture
def bureau(cast, register):
    """The bureau's side: its registered key, and 羊山镇's pupils (numbered, one with a
    photo, one with a pending request) the seed of 羊山镇中心小学 carries."""
    key = key_services.do_generate_key(actor=cast.bureau_registrar)
    key_services.do_register_key(key, actor=cast.bureau_registrar)
    own = register(school=cast.central_b, actor=cast.central_b_registrar, sequence=21)
    rural = register(
        school=cast.school_b1, actor=cast.b1_registrar, sequence=22, name="李小红", sex="2"
    )
    for record in (own.record, rural.record):
        student_services.do_assign_numbers(record, actor=cast.bureau_registrar)
    do_set_photo(own.student, photo_bytes(), actor=cast.bureau_registrar)
    pending = changes.do_create_request(
        rural.record,
        Kind.SUSPENSION,
        actor=cast.b1_registrar,
        reason="sick",
        effective_date=calendar.today(),
    )
    pending = with_documents(pending, cast.b1_registrar)
    elsewhere = register(school=cast.school_a1, sequence=23, name="王大力")
    return {"key": key, "own": own, "rural": rural, "pending": pending, "elsewhere": elsewhere}


LAPTOP_WORK = """
    import io, json
    from PIL import Image
    from xueji.changes import rules, services as changes
    from xueji.core import calendar
    from xueji.core.models import SchoolYear
    from xueji.intake import services as intake
    from xueji.orgs.models import User
    from xueji.students.models import StudentRecord
    from xueji.students.validation import validate_student

    facts = json.load(open("facts.json", encoding="utf-8"))
    registrar = User.objects.get(username="laptop")
    leader = User.objects.get(username="laptop-ld")

    def scan():
        buffer = io.BytesIO()
        Image.new("L", (120, 170), 230).save(buffer, "JPEG")
        return buffer.getvalue()

    record = StudentRecord.objects.get(student__id_number=facts["id_number"], status="enrolled")
    request = changes.do_create_request(
        record, "suspension", actor=registrar, reason="sick", effective_date=calendar.today()
    )
    for document in rules.required_documents("suspension", "sick"):
        evidence = changes.do_add_evidence(request, document, scan(), actor=registrar)
        changes.do_check_evidence(evidence, actor=registrar)
    request = changes.do_pass_documents(request, actor=registrar)
    request = changes.do_mark_report_printed(request, actor=registrar)
    changes.do_sign(request, actor=registrar)
    changes.do_sign(request, actor=leader)
    request = changes.do_upload_signed_scan(request, scan(), actor=registrar)
    request = changes.do_submit(request, actor=registrar)

    year = SchoolYear.objects.get(start_year=2026)
    checked = validate_student(facts["pupil"], today=calendar.today())
    assert checked.ok, [problem.message for problem in checked.errors]
    entry = intake.do_enter_pupil(
        checked.values, actor=registrar, school=registrar.unit, school_year=year
    )
    intake.do_send_for_review([entry], actor=registrar)

    from django.test import Client
    from django.urls import reverse
    page = Client(HTTP_HOST="127.0.0.1").get(reverse("login")).content.decode()
    print(json.dumps({
        "request": str(request.uid),
        "request_state": request.state,
        "entry": str(entry.uid),
        "banner": "offline-banner" in page,
    }))
"""


def test_an_offline_laptop_round_trip_from_seed_to_the_bureaus_queue(cast, bureau, tmp_path):
    """Issue 6 end to end; C6: what the laptop submitted waits for the Wednesday session."""
    from tests.students.conftest import raw_student

    laptop = Laptop(tmp_path / "laptop")
    laptop.root.mkdir()
    # The bureau makes the seed of 羊山镇中心小学 and gives the laptop its public key file.
    seed = offline_services.do_export_students(actor=cast.bureau_registrar, unit=cast.central_b)
    assert seed.content == Package.Content.STUDENTS
    seed_file, bureau_pub = laptop.root / "seed.zip", laptop.root / "bureau.pub"
    with seed.file.open("rb") as handle:
        seed_file.write_bytes(handle.read())
    bureau_pub.write_text(key_services.public_key_text(bureau["key"]), encoding="utf-8")
    laptop.run("migrate", "-v0")

    # An altered seed, or one checked against another key, is refused; nothing is written.
    altered = laptop.root / "altered.zip"
    altered.write_bytes(flip_in_member(seed_file.read_bytes(), "students.json", 40))
    seed_args = ["--registrar", "laptop", "--password", LAPTOP_PASSWORD]
    refused = laptop.run(
        "seed-offline", str(altered), "--bureau-key", str(bureau_pub), *seed_args, check=False
    )
    assert refused.returncode == 2 and "altered" in refused.stderr
    foreign = json.loads(bureau_pub.read_text(encoding="utf-8"))
    pair = format.new_key_pair()
    foreign.update(public_key=format.b64(pair.public), fingerprint=pair.fingerprint)
    foreign_pub = laptop.root / "foreign.pub"
    foreign_pub.write_text(json.dumps(foreign), encoding="utf-8")
    refused = laptop.run(
        "seed-offline", str(seed_file), "--bureau-key", str(foreign_pub), *seed_args, check=False
    )
    assert refused.returncode == 2 and "unknown_key" in refused.stderr
    assert laptop.rows("select count(*) from students_student") == [(0,)]
    assert laptop.rows("select count(*) from orgs_user") == [(0,)]

    # The seed: fingerprint shown, everything exact, users and the unit's key made.
    seeded = laptop.run(
        "seed-offline", str(seed_file), "--bureau-key", str(bureau_pub), *seed_args,
        "--leader", "laptop-ld", "--leader-password", LAPTOP_PASSWORD,
    )  # fmt: skip
    assert key_services.grouped(bureau["key"].fingerprint) in seeded.stdout
    own, rural = bureau["own"].student, bureau["rural"].student
    own.refresh_from_db()
    rural.refresh_from_db()
    assert sorted(laptop.rows("select national_number from students_student")) == sorted(
        [(own.national_number,), (rural.national_number,)]
    )
    assert laptop.rows("select count(*) from students_student where photo != ''") == [(1,)]
    # 胡集镇's pupil (bureau["elsewhere"]) is not the unit's: the seed leaves him out.
    assert laptop.rows("select count(*) from students_student") == [(2,)]
    assert laptop.rows("select uid, state from changes_changerequest") == [
        (bureau["pending"].uid.hex, State.DOCUMENTS_CHECKED)
    ]
    assert laptop.rows(
        "select username, must_change_password from orgs_user order by username"
    ) == [("laptop", 1), ("laptop-ld", 1)]
    laptop_pub = next(laptop.root.glob("xueji-key-3708280501-*.pub"))
    assert str(laptop_pub.name) in seeded.stdout
    again = laptop.run(
        "seed-offline", str(seed_file), "--bureau-key", str(bureau_pub),
        "--registrar", "second", "--password", LAPTOP_PASSWORD, check=False,
    )  # fmt: skip
    assert again.returncode == 2 and "orgs.county (1)" in again.stderr  # not empty

    # On the laptop: a submitted suspension and a new pupil sent for review.
    pupil = raw_student(sequence=31, name="赵新生", birth=datetime.date(2020, 3, 1))
    work = laptop.python(LAPTOP_WORK, id_number=own.id_number, pupil=pupil)
    assert work["request_state"] == State.SUBMITTED and work["banner"]
    package_file = laptop.root / "changes.zip"
    laptop.run(
        "export-changes", "--school", CENTRAL_B, "--school", SCHOOL_B1, "--from", "2026-09-01",
        "--to", calendar.today().isoformat(), "-o", str(package_file), "--user", "laptop",
    )  # fmt: skip
    data = package_file.read_bytes()
    assert "intact" in laptop.run("audit", "verify").stdout

    # At the bureau: the key file is received, but not registered before the phone call.
    before = written_rows()
    key = key_services.do_register_public_key(
        laptop_pub.read_bytes(), actor=cast.bureau_registrar, register=False
    )
    with pytest.raises(format.PackageRefused) as refusal:
        import_services.do_import_package(data, actor=cast.bureau_registrar)
    assert refusal.value.code == "unregistered_key"
    assert refusals()[-1] == "unregistered_key" and written_rows() == before
    key_services.do_register_key(key, actor=cast.bureau_registrar)

    preview = import_services.preview_package(data, actor=cast.bureau_registrar)
    verdicts = {str(item.carried.uid): item.judgement.verdict for item in preview.changes}
    assert verdicts == {
        work["request"]: PackageChange.Verdict.UNKNOWN,
        str(bureau["pending"].uid): PackageChange.Verdict.PENDING,
    }
    assert [(str(item.carried.uid), item.judgement.verdict) for item in preview.entries] == [
        (work["entry"], PackageIntakeEntry.Verdict.NEW)
    ]

    result = import_services.do_import_package(data, actor=cast.bureau_registrar)
    assert result.entered == 1 and result.entries_entered == 1
    request = ChangeRequest.objects.get(uid=uuid.UUID(work["request"]))
    assert request.state == State.SUBMITTED and request.session is not None
    assert request.session.date.weekday() == 2  # the next Wednesday session decides it
    entry = IntakeEntry.objects.select_related("record__student").get(uid=uuid.UUID(work["entry"]))
    assert entry.state == EntryState.AWAITING_REVIEW and entry.school == cast.central_b
    assert entry.record.student.name == "赵新生" and not entry.record.provincial_number

    # Importing again changes nothing.
    counts = written_rows()
    entries = IntakeEntry.objects.count()
    again = import_services.do_import_package(data, actor=cast.bureau_registrar)
    assert again.already and written_rows() == counts and IntakeEntry.objects.count() == entries
