"""Exporting a change package (C8, B6, N3): the changes of the chosen schools, grades and
dates, any kind and state, with stable identifiers, a spreadsheet and the evidence,
signed with the exporting unit's key; scoped like everything else."""

import datetime
import io
import json

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from xueji.audit.models import AuditEvent
from xueji.changes import services as changes
from xueji.changes.models import Kind
from xueji.core.errors import RuleViolation
from xueji.core.jobs import run_pending
from xueji.core.models import Job
from xueji.packages import format, key_services, services
from xueji.packages.models import Package

from .helpers import DAY, RANGE, registered_key, suspension, with_documents


def read(package: Package) -> format.VerifiedPackage:
    with package.file.open("rb") as handle:
        data = handle.read()
    key = package.key
    return format.read(data, lambda fp: format.KnownKey(format.unb64(key.public_key), False))


def export(actor, schools, grades=None, date_range=RANGE):
    return services.do_export_changes(
        actor=actor, schools=schools, grades=grades, date_from=date_range[0], date_to=date_range[1]
    )


@pytest.fixture
def a1_changes(cast, register):
    """At a1: a suspension with its documents checked, a correction, a dropout outside the
    range; a transfer from b1 to a1; a grade-2 pupil's suspension."""
    first = register(sequence=1)
    request = with_documents(suspension(cast, first.record), cast.a1_registrar)
    second = register(sequence=2)
    correction = changes.do_create_request(
        second.record,
        Kind.CORRECTION,
        actor=cast.a1_registrar,
        reason="data_error",
        effective_date=DAY,
        corrections={"native_place": "山东嘉祥"},
    )
    third = register(sequence=3)
    outside = changes.do_create_request(
        third.record,
        Kind.DROPOUT,
        actor=cast.a1_registrar,
        reason="dropout",
        effective_date=datetime.date(2027, 3, 1),
    )
    incoming = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=4)
    transfer = changes.do_create_request(
        incoming.record,
        Kind.TRANSFER,
        actor=cast.b1_registrar,
        reason="moved",
        effective_date=DAY,
        to_school=cast.school_a1,
    )
    older = register(
        sequence=5, grade="2", birth=datetime.date(2018, 5, 2), entry_year_month="202509"
    )
    second_grade = suspension(cast, older.record)
    return {
        "suspension": request,
        "correction": correction,
        "outside": outside,
        "transfer": transfer,
        "second_grade": second_grade,
    }


def test_a_school_exports_its_changes_signed_with_stable_identifiers(cast, a1_changes):
    registered_key(cast, cast.a1_registrar)
    package = export(cast.a1_registrar, [cast.school_a1])
    assert package.direction == Package.Direction.EXPORT and package.sequence == 1
    verified = read(package)
    manifest = verified.manifest
    assert manifest["unit"] == {"code": "3708280604", "name": "胡集镇第三小学", "kind": "school"}
    assert manifest["made_by"]["login"] == "a1" and manifest["content"] == "changes"
    assert manifest["selection"] == {
        "schools": ["3708280604"],
        "grades": None,
        "from": "2026-09-01",
        "to": "2026-12-31",
        "round": None,
    }
    data = verified.json_member("changes.json")
    carried = {change["uid"]: change for change in data["changes"]}
    expected = {
        a1_changes[name].uid for name in ("suspension", "correction", "transfer", "second_grade")
    }
    assert set(carried) == {str(uid) for uid in expected}
    assert manifest["counts"]["changes"] == 4
    sick = carried[str(a1_changes["suspension"].uid)]
    student = a1_changes["suspension"].student
    assert sick["student"]["id_number"] == student.id_number
    assert sick["student"]["name"] == student.name and sick["student"]["grade"] == 1
    assert sick["from_school"]["code"] == "3708280604" and sick["state"] == "documents_checked"
    assert [step["action"] for step in sick["steps"]][0] == "created"
    assert len(sick["evidence"]) == 3
    for item in sick["evidence"]:
        assert verified.members[item["file"]][:3] == b"\xff\xd8\xff"
        assert format.sha256(verified.members[item["file"]]) == item["sha256"]
    correction = carried[str(a1_changes["correction"].uid)]
    assert (
        correction["kind"] == "correction"
        and correction["corrections"]["native_place"][1] == "山东嘉祥"
    )
    transfer = carried[str(a1_changes["transfer"].uid)]
    assert transfer["from_school"]["code"] == "3708280502"
    assert transfer["to_school"]["code"] == "3708280604"
    sheet = load_workbook(io.BytesIO(verified.members["changes.xlsx"])).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 5 and {row[0] for row in rows[1:]} == set(carried)
    event = AuditEvent.objects.get(action="package.exported")
    assert event.actor == cast.a1_registrar and event.data["sequence"] == 1


def test_the_sequence_grows_with_each_package_of_a_key(cast, a1_changes):
    registered_key(cast, cast.a1_registrar)
    assert export(cast.a1_registrar, [cast.school_a1]).sequence == 1
    assert export(cast.a1_registrar, [cast.school_a1]).sequence == 2


def test_grades_and_dates_narrow_the_selection(cast, a1_changes):
    registered_key(cast, cast.a1_registrar)
    first_grade = json.loads(
        read(export(cast.a1_registrar, [cast.school_a1], [1])).members["changes.json"]
    )
    uids = {change["uid"] for change in first_grade["changes"]}
    assert str(a1_changes["second_grade"].uid) not in uids
    assert str(a1_changes["suspension"].uid) in uids
    spring = (datetime.date(2027, 2, 1), datetime.date(2027, 3, 31))
    spring_package = read(export(cast.a1_registrar, [cast.school_a1], None, spring))
    assert [c["uid"] for c in spring_package.json_member("changes.json")["changes"]] == [
        str(a1_changes["outside"].uid)
    ]


def test_a_school_cannot_export_another_schools_changes(cast, a1_changes):
    registered_key(cast, cast.b1_registrar)
    with pytest.raises(PermissionDenied):
        export(cast.b1_registrar, [cast.school_a1])
    with pytest.raises(PermissionDenied):
        export(cast.a1_leader, [cast.school_a1])


def test_a_central_school_exports_its_townships_schools_but_not_the_county_direct_one(
    cast, a1_changes
):
    registered_key(cast, cast.central_a_registrar)
    package = export(cast.central_a_registrar, [cast.central_a, cast.school_a1])
    assert package.unit == cast.central_a and package.counts["changes"] == 4
    with pytest.raises(PermissionDenied):
        export(cast.central_a_registrar, [cast.school_c])
    with pytest.raises(PermissionDenied):
        export(cast.central_a_registrar, [cast.school_b1])


def test_a_unit_without_a_usable_key_is_told_what_to_do(cast, a1_changes, settings):
    with pytest.raises(RuleViolation) as refused:
        export(cast.a1_registrar, [cast.school_a1])
    assert cast.school_a1.name in refused.value.message
    key = registered_key(cast, cast.a1_registrar)
    (settings.XUEJI_KEY_DIR / key.private_file).unlink()
    with pytest.raises(RuleViolation) as refused:
        export(cast.a1_registrar, [cast.school_a1])
    assert key.private_file in refused.value.message
    assert not Package.objects.exists()


def test_the_selection_is_checked(cast, a1_changes):
    registered_key(cast, cast.a1_registrar)
    with pytest.raises(RuleViolation) as refused:
        export(cast.a1_registrar, [])
    assert refused.value.field == "schools"
    with pytest.raises(RuleViolation) as refused:
        export(cast.a1_registrar, [cast.school_a1], [10])
    assert refused.value.field == "grades"
    with pytest.raises(RuleViolation) as refused:
        export(cast.a1_registrar, [cast.school_a1], None, (RANGE[1], RANGE[0]))
    assert refused.value.field == "date_to"


def test_the_export_page_makes_the_package_and_offers_it_for_download(cast, a1_changes, client_for):
    registered_key(cast, cast.a1_registrar)
    client = client_for(cast.a1_registrar)
    form = client.get("/packages/export/")
    assert form.status_code == 200 and cast.school_a1.name in form.text
    assert cast.school_b1.name not in form.text
    response = client.post(
        "/packages/export/",
        {"schools": [cast.school_a1.pk], "date_from": "2026-09-01", "date_to": "2026-12-31"},
    )
    package = Package.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/packages/{package.pk}/"
    assert client.get(response["Location"]).status_code == 200
    download = client.get(f"/packages/{package.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert format.sha256(b"".join(download.streaming_content)) == package.sha256
    listing = client.get("/packages/")
    assert listing.status_code == 200 and f"/packages/{package.pk}/" in listing.text
    assert client_for(cast.b1_registrar).get(f"/packages/{package.pk}/").status_code == 404
    assert client_for(cast.b1_registrar).get(f"/packages/{package.pk}/download/").status_code == 404


def test_a_large_selection_is_exported_in_the_background(cast, a1_changes, client_for, monkeypatch):
    registered_key(cast, cast.a1_registrar)
    monkeypatch.setattr(services, "INLINE_LIMIT", 1)
    client = client_for(cast.a1_registrar)
    response = client.post(
        "/packages/export/",
        {"schools": [cast.school_a1.pk], "date_from": "2026-09-01", "date_to": "2026-12-31"},
    )
    job = Job.objects.get(kind="packages.export")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert not Package.objects.exists()
    run_pending()
    job.refresh_from_db()
    package = Package.objects.get()
    assert job.status == Job.Status.DONE and "4" in job.message
    with job.result_file.open("rb") as handle:
        assert format.sha256(handle.read()) == package.sha256


def test_a_pending_key_still_signs_here_the_bureau_decides_at_import(cast, a1_changes):
    key_services.do_generate_key(actor=cast.a1_registrar)
    assert export(cast.a1_registrar, [cast.school_a1]).key.registered_at is None
