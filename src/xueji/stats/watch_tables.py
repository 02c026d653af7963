"""The listing tables: the dropout watch (B5) and the units overview (S1, E1, C8, C9).
Each row names a student or a unit and links to it, and to the request concerned."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.changes.models import Kind, State
from xueji.core import rules as calendar_rules
from xueji.orgs.models import Unit
from xueji.stats import queries, rules
from xueji.stats.context import Context, request_link, student_link, unit_link
from xueji.stats.rules import Table

# --- The dropout watch ---------------------------------------------------------------------------


def _number(record) -> str:
    return record.provincial_number or record.student.national_number or ""


def _township(unit: Unit) -> str:
    return unit.parent.name if unit.parent_id and unit.parent else ""


def absent(context: Context) -> Table:
    rows, links, refs = [], [], []
    flag: Any
    for flag in queries.absent_at_roster_check(context.scope):
        record, check = flag.record, flag.roster_check
        term = _("Spring semester") if check.term == "spring" else _("Autumn semester")
        rows.append(
            [
                record.student.name,
                _number(record),
                record.school.name,
                _township(record.school),
                f"{check.school_year.label} {term}",
                flag.note,
                _("Request under way") if flag.pending_request else "",
            ]
        )
        links.append({0: student_link(record.student_id), 6: request_link(flag.pending_request)})
        refs.append(
            {
                "student_id": record.student_id,
                "record_id": record.pk,
                "request_id": flag.pending_request,
            }
        )
    return Table(
        key="absent",
        listing=True,
        empty=_("No pupil was found missing at the latest roster checks."),
        title=_("Not present at the roster check, still on the roll"),
        headers=[
            _("Student"),
            _("Number"),
            _("School"),
            _("Township"),
            _("Roster check"),
            _("Note"),
            _("Change request"),
        ],
        rows=rows,
        links=links,
        refs=refs,
        note=_(
            "The school's latest roster check found these pupils not present, yet their "
            "records still say at school and no change was approved: find out where they are "
            "and start the change that fits (transfer, suspension, dropout ...)."
        ),
    )


def closed(context: Context) -> Table:
    rows, links, refs = [], [], []
    record: Any
    for record in queries.closed_without_change(context.scope):
        rows.append(
            [
                record.student.name,
                _number(record),
                record.school.name,
                _township(record.school),
                record.get_status_display(),
                record.exit_date.isoformat() if record.exit_date else "",
                _("Request under way") if record.pending_request else "",
            ]
        )
        links.append({0: student_link(record.student_id), 6: request_link(record.pending_request)})
        refs.append(
            {
                "student_id": record.student_id,
                "record_id": record.pk,
                "request_id": record.pending_request,
            }
        )
    return Table(
        key="closed-without-change",
        listing=True,
        empty=_("Every record that left school has its approved change."),
        title=_("Records that left school without an approved change"),
        headers=[
            _("Student"),
            _("Number"),
            _("School"),
            _("Township"),
            _("Status"),
            _("Exit date"),
            _("Change request"),
        ],
        rows=rows,
        links=links,
        refs=refs,
        note=_(
            "Records whose status says the student is not at school (suspended, dropped out, "
            "transferred out, abroad, deceased, missing, left) with no approved change request "
            "behind it. The year's end, a pupil not admitted at intake and a double "
            "registration the bureau withdrew are decisions of their own and are not listed."
        ),
    )


def suspensions(context: Context) -> Table:
    rows, links, refs = [], [], []
    record: Any
    for record in queries.overdue_suspensions(context.scope, context.today):
        resumption = ""
        if record.resumption_id:
            resumption = _("Resumption: %(state)s") % {
                "state": _state_label(record.resumption_state)
            }
        rows.append(
            [
                record.student.name,
                _number(record),
                record.school.name,
                _township(record.school),
                record.suspended_from.isoformat() if record.suspended_from else "",
                record.suspended_until.isoformat(),
                rules.days_past(record.suspended_until, context.today),
                resumption,
            ]
        )
        links.append(
            {
                0: student_link(record.student_id),
                5: request_link(record.suspension_id),
                7: request_link(record.resumption_id),
            }
        )
        refs.append(
            {
                "student_id": record.student_id,
                "record_id": record.pk,
                "request_id": record.suspension_id,
                "resumption_id": record.resumption_id,
            }
        )
    return Table(
        key="overdue-suspensions",
        listing=True,
        empty=_("No suspension has run past its end."),
        title=_("Suspensions past their end with no resumption"),
        headers=[
            _("Student"),
            _("Number"),
            _("School"),
            _("Township"),
            _("Suspended from"),
            _("Suspended until"),
            _("Days past the end"),
            _("Resumption"),
        ],
        rows=rows,
        numeric=frozenset({6}),
        links=links,
        refs=refs,
        note=_(
            "A suspension lasts one year. After it the student resumes, or the school renews "
            "the suspension with a new medical certificate, or reports what happened."
        ),
    )


def _state_label(state: str | None) -> str:
    try:
        return str(State(state or "").label)
    except ValueError:
        return state or ""


def transfers(context: Context) -> Table:
    limit = queries.step_limit(context.scope)
    rows: list[list[rules.Value]] = []
    links, refs = [], []
    for change in queries.unrecorded_transfers(context.scope):
        approved = timezone.localdate(change.decided_at) if change.decided_at else None
        waited = (
            calendar_rules.working_days_between(approved, context.today, limit.special)
            if approved
            else 0
        )
        if change.kind == Kind.TRANSFER:
            owes = change.to_school.name if change.to_school else ""
            to_name = owes
        else:
            owes = change.from_school.name
            to_name = change.to_school.name if change.to_school else change.outside_school
        rows.append(
            [
                change.student.name,
                change.get_kind_display(),
                change.from_school.name,
                to_name,
                approved.isoformat() if approved else "",
                waited,
                _("Overdue") if waited > limit.limit else "",
                owes,
            ]
        )
        links.append({0: student_link(change.student_id), 1: request_link(change.pk)})
        refs.append(
            {
                "student_id": change.student_id,
                "record_id": change.record_id,
                "request_id": change.pk,
            }
        )
    return Table(
        key="unrecorded-transfers",
        listing=True,
        empty=_("Every approved transfer has been recorded."),
        title=_("Transfers approved but never recorded"),
        headers=[
            _("Student"),
            _("Kind"),
            _("From"),
            _("To"),
            _("Approved on"),
            _("Working days since"),
            _("Overdue"),
            _("Owed by"),
        ],
        rows=rows,
        numeric=frozenset({5}),
        links=links,
        refs=refs,
        note=_(
            "The bureau approved these transfers, but they were never recorded. Within the "
            "county the receiving school has not confirmed the student's arrival, and until it "
            "does the student counts at no school; a transfer out of or into the county waits "
            "for its own school to record it."
        ),
    )


def graduates(context: Context) -> Table:
    year = context.year
    autumn = None
    if year is not None:
        autumn = next((s.start_date for s in year.semesters.all() if s.term == "autumn"), None)
    due = rules.junior_entry_overdue(autumn, year.junior_numbers_days if year else 0, context.today)
    records = queries.graduates_without_junior(context.scope, year) if due else []
    rows, links, refs = [], [], []
    for record in records:
        rows.append(
            [
                record.student.name,
                _number(record),
                record.school.name,
                _township(record.school),
                record.exit_date.isoformat() if record.exit_date else "",
            ]
        )
        links.append({0: student_link(record.student_id)})
        refs.append({"student_id": record.student_id, "record_id": record.pk})
    note = _(
        "Pupils who finished primary school last summer, hold no junior record and were not "
        "collected by any junior school (N7). Compulsory education runs to grade 9."
    )
    if not due:
        note += " " + _("The list fills once this year's junior number collection is over.")
    return Table(
        key="graduates-without-junior",
        listing=True,
        empty=_("Every primary graduate of last summer is accounted for."),
        title=_("Primary graduates not found at a junior school"),
        headers=[_("Student"), _("Number"), _("Primary school"), _("Township"), _("Graduated on")],
        rows=rows,
        links=links,
        refs=refs,
        note=note,
    )


# --- The units overview ----------------------------------------------------------------------


def _kind_of(unit: Unit) -> str:
    """A school by its stage (primary, junior, nine-year), any other unit by its kind."""
    return unit.get_stage_display() if unit.is_school else unit.get_kind_display()


def _unit_rows(key: str, title: str, units, note: str, first: str, empty: str) -> Table:
    units = list(units.order_by("kind", "parent__ordinal", "ordinal", "name", "pk"))
    return Table(
        key=key,
        title=title,
        listing=True,
        empty=empty,
        headers=[first, _("Township"), _("Kind")],
        rows=[[unit.name, _township(unit) or "—", _kind_of(unit)] for unit in units],
        links=[{0: unit_link(unit.pk)} for unit in units],
        refs=[{"unit_id": unit.pk} for unit in units],
        note=note,
    )


def without_registrar(context: Context) -> Table:
    return _unit_rows(
        "without-registrar",
        _("Units without a designated registrar"),
        queries.units_without_registrar(context.scope),
        _("S1: each unit names one designated registrar among its registrars (Users page)."),
        _("Unit"),
        _("Every unit has its designated registrar."),
    )


def without_printer(context: Context) -> Table:
    return _unit_rows(
        "without-printer",
        _("Schools without a printer"),
        queries.schools_without_printer(context.scope),
        _("E1: their central school prints their change reports (C3)."),
        _("School"),
        _("Every school has a printer."),
    )


def without_plan(context: Context) -> Table:
    return _unit_rows(
        "without-plan",
        _("Units without a filed change-management plan"),
        queries.units_without_plan(context.scope),
        _("C9: each unit files its change-management plan with the bureau."),
        _("Unit"),
        _("Every unit has filed its plan."),
    )


def late(context: Context) -> Table:
    from xueji.packages import rounds

    found = context.change_round
    schools = queries.late_schools(context.scope, found, context.today) if found else []
    title = _("Schools late in the reporting round")
    if found is not None:
        title = _("Schools late in %(round)s (due %(date)s)") % {
            "round": rounds.round_title(found),
            "date": found.due_date.isoformat(),
        }
    days = rules.days_past(found.due_date, context.today) if found else 0
    return Table(
        key="late-in-round",
        listing=True,
        empty=_("No school is late."),
        title=title,
        headers=[_("School"), _("Township"), _("Days overdue")],
        rows=[[school.name, _township(school), days] for school in schools],
        numeric=frozenset({2}),
        links=[{0: unit_link(school.pk)} for school in schools],
        refs=[
            {"unit_id": school.pk, "round_id": found.pk if found else None} for school in schools
        ],
        note=_("C8: schools with no change package in the round after its due date.")
        if found is not None
        else _("C8: no reporting round has passed its due date yet."),
    )
