"""The student list as every page, export and API operation filters it (B1, B5).

One function turns the filter parameters into a scoped queryset of records, so the list
page, the roster export and the API answer exactly the same rows.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from xueji.core.calendar import current_school_year
from xueji.core.scope import Scope
from xueji.students.models import OPEN_STATUSES, Placement, Status, StudentRecord
from xueji.students.search import named_students

# The special categories of B5, as filters: key → condition on the student.
SPECIAL = {
    "left_behind": ~Q(student__left_behind="0") & ~Q(student__left_behind=""),
    "migrant_child": Q(student__migrant_child=True),
    "disability": ~Q(student__disability="0") & ~Q(student__disability=""),
    "orphan": Q(student__orphan=True),
    "only_child": Q(student__only_child=True),
    "no_photo": Q(student__photo=""),
}


@dataclass(frozen=True)
class StudentFilter:
    q: str = ""
    school: int | None = None
    grade: int | None = None
    class_name: str = ""
    status: str = "open"  # "open", "all", or a Status value
    special: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "StudentFilter":
        def number(name: str) -> int | None:
            value = (params.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        status = (params.get("status") or "open").strip()
        if status not in ("open", "all") and status not in Status.values:
            status = "open"
        special = (params.get("special") or "").strip()
        return cls(
            q=(params.get("q") or "").strip()[:60],
            school=number("school"),
            grade=number("grade"),
            class_name=(params.get("class_name") or "").strip()[:10],
            status=status,
            special=special if special in SPECIAL else "",
        )


def filtered_records(scope: Scope, wanted: StudentFilter) -> QuerySet[StudentRecord]:
    """The records of the scope that match, ordered as the list shows them."""
    records = scope.records().select_related("student", "school")
    if wanted.status == "open":
        records = records.filter(status__in=OPEN_STATUSES)
    elif wanted.status != "all":
        records = records.filter(status=wanted.status)
    if wanted.school is not None:
        records = records.filter(school_id=wanted.school)
    if wanted.grade is not None or wanted.class_name:
        # EXISTS on the record's own placement (one unique-index lookup per record of the
        # scope), not a join: joined, SQLite starts from every placement of the grade in
        # the registry, all counties' included.
        year = current_school_year(scope.unit.county) if scope.unit else None
        placement = Placement.objects.filter(record_id=OuterRef("pk"), school_year=year)
        if wanted.grade is not None:
            placement = placement.filter(grade=wanted.grade)
        if wanted.class_name:
            placement = placement.filter(class_name=wanted.class_name)
        records = records.filter(Exists(placement))
    if wanted.special:
        records = records.filter(SPECIAL[wanted.special])
    if wanted.q:
        # The text first (an index lookup naming a few students), then the scope's
        # conditions above on those students' records.
        named = named_students(wanted.q)
        records = records.filter(student_id__in=named) if named is not None else records.none()
    # Chinese registrars read lists in pinyin order, schools by their code.
    return records.order_by("school__school_code", "student__pinyin_key", "pk")
