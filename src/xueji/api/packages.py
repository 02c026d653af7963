"""Change packages (C8, B6): signing keys, exporting a package, the packages of the scope.

Reads go through the caller's scope (an id outside it is a 404); each write calls one
service of xueji.packages with the caller as actor. The private half of a key never
appears in any answer: a key is its public half, its fingerprint and its state.
"""

import datetime
import uuid
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from xueji.api.common import caller, scope_of
from xueji.api.schemas import (
    BINARY,
    DETAIL_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    Error,
    JobOut,
)
from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope
from xueji.packages import key_services, offline_services, services
from xueji.packages.models import Package, PackageChange, PackageIntakeEntry, SigningKey
from xueji.packages.units import unit_code

router = Router(tags=["packages"])

ZIP_RESPONSE = {
    "responses": {
        "200": {
            "description": "The signed package (a zip); X-Package-Id names its row.",
            "content": {"application/zip": {"schema": BINARY}},
        }
    }
}


class RefusalOut(Error):
    """A refused package: `code` says which check failed (altered_member, replay ...)."""

    code: str | None = None


# --- keys ---------------------------------------------------------------------------------


class SigningKeyOut(Schema):
    id: int
    unit_id: int
    unit_code: str
    unit_name: str
    fingerprint: str
    fingerprint_grouped: str
    state: str = Field(description="pending, registered or revoked")
    signs_here: bool = Field(description="This installation holds the private half.")
    created_at: datetime.datetime
    registered_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    revoke_reason: str

    @staticmethod
    def resolve_unit_code(key: SigningKey) -> str:
        return unit_code(key.unit)

    @staticmethod
    def resolve_unit_name(key: SigningKey) -> str:
        return key.unit.name

    @staticmethod
    def resolve_fingerprint_grouped(key: SigningKey) -> str:
        return key_services.grouped(key.fingerprint)

    @staticmethod
    def resolve_state(key: SigningKey) -> str:
        if key.revoked_at is not None:
            return "revoked"
        return "registered" if key.registered_at is not None else "pending"

    @staticmethod
    def resolve_signs_here(key: SigningKey) -> bool:
        return key.can_sign


def _keys(scope: Scope):
    if not (scope.may("packages.export") or scope.may("keys.manage")):
        scope.require("packages.export")
    return scope.signing_keys().select_related("unit__county")


def _key(scope: Scope, key_id: int) -> SigningKey:
    key = _keys(scope).filter(pk=key_id).first()
    if key is None:
        raise Http404(_("No such key in your scope."))
    return key


@router.get(
    "/signing-keys", response={200: list[SigningKeyOut], **READ_ERRORS}, summary="List signing keys"
)
def list_signing_keys(request):
    """Your unit's keys; for the bureau, every key of the county."""
    return list(_keys(scope_of(request)).order_by("unit__name", "-created_at"))


@router.post(
    "/signing-keys",
    response={201: SigningKeyOut, **WRITE_ERRORS},
    summary="Make your unit's key",
)
def generate_signing_key(request):
    """The private half is written to the installation's key directory; the key is pending
    until the bureau registers it."""
    return Status(201, key_services.do_generate_key(actor=caller(request)))


class ReasonIn(Schema):
    reason: str


@router.post(
    "/signing-keys/replace",
    response={201: SigningKeyOut, **WRITE_ERRORS},
    summary="Revoke your unit's key and make a new one",
)
def replace_signing_key(request, payload: ReasonIn):
    return Status(201, key_services.do_replace_key(actor=caller(request), reason=payload.reason))


@router.post(
    "/signing-keys/public-files",
    response={201: SigningKeyOut, **WRITE_ERRORS},
    summary="Register an offline unit's public key file (bureau)",
)
def upload_public_key(request, file: File[UploadedFile], fingerprint: Form[str] = ""):
    """The .pub file the unit exported; `fingerprint` is what the unit read over the phone
    (at least its first 8 characters), checked against the file."""
    data = file.read(key_services.PUBLIC_MAX_BYTES + 1)
    return Status(
        201,
        key_services.do_register_public_key(
            data, actor=caller(request), fingerprint_read=fingerprint
        ),
    )


@router.get(
    "/signing-keys/{key_id}",
    response={200: SigningKeyOut, **DETAIL_ERRORS},
    summary="One signing key",
)
def get_signing_key(request, key_id: int):
    return _key(scope_of(request), key_id)


@router.get(
    "/signing-keys/{key_id}/public",
    response={**DETAIL_ERRORS},
    summary="The public key file (.pub) of a key",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The .pub file: JSON with unit code, fingerprint, public key.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        }
    },
)
def get_signing_key_public(request, key_id: int):
    key = _key(scope_of(request), key_id)
    response = HttpResponse(
        key_services.public_key_text(key), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{key_services.public_key_filename(key)}"'
    )
    return response


@router.post(
    "/signing-keys/{key_id}/register",
    response={200: SigningKeyOut, **WRITE_ERRORS},
    summary="Register a pending key (bureau)",
)
def register_signing_key(request, key_id: int):
    key = _key(scope_of(request), key_id)
    return key_services.do_register_key(key, actor=caller(request))


@router.post(
    "/signing-keys/{key_id}/revoke",
    response={200: SigningKeyOut, **WRITE_ERRORS},
    summary="Revoke a key, with the reason (bureau)",
)
def revoke_signing_key(request, key_id: int, payload: ReasonIn):
    key = _key(scope_of(request), key_id)
    return key_services.do_revoke_key(key, actor=caller(request), reason=payload.reason)


# --- packages -------------------------------------------------------------------------------


class PackageOut(Schema):
    id: int
    package_id: uuid.UUID
    direction: str
    content: str
    unit_id: int
    unit_code: str
    unit_name: str
    sequence: int
    installation_id: uuid.UUID
    made_by: str
    made_at: datetime.datetime
    selection: dict[str, Any]
    counts: dict[str, Any]
    sha256: str
    key_fingerprint: str
    round_id: int | None
    handled_at: datetime.datetime

    @staticmethod
    def resolve_unit_code(package: Package) -> str:
        return unit_code(package.unit)

    @staticmethod
    def resolve_unit_name(package: Package) -> str:
        return package.unit.name

    @staticmethod
    def resolve_key_fingerprint(package: Package) -> str:
        return package.key.fingerprint


class PackageChangeOut(Schema):
    id: int
    change_uid: uuid.UUID
    kind: str
    state: str = Field(description="The request's state at its origin when packaged.")
    school_id: int | None
    student_name: str
    effective_date: datetime.date
    verdict: str = Field(description="reconciled, pending, unknown or conflicting")
    reason: str
    request_id: int | None
    entered: bool = Field(description="The import entered it into the bureau's queue.")
    checked_at: datetime.datetime | None
    check_note: str


class PackageIntakeEntryOut(Schema):
    """A new pupil an offline unit's package carried (issue 6), with the bureau's verdict."""

    id: int
    entry_uid: uuid.UUID
    state: str = Field(description="The entry's state at its origin when packaged.")
    school_id: int | None
    student_name: str
    grade: int | None
    verdict: str = Field(description="new, known or conflicting")
    reason: str
    entry_id: int | None = Field(description="The intake entry here, when there is one.")
    entered: bool = Field(description="The import entered it into the intake for review.")


class PackageDetailOut(PackageOut):
    changes: list[PackageChangeOut]
    intake_entries: list[PackageIntakeEntryOut]

    @staticmethod
    def resolve_changes(package: Package) -> list[PackageChange]:
        return list(package.changes.order_by("effective_date", "pk"))

    @staticmethod
    def resolve_intake_entries(package: Package) -> list[PackageIntakeEntry]:
        return list(package.intake_entries.order_by("pk"))


def packages_of(scope: Scope):
    if not (scope.may("packages.export") or scope.may("packages.import")):
        scope.require("packages.export")
    return scope.packages().select_related("unit__county", "key", "round")


def get_package_in(scope: Scope, package_id: int) -> Package:
    package = packages_of(scope).filter(pk=package_id).first()
    if package is None:
        raise Http404(_("No such package in your scope."))
    return package


@router.get(
    "/packages", response={200: list[PackageOut], **READ_ERRORS}, summary="List change packages"
)
def list_packages(request, direction: str | None = None):
    """Packages exported or imported for a unit of your scope, newest first."""
    packages = packages_of(scope_of(request))
    if direction:
        packages = packages.filter(direction=direction)
    return list(packages.order_by("-handled_at", "-pk")[:500])


class ExportIn(Schema):
    school_ids: list[int] = Field(min_length=1, description="Schools of your scope.")
    grades: list[int] | None = Field(None, description="Grades 1-9; none for all.")
    date_from: datetime.date
    date_to: datetime.date
    round_id: int | None = None
    background: bool = Field(False, description="Make it as a background job (202).")


def _zip(package: Package) -> HttpResponse:
    with package.file.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type="application/zip")
    name = f"xueji-{package.content}-{unit_code(package.unit)}-{package.sequence:04d}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Package-Id"] = str(package.pk)
    response["Cache-Control"] = "private, no-store"
    return response


@router.post(
    "/packages/export",
    response={202: JobOut, **WRITE_ERRORS},
    summary="Export changes as a signed package",
    openapi_extra=ZIP_RESPONSE,
)
def export_change_package(request, payload: ExportIn):
    """The changes from or to the schools whose effective date is in the range (C8),
    signed with your unit's key. Large selections, or `background`, answer 202 with the
    job whose result file is the package."""
    scope = scope_of(request)
    scope.require("packages.export")
    schools = []
    for school_id in payload.school_ids:
        school = scope.get_unit(school_id)
        if not school.is_school:
            raise RuleViolation(_("Schools: choose schools only."), field="school_ids")
        schools.append(school)
    change_round = None
    if payload.round_id is not None:
        change_round = scope.rounds().filter(pk=payload.round_id).first()
        if change_round is None:
            raise Http404(_("No such reporting round in your scope."))
    selection: dict[str, Any] = {
        "schools": schools,
        "grades": payload.grades or None,
        "date_from": payload.date_from,
        "date_to": payload.date_to,
        "round": change_round,
    }
    services.check_selection(actor=caller(request), **selection)
    if payload.background or services.count_selection(**selection) > services.INLINE_LIMIT:
        return Status(202, services.do_start_export(actor=caller(request), **selection))
    return _zip(services.do_export_changes(actor=caller(request), **selection))


@router.get(
    "/packages/{package_id}",
    response={200: PackageDetailOut, **DETAIL_ERRORS},
    summary="One change package, with its changes and verdicts",
)
def get_package(request, package_id: int):
    return get_package_in(scope_of(request), package_id)


@router.get(
    "/packages/{package_id}/file",
    response={**DETAIL_ERRORS},
    summary="The package file",
    openapi_extra=ZIP_RESPONSE,
)
def get_package_file(request, package_id: int):
    package = get_package_in(scope_of(request), package_id)
    services.do_record_package_read(package, actor=caller(request), what="file")
    return _zip(package)


class SeedIn(Schema):
    unit_id: int = Field(description="The school (or central school) working offline.")


@router.post(
    "/offline-seeds",
    response={**WRITE_ERRORS},
    summary="Make the signed seed of a unit's offline installation (bureau)",
    openapi_extra=ZIP_RESPONSE,
)
def export_student_package(request, payload: SeedIn):
    """Issue 6: the county, its calendar and units, and the students, new pupils and
    pending requests of the unit's schools, signed with the bureau's key, for
    `xueji seed-offline` on the unit's laptop. X-Package-Id names the package's row."""
    scope = scope_of(request)
    unit = scope.get_unit(payload.unit_id)
    return _zip(offline_services.do_export_students(actor=caller(request), unit=unit))
