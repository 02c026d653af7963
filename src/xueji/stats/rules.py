"""Shaping counts into the tables and charts of the statistics pages (B5), and the pure
rules of the dropout watch. Nothing here reads the database: queries.py counts, and the
functions here turn plain numbers into a `Table` the page, the API and the xlsx export
all show the same way.

A table is the source of truth; its chart is drawn from the same numbers and is an aid
only (the page must read without JavaScript).
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from xueji.changes.models import Kind
from xueji.intake.models import EntryState
from xueji.students import codes

Value = str | int

# The count columns of the student tables, in the order the tables show them. "At school"
# is a record in status 在校 (enrolled); suspended, dropped-out and pending records are not.
COUNT_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("total", gettext_lazy("At school")),
    ("male", gettext_lazy("Boys")),
    ("female", gettext_lazy("Girls")),
    ("left_behind", gettext_lazy("Left-behind children")),
    ("migrant_child", gettext_lazy("Children of migrant workers")),
    ("disability", gettext_lazy("With a disability")),
    ("orphan", gettext_lazy("Orphans")),
)
# The special categories of B5 as the national form records them (DOMAIN.md).
SPECIAL_ROWS: tuple[tuple[str, Any], ...] = (
    ("left_behind", gettext_lazy("Left-behind children")),
    ("left_behind_one", gettext_lazy("… one parent away")),
    ("left_behind_both", gettext_lazy("… both parents away")),
    ("migrant_child", gettext_lazy("Children of migrant workers")),
    ("disability", gettext_lazy("With a disability")),
    ("orphan", gettext_lazy("Orphans")),
)
# The kinds a semester's change statistics count, in the order of the change form.
CHANGE_KINDS: tuple[str, ...] = tuple(Kind.values)
INTAKE_STATES: tuple[str, ...] = tuple(EntryState.values)


@dataclass
class Table:
    """One table of a statistics page: what the page shows, the API answers and the
    export writes. `links` maps a row's column index to an address; `refs` carries the
    ids behind a row (student, request ...) for API clients."""

    key: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Value]]
    numeric: frozenset[int] = frozenset()
    total: Sequence[Value] | None = None
    note: str = ""
    links: Sequence[Mapping[int, str]] = field(default_factory=list)
    refs: Sequence[Mapping[str, int | None]] = field(default_factory=list)
    chart: dict | None = None
    # A list of people or units (the dropout watch, the overview): its length is news.
    listing: bool = False
    empty: str = ""

    @property
    def chart_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def count(self) -> int:
        return len(self.rows)

    def cells(self) -> list[list[dict[str, Any]]]:
        """The rows as the template walks them: value, link and alignment per cell."""
        shown = []
        for index, row in enumerate(self.rows):
            links = self.links[index] if index < len(self.links) else {}
            shown.append(
                [
                    {"value": value, "url": links.get(column, ""), "num": column in self.numeric}
                    for column, value in enumerate(row)
                ]
            )
        return shown

    def total_cells(self) -> list[dict[str, Any]]:
        return [
            {"value": value, "num": column in self.numeric}
            for column, value in enumerate(self.total or [])
        ]

    def text_rows(self) -> list[list[str]]:
        """Every row as text, the total last (none under no rows): what the xlsx export
        writes."""
        rows = [[_text(value) for value in row] for row in self.rows]
        if self.total is not None and self.rows:
            rows.append([_text(value) for value in self.total])
        return rows


def _text(value: Value | None) -> str:
    return "" if value is None else str(value)


def share(part: int, whole: int) -> str:
    """A percentage with one decimal, or a dash when there is nothing to divide by."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.1f}%"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    stacked: bool = False,
    horizontal: bool = False,
) -> dict:
    """The chart spec stats.js draws (Chart.js): labels, one dataset per series."""
    return {
        "type": "bar",
        "labels": [str(label) for label in labels],
        "datasets": [{"label": str(name), "data": list(data)} for name, data in series],
        "stacked": stacked,
        "horizontal": horizontal,
    }


def doughnut_chart(labels: Sequence[str], data: Sequence[int]) -> dict:
    return {
        "type": "doughnut",
        "labels": [str(label) for label in labels],
        "datasets": [{"label": "", "data": list(data)}],
        "stacked": False,
        "horizontal": False,
    }


# --- Students at school --------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A school or township as a row of a table."""

    pk: int
    name: str
    township: str = ""


def _count_row(counts: Mapping[str, int] | None) -> list[int]:
    counts = counts or {}
    return [int(counts.get(key, 0) or 0) for key, _label in COUNT_COLUMNS]


def _sum_rows(rows: Iterable[Sequence[int]], width: int) -> list[int]:
    total = [0] * width
    for row in rows:
        for index in range(width):
            total[index] += row[index]
    return total


def places_table(
    key: str,
    title: str,
    places: Sequence[Place],
    counts: Mapping[int, Mapping[str, int]],
    *,
    with_township: bool,
    first_header: str,
) -> Table:
    """Students at school per school (or per township), with the special categories; a
    place with nobody at school still gets its row of zeros."""
    headers = [first_header] + ([_("Township")] if with_township else [])
    headers += [str(label) for _key, label in COUNT_COLUMNS]
    offset = 2 if with_township else 1
    rows: list[list[Value]] = []
    numbers = []
    for place in places:
        number_row = _count_row(counts.get(place.pk))
        numbers.append(number_row)
        row: list[Value] = [place.name]
        if with_township:
            row.append(place.township)
        rows.append(row + list(number_row))
    width = len(COUNT_COLUMNS)
    total: list[Value] = [_("Total")]
    if with_township:
        total.append("")
    total.extend(_sum_rows(numbers, width))
    chart = bar_chart(
        [place.name for place in places],
        [
            (str(COUNT_COLUMNS[1][1]), [row[1] for row in numbers]),
            (str(COUNT_COLUMNS[2][1]), [row[2] for row in numbers]),
        ],
        stacked=True,
        horizontal=True,
    )
    return Table(
        key=key,
        title=title,
        headers=headers,
        rows=rows,
        numeric=frozenset(range(offset, offset + width)),
        total=total,
        refs=[{"unit_id": place.pk} for place in places],
        chart=chart if places else None,
    )


def grade_table(counts: Mapping[int | None, Mapping[str, int]]) -> Table:
    """Students at school by grade (1-9) in the current school year; a record without a
    placement this year is counted as "grade not recorded", never dropped."""
    grades = sorted(grade for grade in counts if grade is not None)
    labels = [_("Grade %(grade)d") % {"grade": grade} for grade in grades]
    numbers = [_count_row(counts[grade]) for grade in grades]
    if None in counts:
        labels.append(_("Grade not recorded"))
        numbers.append(_count_row(counts[None]))
    rows: list[list[Value]] = [[label, *row] for label, row in zip(labels, numbers, strict=True)]
    width = len(COUNT_COLUMNS)
    return Table(
        key="grades",
        title=_("Students at school by grade"),
        headers=[_("Grade")] + [str(label) for _key, label in COUNT_COLUMNS],
        rows=rows,
        numeric=frozenset(range(1, 1 + width)),
        total=[_("Total"), *_sum_rows(numbers, width)],
        chart=bar_chart(
            labels,
            [
                (str(COUNT_COLUMNS[1][1]), [row[1] for row in numbers]),
                (str(COUNT_COLUMNS[2][1]), [row[2] for row in numbers]),
            ],
            stacked=True,
        )
        if rows
        else None,
    )


def coded_table(
    key: str, title: str, code_table: str, counts: Mapping[str, Mapping[str, int]]
) -> Table:
    """Students at school by a coded item of the person (sex, ethnicity GB 3304, 户口性质),
    named as the national code table names them, in the table's own order; a code the
    table does not know (old data) keeps its own row rather than vanishing."""
    known = codes.names(code_table)
    order = [code for code in known if code in counts]
    order += sorted(code for code in counts if code not in known)
    all_total = sum(int(counts[code].get("total", 0) or 0) for code in order)
    rows: list[list[Value]] = []
    totals = []
    for code in order:
        number = int(counts[code].get("total", 0) or 0)
        totals.append(number)
        name = known.get(code) or (code or _("Not recorded"))
        rows.append(
            [
                code,
                name,
                number,
                int(counts[code].get("male", 0) or 0),
                int(counts[code].get("female", 0) or 0),
                share(number, all_total),
            ]
        )
    names = [str(row[1]) for row in rows]
    chart = (
        doughnut_chart(names, totals)
        if len(rows) <= 6
        else bar_chart(names, [(_("At school"), totals)], horizontal=True)
    )
    return Table(
        key=key,
        title=title,
        headers=[
            pgettext("code table", "Code"),
            _("Name"),
            _("At school"),
            _("Boys"),
            _("Girls"),
            _("Share"),
        ],
        rows=rows,
        numeric=frozenset({2, 3, 4, 5}),
        total=[
            "",
            _("Total"),
            all_total,
            sum(int(row[3]) for row in rows),
            sum(int(row[4]) for row in rows),
            share(all_total, all_total),
        ],
        chart=chart if rows else None,
    )


def special_table(counts: Mapping[str, int]) -> Table:
    """The special categories (B5): how many, boys and girls, and the share of all
    students at school."""
    all_total = int(counts.get("total", 0) or 0)
    rows: list[list[Value]] = []
    for key, label in SPECIAL_ROWS:
        number = int(counts.get(key, 0) or 0)
        rows.append(
            [
                str(label),
                number,
                int(counts.get(f"{key}_male", 0) or 0),
                int(counts.get(f"{key}_female", 0) or 0),
                share(number, all_total),
            ]
        )
    main = [
        row for (key, _label), row in zip(SPECIAL_ROWS, rows, strict=True) if key in MAIN_SPECIAL
    ]
    return Table(
        key="special",
        title=_("Special categories"),
        headers=[
            _("Category"),
            pgettext("count", "Students"),
            _("Boys"),
            _("Girls"),
            _("Share of all at school"),
        ],
        rows=rows,
        numeric=frozenset({1, 2, 3, 4}),
        total=[_("All students at school"), all_total, "", "", share(all_total, all_total)],
        note=_("A student may belong to several categories; the rows do not add up to the total."),
        chart=bar_chart(
            [str(row[0]) for row in main],
            [
                (_("Boys"), [int(row[2]) for row in main]),
                (_("Girls"), [int(row[3]) for row in main]),
            ],
            stacked=True,
        ),
    )


# The categories the chart shows: the split of left-behind children is in the table only.
MAIN_SPECIAL = ("left_behind", "migrant_child", "disability", "orphan")


# --- Changes per semester ------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A semester as a span of days: from its start up to the next semester's start
    (exclusive); the latest one runs on (`end` None)."""

    pk: int
    label: str
    start: datetime.date
    end: datetime.date | None = None

    def holds(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


def periods(semesters: Sequence[tuple[int, str, datetime.date]]) -> list[Period]:
    """Semesters (id, label, start date) in any order, as consecutive spans."""
    ordered = sorted(semesters, key=lambda semester: semester[2])
    found = []
    for index, (pk, label, start) in enumerate(ordered):
        end = ordered[index + 1][2] if index + 1 < len(ordered) else None
        found.append(Period(pk, label, start, end))
    return found


def period_of(day: datetime.date, spans: Sequence[Period]) -> Period | None:
    """The semester a day falls in, or None for a day before the first semester."""
    for span in spans:
        if span.holds(day):
            return span
    return None


def kind_label(kind: str) -> str:
    try:
        return str(Kind(kind).label)
    except ValueError:
        return kind


def changes_by_semester_table(
    spans: Sequence[Period], dated: Iterable[tuple[datetime.date, str, int]]
) -> Table:
    """Approved and recorded changes per semester and kind, each counted in the semester
    its effective date falls in. Changes dated before the first configured semester get a
    row of their own, so no change goes uncounted."""
    earlier = _("Before %(semester)s") % {"semester": spans[0].label} if spans else _("Earlier")
    counts: dict[str, dict[str, int]] = {}
    for day, kind, number in dated:
        span = period_of(day, spans)
        label = span.label if span is not None else earlier
        bucket = counts.setdefault(label, {})
        bucket[kind] = bucket.get(kind, 0) + number
    labels = ([earlier] if earlier in counts else []) + [span.label for span in spans]
    kinds = list(CHANGE_KINDS)
    rows: list[list[Value]] = []
    for label in labels:
        numbers = [counts.get(label, {}).get(kind, 0) for kind in kinds]
        rows.append([label, *numbers, sum(numbers)])
    width = len(kinds) + 1
    total = _sum_rows([[int(value) for value in row[1:]] for row in rows], width)
    used = [index for index, kind in enumerate(kinds) if total[index]]
    return Table(
        key="changes-by-semester",
        title=_("Changes per semester by kind"),
        headers=[_("Semester")] + [kind_label(kind) for kind in kinds] + [_("All changes")],
        rows=rows,
        numeric=frozenset(range(1, 1 + width)),
        total=[_("Total"), *total],
        note=_(
            "Approved and recorded change requests, counted in the semester their effective "
            "date falls in."
        ),
        chart=bar_chart(
            labels,
            [(kind_label(kinds[index]), [int(row[1 + index]) for row in rows]) for index in used],
            stacked=True,
        )
        if rows
        else None,
    )


def changes_by_school_table(
    period: Period | None,
    places: Sequence[Place],
    sent: Mapping[tuple[int, str], int],
    received: Mapping[int, int],
) -> Table:
    """One semester's approved and recorded changes per school and kind: each counted at
    the school that asked for it, and a transfer within the county also at the school
    that received the student."""
    kinds = list(CHANGE_KINDS)
    rows: list[list[Value]] = []
    numbers = []
    for place in places:
        row_numbers = [sent.get((place.pk, kind), 0) for kind in kinds]
        row_numbers.append(received.get(place.pk, 0))
        numbers.append(row_numbers)
        rows.append([place.name, place.township, *row_numbers])
    width = len(kinds) + 1
    title = _("Changes per school")
    if period is not None:
        title = _("Changes per school, %(semester)s") % {"semester": period.label}
    return Table(
        key="changes-by-school",
        title=title,
        headers=[_("School"), _("Township")]
        + [kind_label(kind) for kind in kinds]
        + [_("Transfers received")],
        rows=rows,
        numeric=frozenset(range(2, 2 + width)),
        total=[_("Total"), "", *_sum_rows(numbers, width)],
        refs=[{"unit_id": place.pk} for place in places],
    )


# --- Intake progress -----------------------------------------------------------------------


def state_label(state: str) -> str:
    try:
        return str(EntryState(state).label)
    except ValueError:
        return state


def intake_table(
    year_label: str, places: Sequence[Place], counts: Mapping[tuple[int, str], int]
) -> Table:
    """Each school's new pupils of the school year by intake state. Pupils not admitted
    are shown but left out of the school's total and of the accepted share."""
    states = list(INTAKE_STATES)
    counted = [state for state in states if state != EntryState.WITHDRAWN]
    rows: list[list[Value]] = []
    numbers = []
    for place in places:
        per_state = [counts.get((place.pk, state), 0) for state in states]
        total = sum(counts.get((place.pk, state), 0) for state in counted)
        accepted = counts.get((place.pk, EntryState.ACCEPTED), 0)
        numbers.append([*per_state, total])
        rows.append([place.name, place.township, *per_state, total, share(accepted, total)])
    width = len(states) + 1
    sums = _sum_rows(numbers, width)
    accepted_all = sums[states.index(EntryState.ACCEPTED)]
    # The chart draws the pupils the total counts: those not admitted stay in the table.
    chart_states = [state for index, state in enumerate(states) if sums[index] and state in counted]
    return Table(
        key="intake",
        title=_("Intake progress per school, %(year)s") % {"year": year_label},
        headers=[_("School"), _("Township")]
        + [state_label(state) for state in states]
        + [_("New pupils"), _("Accepted")],
        rows=rows,
        numeric=frozenset(range(2, 3 + width)),
        total=[_("Total"), "", *sums, share(accepted_all, sums[-1])],
        note=_(
            "New pupils of the school year by the step their registration has reached; "
            "pupils not admitted are not counted in the total."
        ),
        refs=[{"unit_id": place.pk} for place in places],
        chart=bar_chart(
            [place.name for place in places],
            [
                (state_label(state), [row[states.index(state)] for row in numbers])
                for state in chart_states
            ],
            stacked=True,
            horizontal=True,
        )
        if places and chart_states
        else None,
    )


# --- The dropout watch ---------------------------------------------------------------------


def days_past(day: datetime.date, today: datetime.date) -> int:
    """Calendar days since `day`; 0 when it has not passed."""
    return max(0, (today - day).days)


def suspension_overdue(until: datetime.date | None, today: datetime.date) -> bool:
    """A suspension has run out when its last day lies before today (DOMAIN.md: one year,
    renewable with a new medical certificate)."""
    return until is not None and until < today


def junior_entry_overdue(
    autumn_start: datetime.date | None, junior_numbers_days: int, today: datetime.date
) -> bool:
    """Last summer's primary graduates should hold a junior record once the junior
    schools' number collection (N7) is over: the autumn start plus its days."""
    if autumn_start is None:
        return False
    return today > autumn_start + datetime.timedelta(days=junior_numbers_days)
