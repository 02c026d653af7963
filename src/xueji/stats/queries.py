"""The counting behind the statistics (B5), the dropout watch and the units overview.

Every function starts from the caller's scope and answers plain numbers keyed by ids and
codes (aggregate queries: one query per table, whatever the county's size), or, for the
watch lists, the rows themselves. rules.py shapes them into tables.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery

from xueji.changes.models import PENDING_STATES, ChangePlan, ChangeRequest, Kind, State
from xueji.changes.rules import TRANSFER_KINDS
from xueji.core import calendar
from xueji.core.models import SchoolYear, Semester
from xueji.core.scope import Scope
from xueji.intake.models import (
    EntryState,
    IntakeEntry,
    JuniorCandidate,
    RosterCheck,
    RosterFlag,
    RosterFlagKind,
)
from xueji.orgs.models import Unit, User
from xueji.students.models import (
    DuplicateCandidate,
    Placement,
    RecordStage,
    Status,
    StudentRecord,
)
from xueji.students.queries import SPECIAL

# A change has happened once the bureau approved it; recording it is the school's last step.
DONE_STATES = (State.APPROVED, State.RECORDED)


# --- Places ----------------------------------------------------------------------------------


def schools(scope: Scope) -> QuerySet[Unit]:
    """The schools a table lists, township by township: the open schools of the scope and
    any closed one that still has a record (its students must not vanish from a count)."""
    with_records = StudentRecord.objects.filter(school=OuterRef("pk"))
    return (
        scope.schools()
        .filter(Q(is_active=True) | Exists(with_records))
        .select_related("parent")
        .order_by("parent__ordinal", "parent__name", "ordinal", "name", "pk")
    )


def townships_of(school_list) -> list[Unit]:
    """The townships the given schools lie in, in the county's order."""
    ids = {school.parent_id for school in school_list}
    return list(Unit.objects.filter(pk__in=ids).order_by("ordinal", "name", "pk"))


# --- Students at school ----------------------------------------------------------------------


def at_school(scope: Scope) -> QuerySet[StudentRecord]:
    """The records in status 在校 at the schools of the scope."""
    return StudentRecord.objects.filter(school__in=scope.schools(), status=Status.ENROLLED)


def _counts() -> dict:
    male, female = Q(student__sex="1"), Q(student__sex="2")
    return {
        "total": Count("pk"),
        "male": Count("pk", filter=male),
        "female": Count("pk", filter=female),
        "left_behind": Count("pk", filter=SPECIAL["left_behind"]),
        "migrant_child": Count("pk", filter=SPECIAL["migrant_child"]),
        "disability": Count("pk", filter=SPECIAL["disability"]),
        "orphan": Count("pk", filter=SPECIAL["orphan"]),
    }


def _grouped(records: QuerySet, field: str) -> dict:
    return {row[field]: row for row in records.values(field).annotate(**_counts()).order_by()}


def counts_by_school(scope: Scope) -> dict[int, dict]:
    return _grouped(at_school(scope), "school_id")


def counts_by_township(scope: Scope) -> dict[int, dict]:
    return _grouped(at_school(scope), "school__parent_id")


def counts_by_grade(scope: Scope, year: SchoolYear | None) -> dict[int | None, dict]:
    """By the grade of the record's placement in the current school year (the grade the
    student list filters by); None for a record without one."""
    grade = (
        Placement.objects.filter(record=OuterRef("pk"), school_year=year)
        .order_by()
        .values("grade")[:1]
    )
    return _grouped(at_school(scope).annotate(current_grade=Subquery(grade)), "current_grade")


def counts_by_student_item(scope: Scope, item: str) -> dict[str, dict]:
    """By a coded item of the person: `sex`, `ethnicity`, `hukou_type` ..."""
    return _grouped(at_school(scope), f"student__{item}")


def special_counts(scope: Scope) -> dict[str, int]:
    """The special categories with their boys and girls, in one query."""
    categories = {
        "left_behind": SPECIAL["left_behind"],
        "left_behind_one": Q(student__left_behind="1"),
        "left_behind_both": Q(student__left_behind="2"),
        "migrant_child": SPECIAL["migrant_child"],
        "disability": SPECIAL["disability"],
        "orphan": SPECIAL["orphan"],
    }
    aggregates = {"total": Count("pk")}
    for key, condition in categories.items():
        aggregates[key] = Count("pk", filter=condition)
        aggregates[f"{key}_male"] = Count("pk", filter=condition & Q(student__sex="1"))
        aggregates[f"{key}_female"] = Count("pk", filter=condition & Q(student__sex="2"))
    return at_school(scope).aggregate(**aggregates)


# --- Changes ---------------------------------------------------------------------------------


def semesters(scope: Scope, today: datetime.date) -> list[tuple[int, str, datetime.date]]:
    """The county's semesters that have started: (id, label, start date)."""
    county = scope.county()
    if county is None:
        return []
    found = (
        Semester.objects.filter(school_year__county=county, start_date__lte=today)
        .select_related("school_year")
        .order_by("start_date")
    )
    return [
        (
            semester.pk,
            f"{semester.school_year.label} {semester.get_term_display()}",
            semester.start_date,
        )
        for semester in found
    ]


def done_changes(scope: Scope) -> QuerySet[ChangeRequest]:
    """Approved and recorded requests sent from or to a school of the scope."""
    return scope.requests().filter(state__in=DONE_STATES)


def changes_by_date_and_kind(scope: Scope) -> list[tuple[datetime.date, str, int]]:
    rows = done_changes(scope).values("effective_date", "kind").annotate(n=Count("pk")).order_by()
    return [(row["effective_date"], row["kind"], row["n"]) for row in rows]


def changes_by_school(
    scope: Scope, start: datetime.date | None, end: datetime.date | None
) -> tuple[dict[tuple[int, str], int], dict[int, int]]:
    """A span's changes counted at the school that asked for each, and the transfers
    within the county counted at the school that received the student."""
    done = done_changes(scope)
    if start is not None:
        done = done.filter(effective_date__gte=start)
    if end is not None:
        done = done.filter(effective_date__lt=end)
    own = scope.schools()
    sent = {
        (row["from_school_id"], row["kind"]): row["n"]
        for row in done.filter(from_school__in=own)
        .values("from_school_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    }
    received = {
        row["to_school_id"]: row["n"]
        for row in done.filter(kind=Kind.TRANSFER, to_school__in=own)
        .values("to_school_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    return sent, received


# --- Intake ----------------------------------------------------------------------------------


def intake_counts(scope: Scope, year: SchoolYear | None) -> dict[tuple[int, str], int]:
    if year is None:
        return {}
    rows = (
        IntakeEntry.objects.filter(school__in=scope.schools(), school_year=year)
        .values("school_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(row["school_id"], row["state"]): row["n"] for row in rows}


# --- The dropout watch -----------------------------------------------------------------------


def _approved_change_on_record() -> Exists:
    return Exists(ChangeRequest.objects.filter(record=OuterRef("pk"), state__in=DONE_STATES))


def _pending_request_on_record():
    return Subquery(
        ChangeRequest.objects.filter(record=OuterRef("pk"), state__in=PENDING_STATES).values("pk")[
            :1
        ]
    )


def absent_at_roster_check(scope: Scope) -> QuerySet[RosterFlag]:
    """Pupils the school's latest roster check found not present (N10) whose record still
    says "at school" and carries no approved change: on paper at school, in fact gone."""
    latest = (
        RosterCheck.objects.filter(school=OuterRef("roster_check__school"))
        .order_by("-school_year__start_year", "-term", "-pk")
        .values("pk")[:1]
    )
    return (
        RosterFlag.objects.filter(
            kind=RosterFlagKind.NOT_PRESENT,
            record__in=scope.records().filter(status=Status.ENROLLED),
        )
        .annotate(latest_check=Subquery(latest))
        .filter(roster_check_id=F("latest_check"))
        .filter(
            ~Exists(
                ChangeRequest.objects.filter(record=OuterRef("record_id"), state__in=DONE_STATES)
            )
        )
        .annotate(
            pending_request=Subquery(
                ChangeRequest.objects.filter(
                    record=OuterRef("record_id"), state__in=PENDING_STATES
                ).values("pk")[:1]
            )
        )
        .select_related("record__student", "record__school__parent", "roster_check__school_year")
        .order_by("record__school__school_code", "record__student__pinyin_key", "pk")
    )


# Statuses a record leaves school by (everything but pending, at school and graduated).
LEFT_STATUSES = (
    Status.SUSPENDED,
    Status.DROPPED_OUT,
    Status.TRANSFERRED_OUT,
    Status.ABROAD,
    Status.DECEASED,
    Status.MISSING,
    Status.LEFT_OTHER,
)


def closed_without_change(scope: Scope) -> QuerySet[StudentRecord]:
    """Records that say the student left (or is suspended, dropped out ...) with no
    approved change request behind them. The registry's own decisions that close a record
    without a request are not leaving: the year's end (graduated), a pupil not admitted at
    intake, and a double registration the bureau withdrew."""
    not_admitted = IntakeEntry.objects.filter(record=OuterRef("pk"), state=EntryState.WITHDRAWN)
    withdrawn_double = DuplicateCandidate.objects.filter(
        newer=OuterRef("student_id"), state=DuplicateCandidate.State.WITHDRAWN
    )
    return (
        scope.records()
        .filter(status__in=LEFT_STATUSES)
        .filter(~_approved_change_on_record(), ~Exists(not_admitted))
        .filter(~(Q(status=Status.LEFT_OTHER) & Exists(withdrawn_double)))
        .annotate(pending_request=_pending_request_on_record())
        .select_related("student", "school__parent")
        .order_by("school__school_code", "student__pinyin_key", "pk")
    )


def overdue_suspensions(scope: Scope, today: datetime.date) -> QuerySet[StudentRecord]:
    """Suspended records whose latest approved suspension ended before today: no
    resumption has been recorded (it would have put the student back at school)."""
    latest = ChangeRequest.objects.filter(
        record=OuterRef("pk"), kind=Kind.SUSPENSION, state__in=DONE_STATES
    ).order_by("-effective_date", "-pk")
    resumption = ChangeRequest.objects.filter(
        record=OuterRef("pk"), kind=Kind.RESUMPTION, state__in=PENDING_STATES
    )
    return (
        scope.records()
        .filter(status=Status.SUSPENDED)
        .annotate(
            suspension_id=Subquery(latest.values("pk")[:1]),
            suspended_from=Subquery(latest.values("effective_date")[:1]),
            suspended_until=Subquery(latest.values("suspension_until")[:1]),
            resumption_id=Subquery(resumption.values("pk")[:1]),
            resumption_state=Subquery(resumption.values("state")[:1]),
        )
        .filter(suspended_until__lt=today)
        .select_related("student", "school__parent")
        .order_by("suspended_until", "pk")
    )


def unrecorded_transfers(scope: Scope) -> QuerySet[ChangeRequest]:
    """Transfers the bureau approved that were never recorded: for a transfer within the
    county, the receiving school has not confirmed the student arrived (C4)."""
    return (
        scope.requests()
        .filter(kind__in=TRANSFER_KINDS, state=State.APPROVED)
        .select_related("from_school__parent", "to_school", "student", "record")
        .order_by("decided_at", "pk")
    )


@dataclass(frozen=True)
class StepLimit:
    """What the age of a waiting step is measured by (P4): the county's special days and
    the working days a step may wait."""

    special: dict
    limit: int


def step_limit(scope: Scope) -> StepLimit:
    county = scope.county()
    if county is None:
        return StepLimit({}, 10)
    year = calendar.current_school_year(county)
    return StepLimit(calendar.special_days(county), year.step_limit_working_days if year else 10)


def graduates_without_junior(scope: Scope, year: SchoolYear | None) -> QuerySet[StudentRecord]:
    """Last summer's primary graduates who hold no junior record and whom no junior school
    has collected (N7): compulsory education runs to grade 9, so each is a pupil the
    county may have lost."""
    if year is None:
        return StudentRecord.objects.none()
    junior = StudentRecord.objects.filter(student=OuterRef("student_id"), stage=RecordStage.JUNIOR)
    collected = JuniorCandidate.objects.filter(primary_record=OuterRef("pk"))
    return (
        scope.records()
        .filter(
            stage=RecordStage.PRIMARY,
            status=Status.GRADUATED,
            exit_date__year=year.start_year,
        )
        .filter(~Exists(junior), ~Exists(collected))
        .select_related("student", "school__parent")
        .order_by("school__school_code", "student__pinyin_key", "pk")
    )


# --- The units overview (S1, E1, C8, C9) -----------------------------------------------------


def units_without_registrar(scope: Scope) -> QuerySet[Unit]:
    """S1: open units (the bureau and schools) with no active designated registrar."""
    designated = User.objects.filter(
        unit=OuterRef("pk"), is_designated_registrar=True, is_active=True
    )
    return (
        scope.units()
        .filter(is_active=True)
        .exclude(kind=Unit.Kind.TOWNSHIP)
        .filter(~Exists(designated))
        .select_related("parent")
    )


def schools_without_printer(scope: Scope) -> QuerySet[Unit]:
    """E1: open schools without a laser printer (their central school prints for them, C3)."""
    return scope.schools().filter(is_active=True, has_printer=False).select_related("parent")


def units_without_plan(scope: Scope) -> QuerySet[Unit]:
    """C9: open units (the bureau and schools) that have never filed a change-management plan."""
    filed = ChangePlan.objects.filter(unit=OuterRef("pk"))
    return (
        scope.units()
        .filter(is_active=True)
        .exclude(kind=Unit.Kind.TOWNSHIP)
        .filter(~Exists(filed))
        .select_related("parent")
    )


def past_rounds(scope: Scope, today: datetime.date):
    """The reporting rounds of the county whose due date has passed, latest first."""
    return (
        scope.rounds()
        .filter(due_date__lt=today)
        .select_related("semester__school_year")
        .order_by("-due_date", "-pk")
    )


def late_schools(scope: Scope, change_round, today: datetime.date) -> list:
    """C8: the open schools of the scope with no package in the round after its due date,
    as the packages app judges a school's standing in a round."""
    from xueji.packages import rounds

    owing = scope.schools().filter(is_active=True).select_related("parent")
    owing = owing.order_by("parent__ordinal", "parent__name", "ordinal", "name", "pk")
    statuses = rounds.school_statuses(change_round, owing, today, with_findings=False)
    return [status.school for status in statuses.values() if status.state == rounds.OVERDUE]
