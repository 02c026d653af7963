"""The intake API's schemas: entries and their states, the bulk steps' inputs, junior
candidates and the year's end."""

import datetime

from ninja import Field, Schema

from xueji.api.student_schemas import ProblemOut, StudentItemsIn
from xueji.intake.models import EntryState, IntakeEntry, JuniorCandidate, JuniorDocument
from xueji.students.models import Placement


class IntakeEntryIn(StudentItemsIn):  # type: ignore[misc, valid-type]
    """A new pupil from the household register: every item of the national form under
    its item key (as in POST /students), and the school whose intake they join."""

    school_id: int = Field(description="The school (id) whose intake the pupil joins.")


class EntryIdsIn(Schema):
    entry_ids: list[int] = Field(description="Intake entries (ids) of one school.")


class ReviewIn(EntryIdsIn):
    admit: bool = Field(description="true: admit; false: return to the school with a reason.")
    reason: str = Field("", description="Why the pupils are returned (required to return).")


class NumberIn(EntryIdsIn):
    identity_confirmed: bool = Field(
        True, description="false: a temporary L national number until identity is confirmed."
    )


class ReturnIn(EntryIdsIn):
    reason: str = Field(description="Why the submitted records go back to the school.")


class ExceptionIn(Schema):
    kind: str = Field(description="migrant, deferral or other.")
    note: str = Field(description="Which document proves the exception.")


def _placement(entry: IntakeEntry) -> Placement | None:
    """The entry's placement in its school year (the placements are prefetched)."""
    return next(
        (p for p in entry.record.placements.all() if p.school_year_id == entry.school_year_id),
        None,
    )


class EntryOut(Schema):
    """One new pupil in a school's intake, in one of the states every level sees."""

    id: int
    record_id: int
    student_id: int
    name: str
    school_id: int
    school_name: str
    school_year: int = Field(description="The school year's start year.")
    stage: str
    state: EntryState
    state_name: str
    grade: int | None
    class_name: str | None
    eligibility_problems: list[str]
    exception_kind: str
    exception_note: str
    returned_reason: str
    provincial_number: str | None
    national_number: str | None
    has_photo: bool
    locked: bool
    reviewed_at: datetime.datetime | None
    updated_at: datetime.datetime

    @staticmethod
    def resolve_student_id(entry: IntakeEntry) -> int:
        return entry.record.student_id

    @staticmethod
    def resolve_name(entry: IntakeEntry) -> str:
        return entry.record.student.name

    @staticmethod
    def resolve_school_name(entry: IntakeEntry) -> str:
        return entry.school.name

    @staticmethod
    def resolve_school_year(entry: IntakeEntry) -> int:
        return entry.school_year.start_year

    @staticmethod
    def resolve_state_name(entry: IntakeEntry) -> str:
        return str(entry.get_state_display())

    @staticmethod
    def resolve_grade(entry: IntakeEntry) -> int | None:
        placement = _placement(entry)
        return placement.grade if placement else None

    @staticmethod
    def resolve_class_name(entry: IntakeEntry) -> str | None:
        placement = _placement(entry)
        return placement.class_name if placement else None

    @staticmethod
    def resolve_provincial_number(entry: IntakeEntry) -> str | None:
        return entry.record.provincial_number

    @staticmethod
    def resolve_national_number(entry: IntakeEntry) -> str | None:
        return entry.record.student.national_number

    @staticmethod
    def resolve_has_photo(entry: IntakeEntry) -> bool:
        return bool(entry.record.student.photo)

    @staticmethod
    def resolve_locked(entry: IntakeEntry) -> bool:
        return entry.record.is_locked


class EntryCreatedOut(Schema):
    entry: EntryOut
    warnings: list[ProblemOut] = Field(description="What would need a second look.")


class EntriesOut(Schema):
    count: int = Field(description="How many entries the step moved.")
    entries: list[EntryOut] = Field(description="The entries as they now stand.")


class IntakeSummaryOut(Schema):
    school_id: int
    school_name: str
    school_code: str | None
    school_year: int | None = Field(description="The current school year's start year.")
    counts: dict[str, int] = Field(description="Entries per state (every state named).")
    total: int
    junior_candidates: int = Field(description="Primary numbers collected (junior schools).")


# --- Junior intake ---------------------------------------------------------------------


class JuniorRowIn(Schema):
    typed: str = Field(description="The primary provincial number, or the ID number.")
    document_shown: JuniorDocument


class JuniorIn(Schema):
    school_id: int = Field(description="The receiving junior (or nine-year) school.")
    rows: list[JuniorRowIn]


class CandidateIdsIn(Schema):
    candidate_ids: list[int]


class CandidateOut(Schema):
    id: int
    school_id: int
    school_name: str
    school_year: int
    typed: str
    document_shown: str
    problem: str = Field(description="Empty when the primary record was found and is free.")
    problem_name: str
    primary_record_id: int | None
    student_id: int | None
    name: str | None
    junior_record_id: int | None
    junior_provincial_number: str | None
    grade: int
    class_name: str
    collected_at: datetime.datetime
    converted_at: datetime.datetime | None

    @staticmethod
    def resolve_school_name(candidate: JuniorCandidate) -> str:
        return candidate.school.name

    @staticmethod
    def resolve_school_year(candidate: JuniorCandidate) -> int:
        return candidate.school_year.start_year

    @staticmethod
    def resolve_problem_name(candidate: JuniorCandidate) -> str:
        return str(candidate.get_problem_display())

    @staticmethod
    def resolve_student_id(candidate: JuniorCandidate) -> int | None:
        record = candidate.primary_record
        return record.student_id if record else None

    @staticmethod
    def resolve_name(candidate: JuniorCandidate) -> str | None:
        record = candidate.primary_record
        return record.student.name if record else None

    @staticmethod
    def resolve_junior_provincial_number(candidate: JuniorCandidate) -> str | None:
        record = candidate.junior_record
        return record.provincial_number if record else None


class ConvertedOut(Schema):
    count: int = Field(description="How many primary records were converted.")
    candidates: list[CandidateOut]


# --- The year's end --------------------------------------------------------------------


class YearEndIn(Schema):
    from_year: int = Field(description="The ending school year's start year.")
    to_year: int = Field(description="The new school year's start year.")


class BlockedOut(Schema):
    record_id: int
    student_id: int
    name: str
    school_id: int
    school_name: str
    grade: int
    class_name: str


class YearEndPreviewOut(Schema):
    from_year: int
    to_year: int
    promote: int = Field(description="Students promoted to the next grade.")
    graduate: int = Field(description="Students of the final grades who graduate.")
    blocked: list[BlockedOut] = Field(
        description="Students the year's end cannot move: a change request is pending."
    )


class YearEndOut(Schema):
    promoted: int
    graduated: int
    blocked: int


# --- Catchments ------------------------------------------------------------------------


class CatchmentIn(Schema):
    codes: list[str] = Field(
        description="Division codes: villages or communities (12 digits) or townships (9)."
    )


class CatchmentOut(Schema):
    school_id: int
    school_name: str
    codes: list[str] = Field(description="The division codes the school admits from.")
