"""Pure rules of the county tree: who supervises a school, which role fits which unit.

Each function takes facts and returns an answer or a message; none touches the database.
"""

from django.utils.translation import gettext as _

from xueji.orgs.models import Role, Stage, Unit


def is_rural_primary(school: Unit) -> bool:
    """A township primary school that its central school supervises (P2, N2, C3).

    County-direct schools report straight to the bureau; junior and nine-year schools
    report to the bureau too (the seed addresses them separately from the townships);
    a central school is its own supervisor's peer, so it reports to the bureau.
    """
    return (
        school.kind == Unit.Kind.SCHOOL
        and school.stage == Stage.PRIMARY
        and not school.county_direct
        and not school.is_central
    )


def roles_for_unit(unit: Unit) -> list[Role]:
    """The roles a user of this unit may hold."""
    if unit.kind == Unit.Kind.BUREAU:
        return [Role.BUREAU_REGISTRAR, Role.BUREAU_LEADER]
    if unit.kind == Unit.Kind.SCHOOL and unit.is_central:
        return [Role.CENTRAL_REGISTRAR, Role.SCHOOL_LEADER]
    if unit.kind == Unit.Kind.SCHOOL:
        return [Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER]
    return []


def role_problem(unit: Unit, role: str) -> str | None:
    """Why a user of `unit` cannot hold `role`, or None when they can."""
    allowed = roles_for_unit(unit)
    if not allowed:
        return _("A township has no users of its own; choose its central school instead.")
    if role not in allowed:
        names = "、".join(str(Role(r).label) for r in allowed)
        return _("The role does not fit %(unit)s: choose one of %(roles)s.") % {
            "unit": unit.name,
            "roles": names,
        }
    return None


def central_school_problem(stage: str, county_direct: bool) -> str | None:
    """Why a school with these facts cannot be its township's central school."""
    if county_direct:
        return _("A county-direct school cannot be a township's central school.")
    if stage not in (Stage.PRIMARY, Stage.NINE_YEAR):
        return _("A central school must be a primary or nine-year school.")
    return None


def ordinal_problem(ordinal: int | None) -> str | None:
    """The number ordinal fills two digits of the provincial number (DOMAIN.md)."""
    if ordinal is not None and not 1 <= ordinal <= 99:
        return _("The number ordinal must be between 1 and 99.")
    return None
