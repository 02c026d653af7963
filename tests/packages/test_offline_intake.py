"""An offline unit's new pupils in its change package (issue 6, N1-N2, N11): the laptop
writes them (intake.json, photos); the bureau's preview gives each a verdict (new,
already known, conflicting) and the import enters the new ones into the intake, never
beyond "awaiting review", keeping their uid, so importing again finds them."""

import datetime
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tests.students.conftest import TODAY, raw_student
from xueji.core import calendar
from xueji.intake import services as intake
from xueji.intake.models import EntryState, IntakeEntry
from xueji.packages import format, import_services, services
from xueji.packages.installation import this_installation
from xueji.packages.intake_data import INTAKE_MEMBER
from xueji.packages.models import PackageIntakeEntry
from xueji.packages.units import unit_code
from xueji.students.models import Student
from xueji.students.validation import validate_student

from .helpers import members_of, offline_key, offline_package, registered_key
from .test_offline_seed import photo_bytes

RANGE = (datetime.date(2026, 9, 1), datetime.date(2026, 12, 31))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def enter(cast, school_year, school, actor, **overrides):
    values = validate_student(raw_student(**overrides), today=TODAY).values
    return intake.do_enter_pupil(values, actor=actor, school=school, school_year=school_year)


def test_only_an_offline_installations_package_carries_new_pupils(cast, school_year):
    """On the county's server the pupils are in the registry already: no intake.json."""
    registered_key(cast, cast.central_b_registrar)
    entry = enter(cast, school_year, cast.central_b, cast.central_b_registrar, sequence=51)
    from xueji.students.photo_services import do_set_photo

    do_set_photo(entry.record.student, photo_bytes(), actor=cast.central_b_registrar)
    intake.do_send_for_review([entry], actor=cast.central_b_registrar)
    today = calendar.today()
    selection = {
        "schools": [cast.central_b],
        "grades": None,
        "date_from": datetime.date(2026, 9, 1),
        "date_to": today,
    }
    server = services.do_export_changes(actor=cast.central_b_registrar, **selection)
    with server.file.open("rb") as handle:
        assert INTAKE_MEMBER not in dict(members_of(handle.read()))
    installation = this_installation()
    installation.offline_unit = cast.central_b
    installation.save()
    laptop = services.do_export_changes(actor=cast.central_b_registrar, **selection)
    with laptop.file.open("rb") as handle:
        members = dict(members_of(handle.read()))
    content = json.loads(members[INTAKE_MEMBER])
    [carried] = content["entries"]
    assert carried["uid"] == str(entry.uid) and carried["state"] == EntryState.AWAITING_REVIEW
    assert carried["items"]["id_number"] == entry.record.student.id_number
    assert len(carried["items"]) == 70  # the 72 items but the photo and the laptop's number
    assert members[carried["photo"]][:2] == b"\xff\xd8"
    assert laptop.counts["intake_entries"] == 1
    # A selection of other grades, or of a past range, leaves the pupil out.
    none = services.do_export_changes(
        actor=cast.central_b_registrar, **{**selection, "grades": [2]}
    )
    assert none.counts["intake_entries"] == 0


def pupil(uid, school, state, **overrides) -> dict:
    """One new pupil as an offline installation writes it in intake.json."""
    items = raw_student(**overrides)
    return {
        "uid": str(uid),
        "state": state,
        "school": {"code": unit_code(school), "name": school.name},
        "school_year": 2026,
        "stage": "primary",
        "items": items,
        "photo": None,
        "eligibility_problems": [],
        "exception_kind": "",
        "exception_note": "",
        "returned_reason": "",
        "document_shown": "",
        "created_at": "2026-11-20T08:00:00+08:00",
        "updated_at": "2026-11-20T08:00:00+08:00",
        "reviewed_by": None,
    }


def package_with(pair, cast, pupils, *, sequence=1, photos=None) -> bytes:
    members = {
        INTAKE_MEMBER: format.dump_json(
            {"format": "xueji-intake", "version": 1, "entries": pupils}
        ),
        **(photos or {}),
    }
    return offline_package(
        pair,
        cast.central_b,
        [],
        members=members,
        sequence=sequence,
        schools=[unit_code(cast.central_b), unit_code(cast.school_b1)],
        date_range=RANGE,
    )


@pytest.fixture
def laptop(cast, school_year, register):
    """羊山镇中心小学 works offline; the bureau knows one of its new pupils already (the
    seed carried it), and a pupil registered at 胡集镇第三小学."""
    pair = offline_key(cast, cast.central_b)
    known = enter(cast, school_year, cast.school_b1, cast.b1_registrar, sequence=61)
    elsewhere = register(sequence=62, name="王大力")
    uids = {name: uuid.uuid4() for name in ("new", "entered", "double", "outside")}
    pupils = [
        pupil(uids["new"], cast.central_b, EntryState.NUMBERED, sequence=63, name="赵新生"),
        pupil(uids["entered"], cast.central_b, EntryState.ENTERED, sequence=64, name="钱新月"),
        pupil(known.uid, cast.school_b1, EntryState.ENTERED, sequence=61),
        pupil(
            uids["double"],
            cast.school_b1,
            EntryState.AWAITING_REVIEW,
            sequence=62,
            name="王大力",
        ),
        pupil(uids["outside"], cast.school_a1, EntryState.AWAITING_REVIEW, sequence=65),
    ]
    pupils[0]["photo"] = f"intake/{uids['new']}/photo.jpg"
    photos = {pupils[0]["photo"]: photo_bytes()}
    return {
        "pair": pair,
        "uids": uids,
        "known": known,
        "elsewhere": elsewhere,
        "pupils": pupils,
        "data": package_with(pair, cast, pupils, photos=photos),
    }


def test_the_bureau_sees_new_known_and_conflicting_pupils_and_enters_the_new(cast, laptop):
    uids = laptop["uids"]
    preview = import_services.preview_package(laptop["data"], actor=cast.bureau_registrar)
    verdicts = {item.carried.uid: item.judgement.verdict for item in preview.entries}
    assert verdicts == {
        uids["new"]: PackageIntakeEntry.Verdict.NEW,
        uids["entered"]: PackageIntakeEntry.Verdict.NEW,
        laptop["known"].uid: PackageIntakeEntry.Verdict.KNOWN,
        uids["double"]: PackageIntakeEntry.Verdict.CONFLICTING,
        uids["outside"]: PackageIntakeEntry.Verdict.CONFLICTING,
    }
    reasons = {item.carried.uid: item.judgement.reason for item in preview.entries}
    assert "胡集镇第三小学" in reasons[uids["double"]]  # N11: names the school holding it
    assert preview.entries_to_enter == 2
    assert not IntakeEntry.objects.filter(uid__in=uids.values()).exists()  # preview wrote nothing

    result = import_services.do_import_package(laptop["data"], actor=cast.bureau_registrar)
    assert result.entries_entered == 2
    assert result.entry_counts == {"new": 2, "known": 1, "conflicting": 2}
    numbered = IntakeEntry.objects.select_related("record__student").get(uid=uids["new"])
    # "Numbered" on the laptop: here it waits for the review, numbers are given here.
    assert numbered.state == EntryState.AWAITING_REVIEW and numbered.school == cast.central_b
    assert not numbered.record.provincial_number and numbered.record.student.photo
    assert IntakeEntry.objects.get(uid=uids["entered"]).state == EntryState.ENTERED
    assert not IntakeEntry.objects.filter(uid__in=[uids["double"], uids["outside"]]).exists()
    rows = PackageIntakeEntry.objects.filter(package=result.package)
    assert rows.count() == 5 and rows.filter(entered=True).count() == 2

    # The same bytes again change nothing; a later package of the unit moves the entry it
    # sent for review since, and finds the others known.
    entries = IntakeEntry.objects.count()
    assert import_services.do_import_package(laptop["data"], actor=cast.bureau_registrar).already
    pupils = laptop["pupils"][:2]
    pupils[1] = {**pupils[1], "state": EntryState.AWAITING_REVIEW}
    pupils[0] = {**pupils[0], "photo": None}
    later = package_with(laptop["pair"], cast, pupils, sequence=2)
    second = import_services.do_import_package(later, actor=cast.bureau_registrar)
    assert second.entry_counts == {"new": 0, "known": 2, "conflicting": 0}
    assert second.entries_entered == 1
    assert IntakeEntry.objects.get(uid=uids["entered"]).state == EntryState.AWAITING_REVIEW
    assert IntakeEntry.objects.count() == entries
    assert Student.objects.filter(name="赵新生").count() == 1


def test_the_bureau_reviews_an_imported_pupil_like_any_other(cast, laptop):
    """N2 still happens: the central school (or the bureau) admits the imported pupil."""
    import_services.do_import_package(laptop["data"], actor=cast.bureau_registrar)
    entry = IntakeEntry.objects.get(uid=laptop["uids"]["new"])
    assert intake.do_review([entry], actor=cast.bureau_registrar, admit=True) == 1
    entry.refresh_from_db()
    assert entry.state == EntryState.ADMITTED


def test_the_api_and_the_pages_show_each_pupils_verdict(cast, laptop, client_for):
    client = client_for(cast.bureau_registrar)
    upload = {"file": SimpleUploadedFile("p.zip", laptop["data"], content_type="application/zip")}
    preview = client.post("/api/v1/package-imports/preview", upload).json()
    assert preview["intake_counts"] == {"new": 2, "known": 1, "conflicting": 2}
    assert {row["verdict"] for row in preview["intake_entries"]} == {"new", "known", "conflicting"}
    upload = {"file": SimpleUploadedFile("p.zip", laptop["data"], content_type="application/zip")}
    made = client.post("/api/v1/package-imports", upload)
    assert made.status_code == 201 and made.json()["intake_entered"] == 2
    package_id = made.json()["package"]["id"]
    detail = client.get(f"/api/v1/packages/{package_id}").json()
    assert len(detail["intake_entries"]) == 5
    with translation.override("en"):
        page = client.get(f"/packages/{package_id}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "New pupils" in page.text and "赵新生" in page.text
    assert "Already known" in page.text
    upload = {"file": SimpleUploadedFile("p.zip", laptop["data"], content_type="application/zip")}
    with translation.override("en"):
        shown = client.post("/packages/import/", upload, HTTP_ACCEPT_LANGUAGE="en")
    assert "Each new pupil against the registry" in shown.text


def test_a_malformed_intake_json_refuses_the_whole_package(cast, laptop):
    pupils = [dict(laptop["pupils"][0], state="teleported")]
    data = package_with(laptop["pair"], cast, pupils)
    with pytest.raises(format.PackageRefused) as refused:
        import_services.do_import_package(data, actor=cast.bureau_registrar)
    assert refused.value.code == "bad_member" and "intake.json" in refused.value.message
    assert not PackageIntakeEntry.objects.exists()
