"""The county tree and its people (P2, S1): the caller, units, townships, schools, users."""

from typing import Literal

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from xueji.api.common import api_field_names, caller, scope_of
from xueji.api.schemas import DETAIL_ERRORS, READ_ERRORS, WRITE_ERRORS, UnitOut, UserOut, omittable
from xueji.core.scope import CAPABILITIES
from xueji.orgs import services
from xueji.orgs.models import Role, Stage, Unit

router = Router()


# --- The caller -------------------------------------------------------------------------


class MeOut(Schema):
    user: UserOut
    unit: UnitOut | None
    role: str
    capabilities: list[str]
    scope_level: str = Field(description="county, township, school or none")


@router.get("/me", response={200: MeOut, 401: READ_ERRORS[401]}, tags=["me"], summary="Who you are")
def get_me(request):
    """Your account, your unit, your role, what your role may do and how far you see."""
    scope = scope_of(request)
    user = caller(request)
    capabilities = CAPABILITIES.get(scope.role, frozenset()) if scope.level != scope.NONE else ()
    return {
        "user": user,
        "unit": user.unit,
        "role": user.role,
        "capabilities": sorted(capabilities),
        "scope_level": scope.level,
    }


# --- Units ------------------------------------------------------------------------------


class UnitFilters(Schema):
    # The values of Unit.Kind, spelt out: every enum class called Kind would share one
    # schema named "Kind" in the OpenAPI document (the change kinds have it).
    kind: Literal["bureau", "township", "school"] | None = None
    township: int | None = Field(None, description="Only the schools of this township (id).")
    stage: Stage | None = None
    county_direct: bool | None = None
    has_printer: bool | None = Field(None, description="Schools with (or without) a printer (E1).")
    active: bool | None = None
    q: str | None = Field(None, description="Part of the name, or the start of a code.")


@router.get(
    "/units",
    response={200: list[UnitOut], **READ_ERRORS},
    tags=["units"],
    summary="List the units in your scope",
)
def list_units(request, filters: Query[UnitFilters]):
    scope = scope_of(request)
    scope.require("units.view")
    units = scope.units()
    if filters.kind:
        units = units.filter(kind=filters.kind)
    if filters.township is not None:
        units = units.filter(parent_id=filters.township, parent__kind=Unit.Kind.TOWNSHIP)
    if filters.stage:
        units = units.filter(stage=filters.stage)
    if filters.county_direct is not None:
        units = units.filter(county_direct=filters.county_direct)
    if filters.has_printer is not None:
        units = units.filter(kind=Unit.Kind.SCHOOL, has_printer=filters.has_printer)
    if filters.active is not None:
        units = units.filter(is_active=filters.active)
    if filters.q:
        q = filters.q.strip()
        units = units.filter(
            Q(name__icontains=q) | Q(school_code__startswith=q) | Q(division_code__startswith=q)
        )
    return units


@router.get(
    "/units/{unit_id}",
    response={200: UnitOut, **DETAIL_ERRORS},
    tags=["units"],
    summary="One unit",
)
def get_unit(request, unit_id: int):
    scope = scope_of(request)
    scope.require("units.view")
    return scope.get_unit(unit_id)


def _in_scope(request, unit_id: int, kind: str | None = None) -> Unit:
    """The unit to change: capability first (403), then the id in scope and of the kind
    the path names (404, the same answer as for an id that does not exist)."""
    scope = scope_of(request)
    scope.require("setup.manage")
    unit = scope.get_unit(unit_id)
    if kind is not None and unit.kind != kind:
        raise Http404(_("No such unit in your scope."))
    return unit


class TownshipIn(Schema):
    name: str
    division_code: str = Field(description="The 9-digit GB/T 2260 township code.")
    ordinal: int | None = Field(None, description="Two-digit number ordinal in the county.")


class TownshipPatch(Schema):
    name: str = omittable()
    division_code: str = omittable()
    ordinal: int | None = Field(None)


@router.post(
    "/townships",
    response={201: UnitOut, **WRITE_ERRORS},
    tags=["units"],
    summary="Create a township",
)
def create_township(request, payload: TownshipIn):
    scope = scope_of(request)
    scope.require("setup.manage")
    bureau = scope.units().get(kind=Unit.Kind.BUREAU)
    township = services.do_create_township(
        actor=caller(request), bureau=bureau, **payload.model_dump()
    )
    return Status(201, township)


@router.patch(
    "/townships/{unit_id}",
    response={200: UnitOut, **WRITE_ERRORS},
    tags=["units"],
    summary="Change a township",
)
def update_township(request, unit_id: int, payload: TownshipPatch):
    township = _in_scope(request, unit_id, Unit.Kind.TOWNSHIP)
    return services.do_update_township(
        township, actor=caller(request), **payload.model_dump(exclude_unset=True)
    )


class SchoolIn(Schema):
    township_id: int
    name: str
    school_code: str = Field(description="The 10-digit school code.")
    stage: Stage
    county_direct: bool = False
    is_central: bool = False
    has_printer: bool = True
    ordinal: int | None = Field(None, description="Two-digit number ordinal in the township.")
    address: str = ""
    phone: str = ""


class SchoolPatch(Schema):
    township_id: int = omittable("Moves the school to another township.")
    name: str = omittable()
    school_code: str = omittable()
    stage: Stage = omittable()
    county_direct: bool = omittable()
    is_central: bool = omittable()
    has_printer: bool = omittable()
    ordinal: int | None = Field(None)
    address: str = omittable()
    phone: str = omittable()


@router.post(
    "/schools",
    response={201: UnitOut, **WRITE_ERRORS},
    tags=["units"],
    summary="Create a school",
)
def create_school(request, payload: SchoolIn):
    scope = scope_of(request)
    scope.require("setup.manage")
    fields = payload.model_dump()
    township = scope.get_unit(fields.pop("township_id"))
    with api_field_names(parent="township_id"):
        school = services.do_create_school(actor=caller(request), township=township, **fields)
    return Status(201, school)


@router.patch(
    "/schools/{unit_id}",
    response={200: UnitOut, **WRITE_ERRORS},
    tags=["units"],
    summary="Change a school",
)
def update_school(request, unit_id: int, payload: SchoolPatch):
    school = _in_scope(request, unit_id, Unit.Kind.SCHOOL)
    fields = payload.model_dump(exclude_unset=True)
    if "township_id" in fields:
        fields["parent"] = scope_of(request).get_unit(fields.pop("township_id"))
    with api_field_names(parent="township_id"):
        return services.do_update_school(school, actor=caller(request), **fields)


@router.post(
    "/units/{unit_id}/close",
    response={200: UnitOut, **WRITE_ERRORS},
    tags=["units"],
    summary="Close a unit",
)
def close_unit(request, unit_id: int):
    """A closed unit keeps its history; its users must be deactivated first."""
    unit = _in_scope(request, unit_id)
    return services.do_set_unit_active(unit, False, actor=caller(request))


@router.post(
    "/units/{unit_id}/reopen",
    response={200: UnitOut, **WRITE_ERRORS},
    tags=["units"],
    summary="Reopen a closed unit",
)
def reopen_unit(request, unit_id: int):
    unit = _in_scope(request, unit_id)
    return services.do_set_unit_active(unit, True, actor=caller(request))


# --- Users ------------------------------------------------------------------------------


class UserFilters(Schema):
    unit: int | None = Field(None, description="Only the users of this unit (id).")
    role: Role | None = None
    active: bool | None = None
    designated: bool | None = Field(None, description="Designated registrars (S1) only.")
    q: str | None = Field(None, description="Part of the login name or the full name.")


class UserIn(Schema):
    unit_id: int
    username: str
    password: str = Field(description="The first password; the user changes it at first login.")
    role: Role
    full_name: str = ""
    phone: str = ""
    designated: bool = Field(False, description="Make them their unit's designated registrar.")
    must_change_password: bool = True


class UserPatch(Schema):
    unit_id: int = omittable("Moves the user to another unit.")
    full_name: str = omittable()
    role: Role = omittable()
    phone: str = omittable()
    is_active: bool = omittable()
    is_designated_registrar: bool = omittable()


class PasswordIn(Schema):
    password: str = Field(description="The new password; the user must change it at next login.")


@router.get(
    "/users",
    response={200: list[UserOut], **READ_ERRORS},
    tags=["users"],
    summary="List the users in your scope",
)
def list_users(request, filters: Query[UserFilters]):
    scope = scope_of(request)
    scope.require("users.view")
    users = scope.users()
    if filters.unit is not None:
        users = users.filter(unit_id=filters.unit)
    if filters.role:
        users = users.filter(role=filters.role)
    if filters.active is not None:
        users = users.filter(is_active=filters.active)
    if filters.designated is not None:
        users = users.filter(is_designated_registrar=filters.designated)
    if filters.q:
        q = filters.q.strip()
        users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    return users


@router.get(
    "/users/{user_id}",
    response={200: UserOut, **DETAIL_ERRORS},
    tags=["users"],
    summary="One user",
)
def get_user(request, user_id: int):
    scope = scope_of(request)
    scope.require("users.view")
    return scope.get_user(user_id)


@router.post(
    "/users",
    response={201: UserOut, **WRITE_ERRORS},
    tags=["users"],
    summary="Create a user",
)
def create_user(request, payload: UserIn):
    scope = scope_of(request)
    scope.require("setup.manage")
    fields = payload.model_dump()
    unit = scope.get_unit(fields.pop("unit_id"))
    with api_field_names(unit="unit_id"):
        user = services.do_create_user(actor=caller(request), unit=unit, **fields)
    return Status(201, user)


@router.patch(
    "/users/{user_id}",
    response={200: UserOut, **WRITE_ERRORS},
    tags=["users"],
    summary="Change a user",
)
def update_user(request, user_id: int, payload: UserPatch):
    """Change name, role, unit, telephone, designation or the active flag. A deactivated
    user loses the designation; designating one relieves the unit's previous registrar."""
    scope = scope_of(request)
    scope.require("setup.manage")
    user = scope.get_user(user_id)
    fields = payload.model_dump(exclude_unset=True)
    if "unit_id" in fields:
        fields["unit"] = scope.get_unit(fields.pop("unit_id"))
    with api_field_names(unit="unit_id"):
        return services.do_update_user(user, actor=caller(request), **fields)


@router.post(
    "/users/{user_id}/designate",
    response={200: UserOut, **WRITE_ERRORS},
    tags=["users"],
    summary="Make a user their unit's designated registrar",
)
def designate_user(request, user_id: int):
    scope = scope_of(request)
    scope.require("setup.manage")
    user = scope.get_user(user_id)
    return services.do_designate_registrar(user, actor=caller(request))


@router.post(
    "/users/{user_id}/reset-password",
    response={200: UserOut, **WRITE_ERRORS},
    tags=["users"],
    summary="Set a new password for a user",
)
def reset_user_password(request, user_id: int, payload: PasswordIn):
    scope = scope_of(request)
    scope.require("setup.manage")
    user = scope.get_user(user_id)
    return services.do_reset_password(user, payload.password, actor=caller(request))
