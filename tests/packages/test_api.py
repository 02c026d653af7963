"""Change packages through the API (C8, B6): keys, export, preview and import of a
multipart upload, packages with their verdicts, the reconciliation report; scoped, 404
outside the scope, refusals answered 400 with their code."""

import json
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.packages import format
from xueji.packages.models import Package, PackageChange, SigningKey

from .helpers import (
    change_entry,
    evidence_for,
    flip_in_member,
    offline_key,
    offline_package,
    suspension,
    written_rows,
)


def send(client, method, path, data=None):
    return client.generic(
        method.upper(), path, json.dumps(data or {}), content_type="application/json"
    )


def zip_upload(data: bytes, **fields):
    return {"file": SimpleUploadedFile("p.zip", data, content_type="application/zip"), **fields}


def test_keys_through_the_api_never_show_the_private_half(cast, client_for, settings):
    school = client_for(cast.a1_registrar)
    made = school.post("/api/v1/signing-keys")
    assert made.status_code == 201
    body = made.json()
    assert body["state"] == "pending" and body["signs_here"] and body["unit_code"] == "3708280604"
    assert "private_file" not in body and not any("PRIVATE" in str(v) for v in body.values())
    key = SigningKey.objects.get()
    pem = (settings.XUEJI_KEY_DIR / key.private_file).read_text().splitlines()[1]
    assert pem not in made.text and key.private_file not in made.text
    assert school.post(f"/api/v1/signing-keys/{key.pk}/register").status_code == 403
    bureau = client_for(cast.bureau_registrar)
    listed = bureau.get("/api/v1/signing-keys").json()
    assert [row["fingerprint"] for row in listed] == [key.fingerprint]
    assert bureau.post(f"/api/v1/signing-keys/{key.pk}/register").json()["state"] == "registered"
    public = bureau.get(f"/api/v1/signing-keys/{key.pk}/public")
    assert json.loads(public.content)["fingerprint"] == key.fingerprint
    refused = send(bureau, "post", f"/api/v1/signing-keys/{key.pk}/revoke", {"reason": ""})
    assert refused.status_code == 400 and refused.json()["field"] == "reason"
    revoked = send(bureau, "post", f"/api/v1/signing-keys/{key.pk}/revoke", {"reason": "lost"})
    assert revoked.json()["state"] == "revoked"
    assert client_for(cast.b1_registrar).get(f"/api/v1/signing-keys/{key.pk}").status_code == 404
    replaced = send(
        client_for(cast.a1_registrar),
        "post",
        "/api/v1/signing-keys/replace",
        {"reason": "new laptop"},
    )
    assert replaced.status_code == 201 and replaced.json()["state"] == "pending"


def test_the_bureau_registers_an_offline_units_pub_file_through_the_api(cast, client_for):
    pair = format.new_key_pair()
    text = json.dumps(
        {
            "format": "xueji-public-key",
            "version": 1,
            "algorithm": "ed25519",
            "unit_code": "3708280502",
            "unit_name": "羊山镇第一小学",
            "public_key": format.b64(pair.public),
            "fingerprint": pair.fingerprint,
        }
    ).encode()
    bureau = client_for(cast.bureau_registrar)
    response = bureau.post(
        "/api/v1/signing-keys/public-files",
        {"file": SimpleUploadedFile("b1.pub", text), "fingerprint": pair.fingerprint[:8]},
    )
    assert response.status_code == 201 and response.json()["state"] == "registered"


def test_export_then_preview_and_import_round_trip(cast, client_for, register):
    pupil = register(sequence=3)
    request = suspension(cast, pupil.record)
    school = client_for(cast.a1_registrar)
    key_id = school.post("/api/v1/signing-keys").json()["id"]
    client_for(cast.bureau_registrar).post(f"/api/v1/signing-keys/{key_id}/register")
    school = client_for(cast.a1_registrar)
    exported = send(
        school,
        "post",
        "/api/v1/packages/export",
        {"school_ids": [cast.school_a1.pk], "date_from": "2026-09-01", "date_to": "2026-12-31"},
    )
    assert exported.status_code == 200 and exported["Content-Type"] == "application/zip"
    data = exported.content
    package = Package.objects.get(pk=int(exported["X-Package-Id"]))
    assert package.sha256 == format.sha256(data)
    assert school.get("/api/v1/packages").json()[0]["sequence"] == 1
    assert school.get(f"/api/v1/packages/{package.pk}/file").content == data
    outside = send(
        client_for(cast.b1_registrar),
        "post",
        "/api/v1/packages/export",
        {"school_ids": [cast.school_a1.pk], "date_from": "2026-09-01", "date_to": "2026-12-31"},
    )
    assert outside.status_code == 404
    bureau = client_for(cast.bureau_registrar)
    before = written_rows()
    preview = bureau.post("/api/v1/package-imports/preview", zip_upload(data))
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["changes"][0]["verdict"] == "pending"
    assert body["changes"][0]["request_id"] == request.pk
    assert body["counts"]["pending"] == 1 and written_rows() == before
    done = bureau.post("/api/v1/package-imports", zip_upload(data))
    assert done.status_code == 201 and not done.json()["already_imported"]
    imported_id = done.json()["package"]["id"]
    again = bureau.post("/api/v1/package-imports", zip_upload(data))
    assert again.status_code == 200 and again.json()["already_imported"]
    detail = bureau.get(f"/api/v1/packages/{imported_id}").json()
    assert detail["direction"] == "import" and detail["changes"][0]["verdict"] == "pending"
    change_id = detail["changes"][0]["id"]
    checked = send(bureau, "post", f"/api/v1/package-changes/{change_id}/check", {"note": "ok"})
    assert checked.status_code == 200 and checked.json()["checked_at"]
    report = bureau.get(f"/api/v1/packages/{imported_id}/reconciliation").json()
    assert report["schools"][0]["school_id"] == cast.school_a1.pk
    assert report["schools"][0]["counts"]["pending"] == 1
    sheet = bureau.get(f"/api/v1/packages/{imported_id}/reconciliation.xlsx")
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    assert client_for(cast.b1_registrar).get(f"/api/v1/packages/{imported_id}").status_code == 404
    assert (
        client_for(cast.b1_registrar)
        .get(f"/api/v1/packages/{imported_id}/reconciliation")
        .status_code
        == 404
    )


def test_a_refused_package_answers_400_with_its_code_and_writes_nothing(cast, client_for, register):
    pupil = register(school=cast.school_b1, actor=cast.b1_registrar, sequence=5)
    pair = offline_key(cast, cast.school_b1)
    uid = uuid.uuid4()
    evidence, files = evidence_for(
        uid, ["hospital_certificate", "medical_records", "medical_bills"]
    )
    entry = change_entry(pupil.student, pupil.record, cast.school_b1, uid=uid, evidence=evidence)
    data = offline_package(pair, cast.school_b1, [entry], members=files)
    bureau = client_for(cast.bureau_registrar)
    before = written_rows()
    for path in ("/api/v1/package-imports/preview", "/api/v1/package-imports"):
        refused = bureau.post(path, zip_upload(flip_in_member(data, "manifest.json", 20)))
        assert refused.status_code == 400
        assert refused.json()["code"] == "altered_member" and refused.json()["detail"]
    assert written_rows() == before
    assert (
        client_for(cast.b1_registrar).post("/api/v1/package-imports", zip_upload(data)).status_code
        == 403
    )
    bureau = client_for(cast.bureau_registrar)  # one test client: log the bureau in again
    done = bureau.post("/api/v1/package-imports", zip_upload(data))
    assert done.status_code == 201 and done.json()["entered"] == 1
    assert PackageChange.objects.get().request.state == "submitted"
    missing = bureau.post("/api/v1/package-imports", {})
    assert missing.status_code == 400 and missing.json()["field"] == "file"
