"""Which tables each statistics page shows: the one registry the pages, the API and the
xlsx export share. A table has a key, a page and a builder (scope → queries.py →
rules.py), so the numbers a registrar exports are the numbers the page showed.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext as _

from xueji.core.scope import Scope
from xueji.stats import count_tables as counts
from xueji.stats import watch_tables as watch
from xueji.stats.context import Context, Options
from xueji.stats.rules import Table

__all__ = ["Context", "Options", "build_page", "build_table", "require_page"]

STUDENTS = "students"
CHANGES = "changes"
INTAKE = "intake"
DROPOUT = "dropout"
OVERVIEW = "overview"

# What a page needs beyond seeing its scope. The dropout watch names students and their
# requests; the units overview is the bureau's (S1, E1, C8, C9).
PAGE_CAPABILITIES: dict[str, tuple[str, ...]] = {
    STUDENTS: ("stats.view",),
    CHANGES: ("stats.view",),
    INTAKE: ("stats.view",),
    DROPOUT: ("stats.view", "students.view", "changes.view"),
    OVERVIEW: ("overview.view",),
}


# --- The registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    key: str
    page: str
    build: Callable[[Context], Table]
    # Levels of scope the table is shown at (a school sees no per-township table).
    levels: tuple[str, ...] = (Scope.COUNTY, Scope.TOWNSHIP, Scope.SCHOOL)


SPECS: tuple[TableSpec, ...] = (
    TableSpec("schools", STUDENTS, counts.schools),
    TableSpec("townships", STUDENTS, counts.townships, (Scope.COUNTY, Scope.TOWNSHIP)),
    TableSpec("grades", STUDENTS, counts.grades),
    TableSpec("sexes", STUDENTS, counts.coded("sexes", "sex", "sex", counts.sexes_title)),
    TableSpec(
        "ethnicities",
        STUDENTS,
        counts.coded("ethnicities", "ethnicity", "ethnicity", counts.ethnic_title),
    ),
    TableSpec(
        "hukou", STUDENTS, counts.coded("hukou", "hukou_type", "hukou_type", counts.hukou_title)
    ),
    TableSpec("special", STUDENTS, counts.special),
    TableSpec("changes-by-semester", CHANGES, counts.changes_by_semester),
    TableSpec("changes-by-school", CHANGES, counts.changes_by_school),
    TableSpec("intake", INTAKE, counts.intake),
    TableSpec("absent", DROPOUT, watch.absent),
    TableSpec("closed-without-change", DROPOUT, watch.closed),
    TableSpec("overdue-suspensions", DROPOUT, watch.suspensions),
    TableSpec("unrecorded-transfers", DROPOUT, watch.transfers),
    TableSpec("graduates-without-junior", DROPOUT, watch.graduates),
    TableSpec("without-registrar", OVERVIEW, watch.without_registrar),
    TableSpec("without-printer", OVERVIEW, watch.without_printer),
    TableSpec("without-plan", OVERVIEW, watch.without_plan),
    TableSpec("late-in-round", OVERVIEW, watch.late),
)
BY_KEY: dict[str, TableSpec] = {spec.key: spec for spec in SPECS}


def require_page(scope: Scope, page: str) -> None:
    """PermissionDenied unless the user may see the page (and so export its tables)."""
    for capability in PAGE_CAPABILITIES[page]:
        scope.require(capability)


def build_page(context: Context, page: str) -> list[Table]:
    require_page(context.scope, page)
    level = context.scope.level
    return [spec.build(context) for spec in SPECS if spec.page == page and level in spec.levels]


def build_table(context: Context, key: str) -> Table:
    """One table by its key, for its export; an unknown key, or one the user's level does
    not show, is a 404 like any address that does not exist."""
    spec = BY_KEY.get(key)
    if spec is None or context.scope.level not in spec.levels:
        raise Http404(_("No such table."))
    require_page(context.scope, spec.page)
    return spec.build(context)
