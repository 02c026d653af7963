"""Units as packages name them: a code that means the same on every installation, and the
schools a unit's key may speak for."""

from django.db.models import QuerySet

from xueji.core.scope import Scope
from xueji.orgs.models import Role, Unit


def unit_code(unit: Unit) -> str:
    """A school's 10-digit code, a township's 9-digit division code, the bureau's county
    code (6 digits): stable across installations, and never two units alike."""
    if unit.is_school:
        return unit.school_code or ""
    if unit.is_township:
        return unit.division_code
    return unit.county.division_code


def unit_by_code(code: str, county=None) -> Unit | None:
    code = (code or "").strip()
    units = Unit.objects.select_related("county", "parent")
    if county is not None:
        units = units.filter(county=county)
    if len(code) == 10:
        return units.filter(kind=Unit.Kind.SCHOOL, school_code=code).first()
    if len(code) == 9:
        return units.filter(kind=Unit.Kind.TOWNSHIP, division_code=code).first()
    if len(code) == 6:
        return units.filter(kind=Unit.Kind.BUREAU, county__division_code=code).first()
    return None


class _UnitRegistrar:
    """The unit's registrar as scope.py sees a user: a unit's key speaks for exactly the
    schools its registrar sees, decided by the one module that decides scope."""

    is_authenticated = True
    is_active = True

    def __init__(self, unit: Unit):
        self.unit = unit
        self.unit_id = unit.pk
        if unit.is_bureau:
            self.role = Role.BUREAU_REGISTRAR
        elif unit.is_school and unit.is_central:
            self.role = Role.CENTRAL_REGISTRAR
        else:
            self.role = Role.SCHOOL_REGISTRAR


def schools_of(unit: Unit) -> QuerySet[Unit]:
    """The schools a unit's package may report on."""
    return Scope(_UnitRegistrar(unit)).schools()
