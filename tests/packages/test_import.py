"""Importing at the bureau (C8, B6): verification first. An altered byte, a missing or
extra member, an unknown, unregistered or revoked key, a unit outside the key's scope and
a replayed package are each refused with their reason, and nothing is written but the
refusal's audit event. Importing the same package twice changes nothing."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.audit.models import AuditEvent
from xueji.core.scope import scope_for
from xueji.orgs import services as org_services
from xueji.orgs.models import Role
from xueji.packages import format, import_services, key_services
from xueji.packages.models import Package, PackageChange, SigningKey
from xueji.packages.units import unit_code

from .helpers import (
    change_entry,
    evidence_for,
    flip_in_member,
    offline_key,
    offline_package,
    refusals,
    registered_key,
    repacked,
    written_rows,
)

SICK = ["hospital_certificate", "medical_records", "medical_bills"]


@pytest.fixture
def offline(cast, register):
    """羊山镇第一小学 (b1) works offline: its laptop's key is registered at the bureau, and
    its package carries one submitted suspension the bureau has never seen."""
    pupil = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=7)
    pair = offline_key(cast, cast.school_b1)
    uid = uuid.uuid4()
    evidence, files = evidence_for(uid, SICK)
    entry = change_entry(pupil.student, pupil.record, cast.school_b1, uid=uid, evidence=evidence)

    def package(**options):
        options.setdefault("members", files)
        return offline_package(options.pop("pair", pair), cast.school_b1, [entry], **options)

    return {"pupil": pupil, "pair": pair, "uid": uid, "package": package, "files": files}


def refuse(cast, data, code):
    before = written_rows()
    with pytest.raises(format.PackageRefused) as refusal:
        import_services.do_import_package(data, actor=cast.bureau_registrar)
    assert refusal.value.code == code, refusal.value.message
    assert written_rows() == before
    assert refusals()[-1] == code
    return refusal.value


def evidence_name(offline):
    return sorted(name for name in offline["files"] if "medical_bills" in name)[0]


@pytest.mark.parametrize(
    "member", ["manifest.json", "manifest.sig", "changes.json", "changes.xlsx"]
)
def test_an_altered_byte_in_any_member_is_refused_and_nothing_written(cast, offline, member):
    refuse(cast, flip_in_member(offline["package"](), member, offset=5), "altered_member")


def test_an_altered_byte_in_an_evidence_file_is_refused(cast, offline):
    refuse(cast, flip_in_member(offline["package"](), evidence_name(offline), 40), "altered_member")


def test_an_altered_changes_file_packed_again_is_refused_by_its_hash(cast, offline):
    def alter(entries):
        for position, (name, data) in enumerate(entries):
            if name == "changes.json":
                entries[position] = (name, data.replace(b'"sick"', b'"other"'))

    refuse(cast, repacked(offline["package"](), alter), "altered_member")


def test_an_altered_manifest_packed_again_fails_the_signature(cast, offline):
    def alter(entries):
        entries[0] = (entries[0][0], entries[0][1].replace(b'"sequence": 1', b'"sequence": 5'))

    refuse(cast, repacked(offline["package"](), alter), "bad_signature")


def test_an_altered_signature_is_refused(cast, offline):
    other = format.new_key_pair()

    def alter(entries):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        forged = Ed25519PrivateKey.from_private_bytes(other.private).sign(entries[0][1])
        entries[1] = (entries[1][0], format.b64(forged).encode())

    refuse(cast, repacked(offline["package"](), alter), "bad_signature")


def test_a_missing_member_is_refused(cast, offline):
    name = evidence_name(offline)

    def drop(entries):
        entries[:] = [entry for entry in entries if entry[0] != name]

    refuse(cast, repacked(offline["package"](), drop), "missing_member")


def test_an_extra_member_is_refused(cast, offline):
    def add(entries):
        entries.append(("evidence/extra/forged.jpg", b"\xff\xd8\xff forged"))

    refuse(cast, repacked(offline["package"](), add), "extra_member")


def test_a_package_of_an_unknown_key_is_refused(cast, offline):
    refuse(cast, offline["package"](pair=format.new_key_pair()), "unknown_key")


def test_a_package_of_a_key_not_yet_registered_is_refused(cast, offline):
    key_services.do_generate_key(actor=cast.a1_registrar)
    key = SigningKey.objects.get(unit=cast.school_a1)
    pair = key_services.private_pair(key)
    data = offline_package(pair, cast.school_a1, [])
    refusal = refuse(cast, data, "unregistered_key")
    assert cast.school_a1.name in refusal.message


def test_a_package_of_a_revoked_key_is_refused(cast, offline):
    key = SigningKey.objects.get(unit=cast.school_b1)
    key_services.do_revoke_key(key, actor=cast.bureau_registrar, reason="laptop lost")
    refuse(cast, offline["package"](), "revoked_key")


def test_a_package_naming_another_unit_than_its_keys_is_refused(cast, offline):
    a1 = {"code": unit_code(cast.school_a1), "name": cast.school_a1.name, "kind": "school"}
    refuse(cast, offline["package"](unit_facts=a1), "outside_scope")


def test_a_package_reporting_on_a_school_outside_the_keys_scope_is_refused(cast, offline):
    schools = [unit_code(cast.school_b1), unit_code(cast.school_a1)]
    refuse(cast, offline["package"](schools=schools), "outside_scope")


def test_a_package_of_another_countys_unit_is_refused(cast, offline):
    _county, bureau = org_services.do_create_county(
        actor=None, division_code="370829", name="嘉祥县", bureau_name="嘉祥县教育局"
    )
    other = org_services.do_create_user(
        actor=None,
        unit=bureau,
        username="jx-bureau",
        password="x-password-2026",
        role=Role.BUREAU_REGISTRAR,
        full_name="jx",
        designated=True,
        must_change_password=False,
    )
    before = written_rows()
    with pytest.raises(format.PackageRefused) as refusal:
        import_services.do_import_package(offline["package"](), actor=other)
    assert refusal.value.code == "unknown_key" and written_rows() == before


def test_a_replayed_package_is_refused(cast, offline):
    import_services.do_import_package(offline["package"](sequence=2), actor=cast.bureau_registrar)
    refuse(cast, offline["package"](sequence=1), "replay")
    refuse(cast, offline["package"](sequence=2), "replay")
    imported = Package.objects.get(direction=Package.Direction.IMPORT)
    same_id = offline["package"](sequence=3, package_id=imported.package_id)
    refuse(cast, same_id, "replay")
    fresh = import_services.do_import_package(
        offline["package"](sequence=3), actor=cast.bureau_registrar
    )
    assert not fresh.already and fresh.package.sequence == 3


def test_what_is_not_a_package_is_refused(cast, offline):
    refuse(cast, b"PK\x05\x06" + b"\x00" * 18, "no_manifest")
    refuse(cast, b"%PDF-1.4", "not_zip")


def test_only_the_bureau_registrar_imports(cast, offline):
    for actor in (cast.central_a_registrar, cast.b1_registrar, cast.bureau_leader):
        with pytest.raises(PermissionDenied):
            import_services.do_import_package(offline["package"](), actor=actor)
        with pytest.raises(PermissionDenied):
            import_services.preview_package(offline["package"](), actor=actor)


def test_importing_the_same_package_twice_changes_nothing_the_second_time(cast, offline):
    data = offline["package"]()
    first = import_services.do_import_package(data, actor=cast.bureau_registrar)
    assert not first.already and first.entered == 1
    before = written_rows()
    events = AuditEvent.objects.count()
    second = import_services.do_import_package(data, actor=cast.bureau_registrar)
    assert second.already and second.package == first.package
    assert "Already imported" in second.message or "已" in second.message
    assert written_rows() == before and AuditEvent.objects.count() == events
    preview = import_services.preview_package(data, actor=cast.bureau_registrar)
    assert preview.already == first.package


def test_the_preview_writes_nothing(cast, offline):
    before = written_rows()
    events = AuditEvent.objects.count()
    preview = import_services.preview_package(offline["package"](), actor=cast.bureau_registrar)
    assert [item.judgement.verdict for item in preview.changes] == ["unknown"]
    assert preview.to_enter == 1
    assert written_rows() == before and AuditEvent.objects.count() == events


def test_the_import_page_previews_then_imports(cast, offline, client_for):
    client = client_for(cast.bureau_registrar)
    assert client.get("/packages/import/").status_code == 200
    data = offline["package"]()
    upload = SimpleUploadedFile("b1.zip", data, content_type="application/zip")
    preview = client.post("/packages/import/", {"file": upload})
    assert preview.status_code == 200
    assert offline["pupil"].student.name in preview.text
    assert not Package.objects.filter(direction=Package.Direction.IMPORT).exists()
    incoming = format.sha256(data)
    assert incoming in preview.text
    done = client.post("/packages/import/confirm/", {"incoming": incoming})
    package = Package.objects.get(direction=Package.Direction.IMPORT)
    assert done.status_code == 302 and done["Location"] == f"/packages/{package.pk}/"
    page = client.get(done["Location"])
    assert page.status_code == 200 and offline["pupil"].student.name in page.text
    assert PackageChange.objects.get().entered


def test_the_import_page_shows_a_refusal_with_its_reason(cast, offline, client_for):
    client = client_for(cast.bureau_registrar)
    data = flip_in_member(offline["package"](), "changes.json", 3)
    upload = SimpleUploadedFile("b1.zip", data, content_type="application/zip")
    response = client.post("/packages/import/", {"file": upload})
    assert response.status_code == 400 and "altered_member" in response.text
    assert written_rows()["packages"] == 0
    assert not default_storage.exists(f"packages/incoming/{format.sha256(data)}.zip")


def test_the_bureau_imports_a_package_exported_on_this_installation(cast, register, client_for):
    from xueji.packages import services

    from .helpers import RANGE, suspension

    pupil = register(sequence=3)
    suspension(cast, pupil.record)
    registered_key(cast, cast.a1_registrar)
    exported = services.do_export_changes(
        actor=cast.a1_registrar,
        schools=[cast.school_a1],
        grades=None,
        date_from=RANGE[0],
        date_to=RANGE[1],
    )
    client = client_for(cast.bureau_registrar)
    page = client.get("/packages/import/")
    assert f"?package={exported.pk}" in page.text
    preview = client.get(f"/packages/import/?package={exported.pk}")
    assert preview.status_code == 200 and pupil.student.name in preview.text
    done = client.post("/packages/import/confirm/", {"package": exported.pk})
    imported = Package.objects.get(direction=Package.Direction.IMPORT)
    assert done["Location"] == f"/packages/{imported.pk}/"
    assert imported.package_id == exported.package_id and imported.sha256 == exported.sha256
    assert PackageChange.objects.get().verdict == "pending"
    assert f"?package={exported.pk}" not in client.get("/packages/import/").text


def test_schools_do_not_reach_the_import_page(cast, client_for):
    assert client_for(cast.a1_registrar).get("/packages/import/").status_code == 403
    assert client_for(cast.central_a_registrar).get("/packages/import/").status_code == 403


def test_an_exported_package_older_than_one_imported_is_no_longer_offered(cast, register):
    from xueji.packages import import_views, services

    from .helpers import RANGE

    registered_key(cast, cast.a1_registrar)

    def export():
        return services.do_export_changes(
            actor=cast.a1_registrar,
            schools=[cast.school_a1],
            grades=None,
            date_from=RANGE[0],
            date_to=RANGE[1],
        )

    first, second = export(), export()
    offered = import_views._exported_here(scope_for(cast.bureau_registrar))
    assert {package.pk for package in offered} == {first.pk, second.pk}
    import_services.do_import_package(
        import_services.stored_bytes(second), actor=cast.bureau_registrar
    )
    assert not import_views._exported_here(scope_for(cast.bureau_registrar)).exists()
    refuse(cast, import_services.stored_bytes(first), "replay")
