"""The bureau's seed of an offline installation (issue 6): one unit's students as a signed
package, for a unit that runs Xueji on a laptop without a network.

`do_export_students` writes students.json (seed_data.py) and the photos and scans it
names, and signs them with the bureau's own key through `write_package`, like any
package. The bureau registrar makes the bureau's key on the signing keys page and
registers it there; the laptop is told the public half (.pub) separately and refuses a
seed signed with any other key.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.orgs.models import Unit
from xueji.packages import format
from xueji.packages.key_services import private_pair, signing_key_of
from xueji.packages.models import Package
from xueji.packages.seed_data import STUDENTS_MEMBER, seed_content
from xueji.packages.services import write_package
from xueji.packages.units import unit_code


def check_seed_unit(*, actor, unit: Unit) -> None:
    """Only the bureau registrar makes a seed, for an open school of the county."""
    scope = scope_for(actor)
    if scope.level != scope.COUNTY or not scope.may("packages.export"):
        raise PermissionDenied(_("Only the bureau registrar makes an offline seed."))
    if not scope.can_see(unit):
        raise PermissionDenied(_("This unit is outside your scope."))
    if not unit.is_school or not unit.is_active:
        raise RuleViolation(
            _("Unit: an offline installation works for an open school or central school."),
            field="unit",
        )


def do_export_students(*, actor, unit: Unit) -> Package:
    """The seed of `unit`'s offline installation, signed with the bureau's key: the county,
    its calendar and unit tree, and the students, intake entries and pending change
    requests of the schools the unit's key may report on (seed_data.py says what)."""
    check_seed_unit(actor=actor, unit=unit)
    bureau = scope_for(actor).unit
    assert bureau is not None
    # Refuse before the work when the bureau cannot sign.
    private_pair(signing_key_of(bureau))
    content = seed_content(unit)
    members = dict(content.files)
    members[STUDENTS_MEMBER] = format.dump_json(content.data)
    selection = {
        "unit": unit_code(unit),
        "unit_name": unit.name,
        "schools": content.data["schools"],
    }
    return write_package(
        actor=actor,
        content=Package.Content.STUDENTS,
        members=members,
        selection=selection,
        counts=content.counts,
    )
