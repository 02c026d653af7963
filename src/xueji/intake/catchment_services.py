"""The schools' catchments (N1): the village or community division codes each school
admits from. The bureau keeps them; entry eligibility reads them (services.catchment_codes).

Split from services.py by meaning: this is the bureau's setting, not a pupil's way.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from xueji.audit.services import record_event
from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.intake.models import Catchment
from xueji.orgs.models import Unit
from xueji.students.divisions import check_division


def _require_bureau_setup(actor, school: Unit) -> None:
    if actor is None:
        return
    scope = scope_for(actor)
    if scope.level != scope.COUNTY or not scope.may("setup.manage") or not scope.can_see(school):
        raise PermissionDenied(_("Only the bureau keeps the schools' catchments."))


def clean_catchment_codes(codes: list[str]) -> list[str]:
    """Each code normalised to 12 digits (a 9-digit township code padded with zeros, which
    the catchment rule reads as the whole township), in order, without repeats. A code that
    is not a division code, or names a whole county, is refused by name; an unknown county
    part is only a warning in check_division and is accepted here, as the bureau typed it
    deliberately."""
    cleaned: list[str] = []
    for typed in codes:
        if not str(typed).strip():
            continue
        code, problem = check_division(typed)
        if problem is not None and not problem.warning:
            raise RuleViolation(
                _("Catchment: %(code)s is refused: %(reason)s")
                % {"code": str(typed).strip(), "reason": problem.reason},
                field="codes",
            )
        if code[6:9] == "000":
            # A whole county as a catchment would admit everyone: name a township or a village.
            raise RuleViolation(
                _(
                    "Catchment: %(code)s is refused: name a township (9 digits) "
                    "or a village or community (12 digits)."
                )
                % {"code": str(typed).strip()},
                field="codes",
            )
        if code not in cleaned:
            cleaned.append(code)
    return cleaned


def do_set_catchment(school: Unit, codes: list[str], *, actor) -> list[str]:
    """Replace the school's catchment list; returns the codes now kept."""
    _require_bureau_setup(actor, school)
    if not school.is_school:
        raise RuleViolation(_("Only schools have a catchment."))
    cleaned = clean_catchment_codes(codes)
    with transaction.atomic():
        current = {
            area.division_code: area
            for area in Catchment.objects.select_for_update().filter(school=school)
        }
        before = sorted(current)
        Catchment.objects.filter(school=school).exclude(division_code__in=cleaned).delete()
        Catchment.objects.bulk_create(
            [
                Catchment(school=school, division_code=code)
                for code in cleaned
                if code not in current
            ]
        )
        record_event(
            "intake.catchment_set",
            actor=actor,
            target=school,
            data={"before": before, "after": sorted(cleaned)},
        )
    return sorted(cleaned)
