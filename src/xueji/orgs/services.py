"""Every change to the county tree and its users: `do_<verb>_<noun>(..., *, actor)`.

Each function checks the rule (raising RuleViolation with a sentence that names the
field), writes the change and its audit event in one transaction. `actor=None` is the
system itself (the demo loader, the operator's set-up command); every user action names
its user.
"""

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xueji.audit.services import changes, record_event
from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.orgs import rules
from xueji.orgs.models import REGISTRAR_ROLES, County, Role, Stage, Unit, User

UNIT_FIELDS = (
    "name",
    "division_code",
    "ordinal",
    "county_ordinal",
    "school_code",
    "stage",
    "county_direct",
    "is_central",
    "has_printer",
    "address",
    "phone",
    "is_active",
)
USER_FIELDS = ("full_name", "role", "phone", "is_active", "is_designated_registrar", "unit_id")


def _require_setup(actor, unit: Unit | None = None) -> None:
    if actor is None:
        return
    scope_for(actor).require("setup.manage", unit)


def _snapshot(obj, fields) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in fields}


def _field_errors(instance, exclude: list[str] | None = None) -> None:
    """Run the model's field validators and turn the first error into a RuleViolation
    whose message names the field, e.g. "学校代码：学校代码必须是10位数字。"."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            label = instance._meta.get_field(field).verbose_name if field != "__all__" else ""
            text = "；".join(messages)
            raise RuleViolation(f"{label}：{text}" if label else text, field=field) from error


def _save(instance) -> None:
    """Save, turning a constraint the friendly checks missed (a race) into a message."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise RuleViolation(
            _("The change conflicts with data saved at the same moment; please try again.")
        ) from error


# --- Counties ---------------------------------------------------------------------------


def do_create_county(
    *, actor, division_code: str, name: str, bureau_name: str
) -> tuple[County, Unit]:
    """A county and its bureau: the first step of a new installation (`xueji init_county`)."""
    if actor is not None:
        raise RuleViolation(_("Only the operator creates counties, from the command line."))
    with transaction.atomic():
        if County.objects.filter(division_code=division_code).exists():
            raise RuleViolation(
                _("Division code: county %(code)s already exists.") % {"code": division_code},
                field="division_code",
            )
        county = County(division_code=division_code, name=name)
        _field_errors(county)
        _save(county)
        bureau = Unit(county=county, kind=Unit.Kind.BUREAU, name=bureau_name)
        _field_errors(bureau, exclude=["division_code"])
        _save(bureau)
        record_event(
            "county.created",
            actor=actor,
            target=county,
            unit=bureau,
            data={"division_code": division_code, "name": name, "bureau": bureau_name},
        )
    return county, bureau


# --- Townships ---------------------------------------------------------------------------


def _check_township(township: Unit) -> None:
    _field_errors(township, exclude=["school_code"])
    if not township.division_code:
        raise RuleViolation(
            _("Division code: enter the township's 9-digit division code."), field="division_code"
        )
    bureau = township.parent
    if bureau is not None and not township.division_code.startswith(bureau.county.division_code):
        raise RuleViolation(
            _("Division code: %(code)s does not lie in %(county)s (%(prefix)s…).")
            % {
                "code": township.division_code,
                "county": bureau.county.name,
                "prefix": bureau.county.division_code,
            },
            field="division_code",
        )
    problem = rules.ordinal_problem(township.ordinal)
    if problem:
        raise RuleViolation(problem, field="ordinal")
    siblings = Unit.objects.filter(county=township.county).exclude(pk=township.pk)
    if siblings.filter(name=township.name).exists():
        raise RuleViolation(
            _("Name: %(name)s already exists in this county.") % {"name": township.name},
            field="name",
        )
    other = siblings.filter(kind=Unit.Kind.TOWNSHIP, division_code=township.division_code).first()
    if other:
        raise RuleViolation(
            _("Division code: %(code)s is already used by %(other)s.")
            % {"code": township.division_code, "other": other.name},
            field="division_code",
        )
    other = siblings.filter(kind=Unit.Kind.TOWNSHIP, ordinal=township.ordinal).first()
    if township.ordinal is not None and other:
        raise RuleViolation(
            _("Number ordinal: %(ordinal)02d is already used by %(other)s.")
            % {"ordinal": township.ordinal, "other": other.name},
            field="ordinal",
        )


def do_create_township(
    *, actor, bureau: Unit, name: str, division_code: str, ordinal: int | None = None
) -> Unit:
    _require_setup(actor, bureau)
    if not bureau.is_bureau:
        raise RuleViolation(_("A township belongs to a county bureau."), field="parent")
    with transaction.atomic():
        township = Unit(
            county=bureau.county,
            kind=Unit.Kind.TOWNSHIP,
            parent=bureau,
            name=name.strip(),
            division_code=division_code.strip(),
            ordinal=ordinal,
        )
        _check_township(township)
        _save(township)
        record_event(
            "township.created",
            actor=actor,
            target=township,
            data=_snapshot(township, ("name", "division_code", "ordinal")),
        )
    return township


def do_update_township(township: Unit, *, actor, **fields) -> Unit:
    _require_setup(actor, township)
    allowed = {"name", "division_code", "ordinal"}
    with transaction.atomic():
        township = Unit.objects.select_for_update().get(pk=township.pk, kind=Unit.Kind.TOWNSHIP)
        before = _snapshot(township, allowed)
        for field, value in fields.items():
            if field not in allowed:
                raise RuleViolation(_("Unknown field: %(field)s") % {"field": field}, field=field)
            setattr(township, field, value.strip() if isinstance(value, str) else value)
        _check_township(township)
        diff = changes(before, _snapshot(township, allowed))
        if diff:
            _save(township)
            record_event("township.updated", actor=actor, target=township, data={"changes": diff})
    return township


# --- Schools -----------------------------------------------------------------------------


def _check_school(school: Unit) -> None:
    _field_errors(school, exclude=["division_code"])
    if school.stage not in Stage.values:
        raise RuleViolation(_("Stage: choose primary, junior or nine-year."), field="stage")
    if school.parent is None or not school.parent.is_township:
        raise RuleViolation(
            _("Township: every school lies in a township, county-direct ones too."),
            field="parent",
        )
    problem = rules.ordinal_problem(school.ordinal)
    if problem:
        raise RuleViolation(problem, field="ordinal")
    siblings = Unit.objects.filter(county=school.county).exclude(pk=school.pk)
    if siblings.filter(name=school.name).exists():
        raise RuleViolation(
            _("Name: %(name)s already exists in this county.") % {"name": school.name},
            field="name",
        )
    other = Unit.objects.filter(school_code=school.school_code).exclude(pk=school.pk).first()
    if other:
        raise RuleViolation(
            _("School code: %(code)s is already used by %(other)s.")
            % {"code": school.school_code, "other": other.name},
            field="school_code",
        )
    if school.ordinal is not None:
        same_ordinal = siblings.filter(
            parent=school.parent, kind=Unit.Kind.SCHOOL, ordinal=school.ordinal
        ).first()
        if same_ordinal is not None:
            raise RuleViolation(
                _("Number ordinal: %(ordinal)02d is already used by %(other)s in this township.")
                % {"ordinal": school.ordinal, "other": same_ordinal.name},
                field="ordinal",
            )
    problem = rules.ordinal_problem(school.county_ordinal)
    if problem:
        raise RuleViolation(problem, field="county_ordinal")
    if school.county_ordinal is not None:
        same = siblings.filter(county_ordinal=school.county_ordinal).first()
        if same is not None:
            raise RuleViolation(
                _("Junior number ordinal: %(ordinal)02d is already used by %(other)s.")
                % {"ordinal": school.county_ordinal, "other": same.name},
                field="county_ordinal",
            )
    if school.is_central:
        problem = rules.central_school_problem(school.stage, school.county_direct)
        if problem:
            raise RuleViolation(problem, field="is_central")
        other = siblings.filter(parent=school.parent, is_central=True).first()
        if other:
            raise RuleViolation(
                _("Central school: %(township)s already has %(other)s as its central school.")
                % {"township": school.parent.name, "other": other.name},
                field="is_central",
            )
    elif school.pk and school.users.filter(role=Role.CENTRAL_REGISTRAR).exists():
        raise RuleViolation(
            _(
                "Central school: this school still has central school registrars; "
                "change their role first."
            ),
            field="is_central",
        )


def do_create_school(
    *,
    actor,
    township: Unit,
    name: str,
    school_code: str,
    stage: str,
    county_direct: bool = False,
    is_central: bool = False,
    has_printer: bool = True,
    ordinal: int | None = None,
    county_ordinal: int | None = None,
    address: str = "",
    phone: str = "",
) -> Unit:
    _require_setup(actor, township)
    with transaction.atomic():
        school = Unit(
            county=township.county,
            kind=Unit.Kind.SCHOOL,
            parent=township,
            name=name.strip(),
            school_code=school_code.strip(),
            stage=stage,
            county_direct=county_direct,
            is_central=is_central,
            has_printer=has_printer,
            ordinal=ordinal,
            county_ordinal=county_ordinal,
            address=address.strip(),
            phone=phone.strip(),
        )
        _check_school(school)
        _save(school)
        record_event(
            "school.created", actor=actor, target=school, data=_snapshot(school, UNIT_FIELDS)
        )
    return school


def do_update_school(school: Unit, *, actor, **fields) -> Unit:
    """Change a school's facts; `parent` moves it to another township."""
    _require_setup(actor, school)
    allowed = set(UNIT_FIELDS) - {"division_code", "is_active"} | {"parent"}
    with transaction.atomic():
        school = Unit.objects.select_for_update().get(pk=school.pk, kind=Unit.Kind.SCHOOL)
        before = _snapshot(school, allowed - {"parent"}) | {"parent": school.parent_id}
        for field, value in fields.items():
            if field not in allowed:
                raise RuleViolation(_("Unknown field: %(field)s") % {"field": field}, field=field)
            if field == "parent":
                _require_setup(actor, value)
                if value.county_id != school.county_id:
                    raise RuleViolation(
                        _("Township: choose a township of this county."), field="parent"
                    )
            setattr(school, field, value.strip() if isinstance(value, str) else value)
        _check_school(school)
        after = _snapshot(school, allowed - {"parent"}) | {"parent": school.parent_id}
        diff = changes(before, after)
        if diff:
            _save(school)
            record_event("school.updated", actor=actor, target=school, data={"changes": diff})
    return school


def do_set_unit_active(unit: Unit, active: bool, *, actor) -> Unit:
    """Close or reopen a school. Units are never deleted: their history stays readable."""
    _require_setup(actor, unit)
    if unit.is_bureau:
        raise RuleViolation(_("The bureau cannot be closed."), field="is_active")
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        if unit.is_active == active:
            return unit
        if not active and unit.users.filter(is_active=True).exists():
            raise RuleViolation(
                _("Active: %(unit)s still has active users; deactivate them first.")
                % {"unit": unit.name},
                field="is_active",
            )
        unit.is_active = active
        _save(unit)
        record_event(
            "unit.reopened" if active else "unit.closed",
            actor=actor,
            target=unit,
            data={"is_active": [not active, active]},
        )
    return unit


# --- Users -------------------------------------------------------------------------------


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise RuleViolation(
            _("Password: %(reasons)s") % {"reasons": "".join(error.messages)}, field="password"
        ) from error


def _check_user(user: User) -> None:
    _field_errors(user, exclude=["password", "last_login", "date_joined"])
    if user.unit is None:
        raise RuleViolation(_("Unit: choose the user's unit."), field="unit")
    if not user.unit.is_active:
        raise RuleViolation(_("Unit: %(unit)s is closed.") % {"unit": user.unit.name}, field="unit")
    problem = rules.role_problem(user.unit, user.role)
    if problem:
        raise RuleViolation(problem, field="role")
    taken = User.objects.filter(username__iexact=user.username).exclude(pk=user.pk)
    if taken.exists():
        raise RuleViolation(
            _("Login name: %(username)s is already taken.") % {"username": user.username},
            field="username",
        )
    if user.is_designated_registrar and user.role not in REGISTRAR_ROLES:
        raise RuleViolation(
            _("Designated registrar: only a registrar can be the unit's designated registrar."),
            field="is_designated_registrar",
        )
    if user.is_designated_registrar and not user.is_active:
        raise RuleViolation(
            _("Designated registrar: a deactivated account cannot be designated."),
            field="is_designated_registrar",
        )


def _take_over_designation(user: User, *, actor) -> None:
    """S1: one designated registrar per unit; designating a new one relieves the old."""
    previous = (
        User.objects.select_for_update()
        .filter(unit=user.unit, is_designated_registrar=True)
        .exclude(pk=user.pk)
        .first()
    )
    if previous is not None:
        previous.is_designated_registrar = False
        _save(previous)
        record_event(
            "user.registrar_relieved",
            actor=actor,
            target=previous,
            unit=previous.unit,
            data={"is_designated_registrar": [True, False], "successor": user.username},
        )


def do_create_user(
    *,
    actor,
    unit: Unit,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    phone: str = "",
    designated: bool = False,
    must_change_password: bool = True,
    password_hash: str | None = None,
) -> User:
    """`password_hash` lets the system (actor None) seed many accounts with one password
    hashed once: Argon2 costs a quarter of a second per hash by design."""
    _require_setup(actor, unit)
    if password_hash is not None and actor is not None:
        raise PermissionDenied(_("Only the system seeds accounts with a prepared password."))
    with transaction.atomic():
        user = User(
            unit=unit,
            username=username.strip(),
            full_name=full_name.strip(),
            role=role,
            phone=phone.strip(),
            is_designated_registrar=designated,
            must_change_password=must_change_password,
        )
        _check_user(user)
        if password_hash is not None:
            user.password = password_hash
        else:
            _check_password(password, user)
            user.set_password(password)
        if designated:
            _take_over_designation(user, actor=actor)
        _save(user)
        record_event(
            "user.created",
            actor=actor,
            target=user,
            unit=unit,
            data={
                "username": user.username,
                "full_name": user.full_name,
                "role": role,
                "designated": designated,
            },
        )
    return user


def do_update_user(user: User, *, actor, **fields) -> User:
    """Change a user's name, role, unit, telephone, designation or active flag."""
    _require_setup(actor, user.unit)
    allowed = {"full_name", "role", "phone", "is_active", "is_designated_registrar", "unit"}
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = _snapshot(user, USER_FIELDS)
        for field, value in fields.items():
            if field not in allowed:
                raise RuleViolation(_("Unknown field: %(field)s") % {"field": field}, field=field)
            if field == "unit":
                _require_setup(actor, value)
            setattr(user, field, value.strip() if isinstance(value, str) else value)
        if actor is not None and user.pk == actor.pk and not user.is_active:
            raise RuleViolation(
                _("Active: you cannot deactivate your own account."), field="is_active"
            )
        if not user.is_active:
            user.is_designated_registrar = False
        _check_user(user)
        diff = changes(before, _snapshot(user, USER_FIELDS))
        if diff:
            if user.is_designated_registrar:
                _take_over_designation(user, actor=actor)
            _save(user)
            record_event(
                "user.updated", actor=actor, target=user, unit=user.unit, data={"changes": diff}
            )
    return user


def do_designate_registrar(user: User, *, actor) -> User:
    return do_update_user(user, actor=actor, is_designated_registrar=True)


def do_reset_password(user: User, password: str, *, actor) -> User:
    """The bureau (or the operator, actor=None) sets a new password; the user must change
    it at the next login."""
    _require_setup(actor, user.unit)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        _check_password(password, user)
        user.set_password(password)
        user.must_change_password = True
        _save(user)
        record_event("user.password_reset", actor=actor, target=user, unit=user.unit)
    return user


def do_change_own_password(user: User, old_password: str, new_password: str) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.check_password(old_password):
            raise RuleViolation(
                _("Old password: the password is not correct."), field="old_password"
            )
        if old_password == new_password:
            raise RuleViolation(
                _("New password: choose a password different from the old one."),
                field="new_password",
            )
        _check_password(new_password, user)
        user.set_password(new_password)
        user.must_change_password = False
        _save(user)
        record_event("user.password_changed", actor=user, target=user)
    return user
