"""The bureau's seed of an offline installation (issue 6): what it carries, who may make
it (page, API, command), and how the laptop checks it before writing anything. The
seeding itself, into a second installation, is proved by test_offline_round_trip.py."""

import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import translation
from PIL import Image, ImageDraw

from tests.changes.helpers import with_documents
from xueji.changes import services as changes
from xueji.changes.models import Kind
from xueji.core import calendar
from xueji.core.errors import RuleViolation
from xueji.intake import services as intake
from xueji.orgs.models import Unit
from xueji.packages import format, key_services, offline_services, seed
from xueji.packages.installation import this_installation
from xueji.packages.models import Package
from xueji.packages.seed_data import STUDENTS_MEMBER
from xueji.packages.services import write_package
from xueji.students import form_items
from xueji.students import services as student_services
from xueji.students.photo_services import do_set_photo
from xueji.students.validation import validate_student

from .helpers import flip_in_member

CENTRAL_B = "3708280501"
SCHOOL_B1 = "3708280502"


def photo_bytes(width=400, height=500) -> bytes:
    """A light-blue portrait that passes the photo standard."""
    image = Image.new("RGB", (width, height), (170, 205, 235))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.7), fill=(205, 160, 130))
    draw.ellipse((width * 0.1, height * 0.75, width * 0.9, height * 1.3), fill=(40, 50, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bureau_key(cast):
    key = key_services.do_generate_key(actor=cast.bureau_registrar)
    return key_services.do_register_key(key, actor=cast.bureau_registrar)


@pytest.fixture
def township_b(cast, register, school_year, bureau_key):
    """羊山镇: a numbered pupil with a photo at the central school, one at the rural school
    with a pending request, a new pupil awaiting review there; and a pupil of 胡集镇."""
    from tests.students.conftest import TODAY, raw_student

    own = register(school=cast.central_b, actor=cast.central_b_registrar, sequence=41)
    rural = register(
        school=cast.school_b1, actor=cast.b1_registrar, sequence=42, name="李小红", sex="2"
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
    values = validate_student(raw_student(sequence=43, name="周新新"), today=TODAY).values
    entry = intake.do_enter_pupil(
        values, actor=cast.b1_registrar, school=cast.school_b1, school_year=school_year
    )
    intake.do_send_for_review([entry], actor=cast.b1_registrar)
    other = register(sequence=44, name="王大力")
    return {"own": own, "rural": rural, "pending": pending, "entry": entry, "other": other}


def seed_bytes(package: Package) -> bytes:
    with package.file.open("rb") as handle:
        return handle.read()


def public_file(key) -> bytes:
    return key_services.public_key_text(key).encode()


def test_a_central_schools_seed_carries_its_townships_pupils_with_every_item(
    cast, township_b, bureau_key
):
    """Issue 6: the county, its units and calendar, and for the central school and its
    rural school every open record's student with all 72 items, family, numbers, photo,
    the pending request (same uid) and the new pupil (same uid); nobody of 胡集镇."""
    package = offline_services.do_export_students(actor=cast.bureau_registrar, unit=cast.central_b)
    assert package.content == Package.Content.STUDENTS and package.unit == cast.bureau
    assert package.key == bureau_key
    assert package.selection["schools"] == [CENTRAL_B, SCHOOL_B1]
    verified = seed.read_seed(seed_bytes(package), public_file(bureau_key))
    carried = verified.seed
    assert carried.unit == CENTRAL_B and carried.county.division_code == "370828"
    assert len(carried.units) == Unit.objects.filter(county=cast.county).count()
    assert [year.start_year for year, _semesters in carried.years] == [2026]
    names = sorted(student.student.name for student in carried.students)
    assert names == sorted(["张小明", "李小红", "周新新"])
    own = township_b["own"].student
    own.refresh_from_db()
    seeded = next(s for s in carried.students if s.student.name == own.name)
    person_fields = {item.field for item in form_items.ITEMS if item.where == form_items.STUDENT}
    for field in person_fields - {"photo"}:
        assert getattr(seeded.student, field) == getattr(own, field), field
    assert seeded.student.national_number == own.national_number
    assert seeded.photo and verified.seed.files[seeded.photo][:2] == b"\xff\xd8"
    assert [member.name for member in seeded.family] == ["张建国", "李秀英"]
    [record] = seeded.records
    assert record.school == CENTRAL_B and record.record.provincial_number
    assert [year for _placement, year, _data in record.placements] == [2026]
    assert {number.value for number, _link, _data in seeded.numbers} == {
        own.national_number,
        record.record.provincial_number,
    }
    [request] = carried.requests
    assert request.request.uid == township_b["pending"].uid
    assert len(request.evidence) == township_b["pending"].evidence.count()
    [entry] = carried.entries
    assert entry.entry.uid == township_b["entry"].uid and entry.entry.state == "awaiting_review"


def test_only_the_bureau_registrar_makes_a_seed_and_only_for_an_open_school(cast, bureau_key):
    with pytest.raises(PermissionDenied):
        offline_services.do_export_students(actor=cast.central_b_registrar, unit=cast.central_b)
    with pytest.raises(RuleViolation) as refused:
        offline_services.do_export_students(actor=cast.bureau_registrar, unit=cast.township_b)
    assert refused.value.field == "unit"
    key_services.do_revoke_key(bureau_key, actor=cast.bureau_registrar, reason="new computer")
    with pytest.raises(RuleViolation) as refused:
        offline_services.do_export_students(actor=cast.bureau_registrar, unit=cast.central_b)
    assert "key" in refused.value.message.lower() or "密钥" in refused.value.message
    assert not Package.objects.exists()


def test_the_laptop_refuses_a_seed_it_cannot_verify(cast, township_b, bureau_key):
    """Nothing unverifiable is written: another key, an altered byte, a school's key file,
    a package of changes, a non-empty installation."""
    package = offline_services.do_export_students(actor=cast.bureau_registrar, unit=cast.central_b)
    data = seed_bytes(package)
    pair = format.new_key_pair()
    foreign = json.loads(public_file(bureau_key))
    foreign.update(public_key=format.b64(pair.public), fingerprint=pair.fingerprint)
    with pytest.raises(format.PackageRefused) as refused:
        seed.read_seed(data, json.dumps(foreign).encode())
    assert refused.value.code == "unknown_key"
    assert key_services.grouped(pair.fingerprint)[:19] in refused.value.message
    with pytest.raises(format.PackageRefused) as refused:
        seed.read_seed(flip_in_member(data, STUDENTS_MEMBER, 30), public_file(bureau_key))
    assert refused.value.code == "altered_member"
    school_key = key_services.do_generate_key(actor=cast.b1_registrar)
    with pytest.raises(RuleViolation) as not_bureau:
        seed.read_seed(data, public_file(school_key))
    assert not_bureau.value.field == "bureau_key"
    changes_package = write_package(
        actor=cast.bureau_registrar,
        content=Package.Content.CHANGES,
        members={"changes.json": b"{}"},
        selection={"schools": []},
        counts={},
    )
    with pytest.raises(format.PackageRefused) as refused:
        seed.read_seed(seed_bytes(changes_package), public_file(bureau_key))
    assert refused.value.code == "wrong_content"
    # This installation holds the county already: it is never seeded.
    with pytest.raises(RuleViolation) as refused:
        seed.check_empty()
    assert "orgs.county" in refused.value.message


def english(client, url, **extra):
    with translation.override("en"):
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en", **extra)


def test_the_keys_page_makes_a_seed_and_the_package_page_shows_it(cast, township_b, client_for):
    client = client_for(cast.bureau_registrar)
    page = english(client, "/keys/")
    assert "Make an offline seed for this unit" in page.text and CENTRAL_B in page.text
    with translation.override("en"):
        made = client.post(
            "/keys/offline-seed/", {"unit": cast.central_b.pk}, HTTP_ACCEPT_LANGUAGE="en"
        )
    package = Package.objects.get(content=Package.Content.STUDENTS)
    assert made.status_code == 302 and made.url == f"/packages/{package.pk}/"
    detail = english(client, made.url)
    assert "Offline seed" in detail.text and "seed-offline" in detail.text
    download = client.get(f"/packages/{package.pk}/download/")
    assert download.status_code == 200
    school = client_for(cast.central_b_registrar)
    assert school.post("/keys/offline-seed/", {"unit": cast.central_b.pk}).status_code == 403
    assert Package.objects.count() == 1


def test_the_api_makes_a_seed_within_the_bureaus_scope(cast, township_b, client_for):
    client = client_for(cast.bureau_registrar)
    made = client.post(
        "/api/v1/offline-seeds",
        json.dumps({"unit_id": cast.school_b1.pk}),
        content_type="application/json",
    )
    assert made.status_code == 200 and made["Content-Type"] == "application/zip"
    package = Package.objects.get(pk=int(made["X-Package-Id"]))
    assert package.selection["schools"] == [SCHOOL_B1]
    assert client.get(f"/api/v1/packages/{package.pk}").json()["content"] == "students"
    school = client_for(cast.b1_registrar)
    refused = school.post(
        "/api/v1/offline-seeds",
        json.dumps({"unit_id": cast.school_b1.pk}),
        content_type="application/json",
    )
    assert refused.status_code == 403
    hidden = school.post(
        "/api/v1/offline-seeds",
        json.dumps({"unit_id": cast.central_b.pk}),
        content_type="application/json",
    )
    assert hidden.status_code == 404


def test_the_export_students_command_writes_the_seed(cast, township_b, bureau_key, tmp_path):
    target = tmp_path / "seed.zip"
    output = io.StringIO()
    call_command(
        "export-students", "--unit", CENTRAL_B, "-o", str(target), "--user", "bureau",
        stdout=output,
    )  # fmt: skip
    assert "3 students" in output.getvalue()
    verified = seed.read_seed(target.read_bytes(), public_file(bureau_key))
    assert verified.seed.unit == CENTRAL_B


def test_an_offline_installation_says_so_on_every_page(cast, client, client_for):
    """The county's server shows no banner; a seeded laptop shows it, even at the login."""
    assert "offline-banner" not in english(client, "/login/").text
    installation = this_installation()
    installation.offline_unit = cast.central_b
    installation.seeded_at = installation.created_at
    installation.save()
    login = english(client, "/login/")
    assert "Offline installation of 羊山镇中心小学" in login.text
    assert "carry them to the bureau" in login.text
    page = english(client_for(cast.central_b_registrar), "/")
    assert "offline-banner" in page.text


def test_a_session_asks_for_the_banner_once(cast, client_for):
    """A logged-in session keeps the banner's answer from its first page: later pages ask
    the installation nothing and still say it (a seed goes only into an installation
    without users, so the answer cannot change under a session)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    installation = this_installation()
    installation.offline_unit = cast.central_b
    installation.seeded_at = installation.created_at
    installation.save()
    client = client_for(cast.central_b_registrar)
    first = english(client, "/students/")
    assert "Offline installation of 羊山镇中心小学" in first.text
    with CaptureQueriesContext(connection) as captured:
        later = english(client, "/students/")
    assert "Offline installation of 羊山镇中心小学" in later.text
    assert not [q["sql"] for q in captured if "packages_installation" in q["sql"]]
