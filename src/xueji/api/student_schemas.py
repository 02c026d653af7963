"""The students API's schemas, and the input schemas built from the 72 national items.

The input for registering and editing a student is generated from form_items.ITEMS, so
every item of the national form is a field under its item key ("name",
"family1.id_number" ...) and an item added to the form appears in the API by itself.
Values arrive as the forms receive them (strings, or a number or boolean where the item
is one) and are checked by students/validation.py, which gives the same messages as the
forms and the Excel import.
"""

import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, create_model

from xueji.api.schemas import Error
from xueji.students import codes, form_items, rules
from xueji.students.form_items import FAMILY_1, FAMILY_2, ITEMS, STUDENT, Item
from xueji.students.models import Placement, StudentRecord

# An item's value as JSON carries it: text, a number, a yes/no, or null for "blank".
ItemValue = str | bool | int | float | None

# The Python type a client may send for each kind of item; validation.py accepts the
# same spellings the forms accept ("是", "1", true ...).
_INPUT_TYPES: dict[str, Any] = {
    form_items.YES_NO: bool | str | None,
    form_items.GRADE: int | str | None,
    form_items.DECIMAL: float | str | None,
}


def field_name(key: str) -> str:
    """The Python attribute for an item key: "family1.name" → "family1__name"."""
    return key.replace(".", "__")


def _description(item: Item) -> str:
    parts = [f"{item.header} ({item.label})"]
    if item.table:
        parts.append(f"code table `{item.table}` (GET /codes/{item.table}): a code or a name")
    if item.kind == form_items.DATE:
        parts.append("YYYY-MM-DD or YYYYMMDD")
    if item.kind == form_items.YEAR_MONTH:
        parts.append("YYYYMM")
    if item.required:
        parts.append("required")
    return "; ".join(parts) + "."


def _items_model(name: str, items: tuple[Item, ...], base: type[Schema] = Schema) -> Any:
    fields: dict[str, Any] = {
        field_name(item.key): (
            _INPUT_TYPES.get(item.kind, str | None),
            Field(None, alias=item.key, description=_description(item)),
        )
        for item in items
    }
    return create_model(name, __base__=base, **fields)


class _ItemsBase(Schema):
    # A misspelt item key is refused (422) rather than silently dropped.
    model_config = ConfigDict(extra="forbid")


# The photo travels as a file of its own (PUT /students/{id}/photo).
_INPUT_ITEMS = tuple(item for item in ITEMS if item.kind != form_items.PHOTO)
# An edit changes the person and the family; grade and class are a placement
# (PUT /records/{id}/placement), the record's items change only by a change request.
_PATCH_ITEMS = tuple(item for item in _INPUT_ITEMS if item.where in (STUDENT, FAMILY_1, FAMILY_2))

StudentItemsIn = _items_model("StudentItemsIn", _INPUT_ITEMS, _ItemsBase)


class StudentIn(StudentItemsIn):  # type: ignore[misc, valid-type]
    """A registration: every item of the national form under its item key, the school
    and the status the record starts in."""

    school_id: int = Field(description="The school (id) the student is registered at.")
    status: Literal["pending", "enrolled"] = Field(
        "pending", description="pending: an intake entry; enrolled: already at school."
    )


StudentPatch = _items_model("StudentPatch", _PATCH_ITEMS, _ItemsBase)


def item_values(payload: Schema) -> dict[str, object]:
    """The items a client sent, under their item keys (an explicit null means blank)."""
    sent = payload.model_dump(by_alias=True, exclude_unset=True)
    return {key: value for key, value in sent.items() if key in form_items.BY_KEY}


# --- Refusals --------------------------------------------------------------------------


class ProblemOut(Schema):
    field: str | None = Field(description="The item key (or school_id, status).")
    message: str


class StudentRefusal(Error):
    """A refused registration or edit: `detail` and `field` name the first problem,
    `errors` lists them all, `warnings` what would need a second look."""

    errors: list[ProblemOut] = []
    warnings: list[ProblemOut] = []


# --- Output ----------------------------------------------------------------------------


class ItemOut(Schema):
    value: ItemValue = Field(description="The stored value; for a coded item its code.")
    name: str | None = Field(None, description="For a coded or yes/no item: the code's name.")
    masked: bool = Field(False, description="Hidden in part; POST /students/{id}/reveal shows it.")


class PlacementOut(Schema):
    id: int
    school_year: int = Field(description="The school year's start year.")
    school_year_label: str
    grade: int
    class_name: str
    seat_number: str

    @staticmethod
    def resolve_school_year(placement: Placement) -> int:
        return placement.school_year.start_year

    @staticmethod
    def resolve_school_year_label(placement: Placement) -> str:
        return placement.school_year.label


class RecordOut(Schema):
    id: int
    student_id: int
    school_id: int
    school_name: str
    school_code: str | None
    stage: str
    status: str
    status_name: str
    provincial_number: str | None
    entry_date: datetime.date
    entry_year_month: str
    entry_change: str
    entry_method: str
    attendance: str
    source: str
    exit_date: datetime.date | None
    exit_change: str
    locked: bool
    locked_at: datetime.datetime | None
    created_at: datetime.datetime
    created_by_id: int | None
    placements: list[PlacementOut]

    @staticmethod
    def resolve_school_name(record: StudentRecord) -> str:
        return record.school.name

    @staticmethod
    def resolve_school_code(record: StudentRecord) -> str | None:
        return record.school.school_code

    @staticmethod
    def resolve_status_name(record: StudentRecord) -> str:
        return str(record.get_status_display())

    @staticmethod
    def resolve_locked(record: StudentRecord) -> bool:
        return record.is_locked

    @staticmethod
    def resolve_placements(record: StudentRecord) -> list[Placement]:
        return list(record.placements.all())


class NumberOut(Schema):
    kind: str
    value: str
    record_id: int | None
    assigned_at: datetime.datetime
    retired_at: datetime.datetime | None


class StudentOut(Schema):
    id: int
    name: str
    national_number: str | None
    national_number_kind: str = Field(description="G, L, J, or empty before numbering.")
    has_photo: bool
    locked: bool = Field(
        description="An open record has been submitted: reported items are locked."
    )
    open_record_id: int | None
    created_at: datetime.datetime
    created_by_id: int | None
    items: dict[str, ItemOut] = Field(description="Every national item, keyed by item key.")
    records: list[RecordOut] = Field(description="Every stay at a school, newest first.")
    numbers: list[NumberOut] = Field(description="Every number the student ever held.")


class RegistrationOut(Schema):
    student: StudentOut
    record_id: int
    known_person: bool = Field(description="A person registered before, given a new record.")
    held_for_bureau: list[int] = Field(
        description="Candidate double registrations (ids) waiting for the bureau's decision."
    )
    warnings: list[ProblemOut]


class StudentSavedOut(Schema):
    student: StudentOut
    warnings: list[ProblemOut]


def _this_year(record: StudentRecord) -> Placement | None:
    """The placement list_students prefetched for the current school year."""
    current = getattr(record, "current_placements", None)
    return current[0] if current else None


class StudentListItem(Schema):
    """One row of the student list, read off a record (with its student, school and
    this year's placement): ID number and address masked."""

    student_id: int
    record_id: int
    name: str
    sex: str
    sex_name: str
    birth_date: datetime.date
    id_type: str
    id_number: str = Field(description="Masked.")
    current_address: str = Field(description="Masked.")
    school_id: int
    school_name: str
    status: str
    status_name: str
    grade: int | None = Field(description="In the current school year.")
    class_name: str | None
    provincial_number: str | None
    national_number: str | None
    locked: bool

    @staticmethod
    def resolve_student_id(record: StudentRecord) -> int:
        return record.student_id

    @staticmethod
    def resolve_record_id(record: StudentRecord) -> int:
        return record.pk

    @staticmethod
    def resolve_name(record: StudentRecord) -> str:
        return record.student.name

    @staticmethod
    def resolve_sex(record: StudentRecord) -> str:
        return record.student.sex

    @staticmethod
    def resolve_sex_name(record: StudentRecord) -> str:
        return codes.name_of("sex", record.student.sex)

    @staticmethod
    def resolve_birth_date(record: StudentRecord):
        return record.student.birth_date

    @staticmethod
    def resolve_id_type(record: StudentRecord) -> str:
        return record.student.id_type

    @staticmethod
    def resolve_id_number(record: StudentRecord) -> str:
        return rules.mask_id_number(record.student.id_number)

    @staticmethod
    def resolve_current_address(record: StudentRecord) -> str:
        return rules.mask_address(record.student.current_address)

    @staticmethod
    def resolve_school_name(record: StudentRecord) -> str:
        return record.school.name

    @staticmethod
    def resolve_status_name(record: StudentRecord) -> str:
        return str(record.get_status_display())

    @staticmethod
    def resolve_grade(record: StudentRecord) -> int | None:
        placement = _this_year(record)
        return placement.grade if placement else None

    @staticmethod
    def resolve_class_name(record: StudentRecord) -> str | None:
        placement = _this_year(record)
        return placement.class_name if placement else None

    @staticmethod
    def resolve_national_number(record: StudentRecord) -> str | None:
        return record.student.national_number

    @staticmethod
    def resolve_locked(record: StudentRecord) -> bool:
        return record.is_locked


class StudentFilters(Schema):
    q: str | None = Field(
        None, description="Chinese name, full pinyin, initials, ID number, or any number."
    )
    school: int | None = Field(None, description="Only this school (id).")
    grade: int | None = Field(None, description="Grade in the current school year.")
    class_name: str | None = None
    status: str | None = Field(
        None, description="open (the default), all, or one status (enrolled, suspended …)."
    )
    special: (
        Literal["left_behind", "migrant_child", "disability", "orphan", "only_child", "no_photo"]
        | None
    ) = None


class RevealIn(Schema):
    what: Literal["id_number", "address", "family"]


class PlacementIn(Schema):
    school_year: int = Field(description="The school year's start year, e.g. 2026.")
    grade: int
    class_name: str
    seat_number: str = ""


class ReopenIn(Schema):
    reason: str = Field(description="Why the record is returned to the school.")


class NumbersIn(Schema):
    identity_confirmed: bool = Field(
        description="The ID number was checked against the document: a G number; "
        "otherwise a temporary L number."
    )


class NumbersOut(Schema):
    record_id: int
    provincial_number: str | None
    national_number: str | None
    national_number_kind: str


class PhotoOut(Schema):
    warnings: list[str]


class StudentBrief(Schema):
    """One side of a candidate pair."""

    id: int
    name: str
    sex: str
    birth_date: datetime.date
    id_number: str = Field(description="Masked.")
    name_pinyin: str
    national_number: str | None
    school_name: str | None = Field(description="The school of the open record.")
    created_at: datetime.datetime
    created_by_id: int | None


class DuplicateOut(Schema):
    id: int
    reason: str = Field(description="name or pinyin: what the two share besides sex and birth.")
    state: str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    existing: StudentBrief
    newer: StudentBrief


class DuplicateDecisionIn(Schema):
    decision: Literal["different", "withdraw"] = Field(
        description="different: not the same person; withdraw: withdraw the newer registration."
    )


# The OpenAPI document names a schema by its class: a second "DecisionIn" (the change
# decisions have one) would silently replace this one there.
DecisionIn = DuplicateDecisionIn


class CodeOut(Schema):
    code: str
    name: str


class FormItemOut(Schema):
    key: str
    header: str = Field(description="The national form's column header.")
    label: str
    kind: str
    table: str = Field(description="The code table, for coded items (GET /codes/{table}).")
    required: bool
    max_length: int
    locked_when_submitted: bool
