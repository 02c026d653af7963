"""The counting tables (B5): students at school, changes per semester, intake progress.
Each builder reads its numbers (queries.py) for the context's scope and shapes them
(rules.py)."""

from collections.abc import Callable

from django.utils.translation import gettext as _

from xueji.stats import queries, rules
from xueji.stats.context import Context, linked_places
from xueji.stats.rules import Place, Table

# --- Students at school ----------------------------------------------------------------------


def schools(context: Context) -> Table:
    counts = queries.counts_by_school(context.scope)
    return linked_places(
        rules.places_table(
            "schools",
            _("Students at school by school"),
            context.school_places,
            counts,
            with_township=True,
            first_header=_("School"),
        )
    )


def townships(context: Context) -> Table:
    counts = queries.counts_by_township(context.scope)
    places = [
        Place(township.pk, township.name) for township in queries.townships_of(context.schools)
    ]
    return linked_places(
        rules.places_table(
            "townships",
            _("Students at school by township"),
            places,
            counts,
            with_township=False,
            first_header=_("Township"),
        )
    )


def grades(context: Context) -> Table:
    return rules.grade_table(queries.counts_by_grade(context.scope, context.year))


def coded(
    key: str, item: str, code_table: str, title: Callable[[], str]
) -> Callable[[Context], Table]:
    """A table by a coded item of the person; the title is translated when built."""

    def build(context: Context) -> Table:
        counts = queries.counts_by_student_item(context.scope, item)
        return rules.coded_table(key, title(), code_table, counts)

    return build


def sexes_title() -> str:
    return _("Students at school by sex")


def ethnic_title() -> str:
    return _("Students at school by ethnicity (GB 3304)")


def hukou_title() -> str:
    return _("Students at school by household registration type")


def special(context: Context) -> Table:
    return rules.special_table(queries.special_counts(context.scope))


# --- Changes and intake ------------------------------------------------------------------------


def changes_by_semester(context: Context) -> Table:
    return rules.changes_by_semester_table(
        context.spans, queries.changes_by_date_and_kind(context.scope)
    )


def changes_by_school(context: Context) -> Table:
    period = context.period
    sent, received = queries.changes_by_school(
        context.scope,
        period.start if period else None,
        period.end if period else None,
    )
    return linked_places(
        rules.changes_by_school_table(period, context.school_places, sent, received)
    )


def intake(context: Context) -> Table:
    year = context.year
    counts = queries.intake_counts(context.scope, year)
    return linked_places(
        rules.intake_table(year.label if year else "—", context.school_places, counts)
    )
