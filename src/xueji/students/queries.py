"""The student list as every page, export and API operation filters it (B1, B5).

One function turns the filter parameters into a scoped queryset of records, so the list
page, the roster export and the API answer exactly the same rows.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from django.core.paginator import Page, PageNotAnInteger, Paginator
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from xueji.core.calendar import current_school_year
from xueji.core.models import SchoolYear
from xueji.core.scope import Scope
from xueji.orgs.models import Unit
from xueji.students.models import (
    OPEN_STATUSES,
    DuplicateCandidate,
    Placement,
    Status,
    StudentRecord,
)
from xueji.students.search import (
    classify,
    is_exact,
    named_count,
    named_page,
    named_records,
    named_students,
    numbered_rows,
)

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


def this_year(scope: Scope) -> SchoolYear | None:
    return current_school_year(scope.unit.county, semesters=False) if scope.unit else None


# Chinese registrars read lists in pinyin order, schools by their code.
LIST_ORDER = ("school__school_code", "student__pinyin_key", "pk")


def filtered_records(
    scope: Scope, wanted: StudentFilter, *, year: SchoolYear | None = None
) -> QuerySet[StudentRecord]:
    """The records of the scope that match, ordered as the list shows them. `year` is the
    county's current school year, when the caller has it already."""
    records = _searched(scope, wanted.q)
    if wanted.status == "open":
        records = records.filter(status__in=OPEN_STATUSES)
    elif wanted.status != "all":
        records = records.filter(status=wanted.status)
    if wanted.school is not None:
        records = records.filter(school_id=wanted.school)
    if wanted.grade is not None or wanted.class_name:
        placed: dict[str, object] = {"school_year": year or this_year(scope)}
        if wanted.grade is not None:
            placed["grade"] = wanted.grade
        if wanted.class_name:
            placed["class_name"] = wanted.class_name
        if scope.level == scope.SCHOOL or wanted.school is not None or wanted.q:
            # One school, or the few records a search names: each checked against its own
            # placement.
            # With the placement's copy of the school, PostgreSQL reads the school's
            # placements of the grade from their index, not the county's.
            placements = Placement.objects.filter(
                record_id=OuterRef("pk"), school_id=OuterRef("school_id"), **placed
            )
            records = records.filter(Exists(placements))
        else:
            # Many schools: start from the grade's placements, which are the county's own (a
            # school year belongs to one county), not from every record of the county.
            conditions = {f"placements__{key}": value for key, value in placed.items()}
            # The placement's copies of its record's school and openness (always equal to
            # the record's): said here, they let the database read a page's school's
            # placements from one range of their index, not the whole county's grade.
            conditions["placements__school_id"] = F("school_id")
            if wanted.status == "open":
                conditions["placements__record_open"] = True
            records = records.filter(**conditions)
    if wanted.special:
        records = records.filter(SPECIAL[wanted.special])
    return records.select_related("student", "school").order_by(*LIST_ORDER)


def _searched(scope: Scope, query: str) -> QuerySet[StudentRecord]:
    """The scope's records, or those of them the search box's text names."""
    if not query:
        return scope.records()
    if is_exact(query):
        # An ID number or a number names one student: read their id first, and the list's
        # query is the simplest there is for either database to plan.
        named = named_students(query)
        return scope.records().filter(student_id__in=list(named or ()))
    keyed = named_records(query, scope.schools()) if scope.may("students.view") else None
    if keyed is None:
        return StudentRecord.objects.none()
    # A name or pinyin: the index holds each record's school and was read for the scope's
    # schools alone, so these are records of the scope, and the database starts from them
    # (asked again for the scope's schools, PostgreSQL joined every key found to every
    # school of the county, 38,000 pairs for 466 keys).
    return StudentRecord.objects.filter(pk__in=keyed)


class SchoolPaginator(Paginator):
    """Pages of filtered_records, which lists school by school: the rows are counted per
    school (one GROUP BY, the cost of counting them at all), and a page reads only the
    schools it spans. A bureau's page then sorts a school's few hundred rows, not the
    county's tens of thousands, whichever page it is. `counts`, when given, is a cheaper
    query with the same (school, rows) answer (placement_counts)."""

    def __init__(
        self,
        object_list,
        per_page,
        *,
        year_id: int | None = None,
        counts: QuerySet | None = None,
    ) -> None:
        super().__init__(object_list, per_page)
        self.year_id = year_id
        self.counts = counts

    @cached_property
    def schools(self) -> list[tuple[int, int]]:
        """(school id, rows) in the list's order: by school code, as filtered_records."""
        counts = self.counts
        if counts is None:
            counts = self._records.order_by().values_list("school_id").annotate(rows=Count("pk"))
        rows = dict(counts)
        codes = dict(Unit.objects.filter(pk__in=rows).values_list("pk", "school_code"))
        return [(school, rows[school]) for school in sorted(rows, key=lambda pk: codes[pk] or "")]

    @property
    def _records(self) -> QuerySet[StudentRecord]:
        return self.object_list  # type: ignore[return-value]

    @cached_property
    def count(self) -> int:
        return sum(rows for _school, rows in self.schools)

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        spanned: list[int] = []
        before = 0  # the rows of the schools before the first one the page spans
        end = 0
        for school, rows in self.schools:
            start, end = end, end + rows
            if end <= bottom:
                before = end
            elif start < top:
                spanned.append(school)
            else:
                break
        rows_of_page = self._records.filter(school_id__in=spanned)
        # The page's ids first, inside the statement that reads their rows: the grade and
        # the mark are then looked up for the page's rows alone, not (SQLite) for every
        # row of the schools spanned, before they are sorted.
        page_ids = rows_of_page[bottom - before : top - before].values("pk")
        page_rows = StudentRecord.objects.filter(pk__in=page_ids).order_by(*LIST_ORDER)
        return Page(listed(page_rows, year_id=self.year_id), number, self)


class SearchPaginator(Paginator):
    """Pages of a search's matches (a few hundred, a few thousand at most): their sort
    keys are read in one query and sorted here, which gives the count and the page's ids;
    the page's 50 rows are then read by id. Whenever the database was asked to sort (for a
    LIMIT, or beside COUNT(*) OVER ()), PostgreSQL walked the schools in code order
    against every match: 63 ms for 466 names, 343 ms for 3,138 (3.6 million comparisons)."""

    def __init__(
        self, object_list, per_page, *, year_id: int | None = None, exact: bool = False
    ) -> None:
        super().__init__(object_list, per_page)
        self.year_id = year_id
        # An ID number or a number names a student or two: their rows are read at once,
        # in one query instead of their keys and then their page.
        self.exact = exact
        self._rows: dict[int, ListedRecord] = {}

    @cached_property
    def _keys(self) -> list[tuple[str, str, int]]:
        records: QuerySet[StudentRecord] = self.object_list  # type: ignore[assignment]
        if self.exact:
            self._rows = {row.pk: row for row in listed(records, year_id=self.year_id)}
            return sorted(
                (row.school.school_code or "", row.student.pinyin_key, row.pk)
                for row in self._rows.values()
            )
        rows = records.order_by().values_list("school__school_code", "student__pinyin_key", "pk")
        # The order of filtered_records: school code, pinyin, id.
        return sorted((code or "", pinyin, pk) for code, pinyin, pk in rows)

    @cached_property
    def count(self) -> int:
        return len(self._keys)

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        wanted = [pk for _code, _pinyin, pk in self._keys[bottom : bottom + self.per_page]]
        if self.exact:
            found = self._rows
        else:
            rows = StudentRecord.objects.filter(pk__in=wanted).order_by()  # ordered here
            found = {row.pk: row for row in listed(rows, year_id=self.year_id)}
        return Page([found[pk] for pk in wanted], number, self)


def list_page(
    scope: Scope, wanted: StudentFilter, number, per_page: int, *, year: SchoolYear | None = None
) -> Page:
    """The page of the student list (the list page and the benchmark ask here): a
    search's few matches in one query, a list's many school by school. Each row carries
    its grade and class in `year` (the county's current school year, looked up when not
    given) and its double-registration mark."""
    year = year or this_year(scope)
    year_id = year.pk if year is not None else None
    if wanted.q:
        named = _named_from_index(scope, wanted, per_page, year_id)
        if named is not None:
            return named.get_page(number)
        numbered = _numbered(scope, wanted, year_id)
        if numbered is not None:  # a student or two: their few rows, paged here
            return Paginator(numbered, per_page).get_page(number)
        records = filtered_records(scope, wanted, year=year)
        return SearchPaginator(
            records, per_page, year_id=year_id, exact=is_exact(wanted.q)
        ).get_page(number)
    records = filtered_records(scope, wanted, year=year)
    counts = placement_counts(scope, wanted, year=year)
    return SchoolPaginator(records, per_page, year_id=year_id, counts=counts).get_page(number)


def _named_from_index(
    scope: Scope, wanted: StudentFilter, per_page: int, year_id: int | None
) -> "NamedPaginator | None":
    """A name or pinyin search, of open records or all, of the scope or one of its schools:
    its pages straight from the search index (search.named_page). None for any other
    search, whose matches filtered_records finds."""
    if not _plain_search(scope, wanted) or classify(wanted.q)[0] not in ("name", "pinyin"):
        return None
    schools = _searched_schools(scope, wanted)
    return NamedPaginator(
        wanted.q, schools, per_page, open_only=wanted.status == "open", year_id=year_id
    )


def _numbered(
    scope: Scope, wanted: StudentFilter, year_id: int | None
) -> "list[ListedRecord] | None":
    """An ID number's or a number's search, of open records or all, of the scope or one of
    its schools: its rows in one statement (search.numbered_rows). None for any other."""
    if not _plain_search(scope, wanted):
        return None
    rows = numbered_rows(
        wanted.q,
        _searched_schools(scope, wanted),
        open_only=wanted.status == "open",
        year_id=year_id,
    )
    return None if rows is None else [_listed_row(row) for row in rows]


def _plain_search(scope: Scope, wanted: StudentFilter) -> bool:
    """A search of open records or all, of the scope or one of its schools, nothing else
    filtered: the search's own statements answer it (named_page, numbered_rows)."""
    if wanted.grade is not None or wanted.class_name or wanted.special:
        return False
    return wanted.status in ("open", "all") and scope.may("students.view")


def _searched_schools(scope: Scope, wanted: StudentFilter) -> QuerySet:
    schools = scope.schools()
    if wanted.school is not None:
        schools = schools.filter(pk=wanted.school)
    return schools


class NamedPaginator(Paginator):
    """Pages of a name's or pinyin's matches, each page with its count in one statement
    (search.named_page); the count alone is asked only for a page past either end, to
    answer as Django's paginator does (the last page; the first for a page that is not a
    number)."""

    def __init__(
        self, query: str, schools: QuerySet, per_page: int, *, open_only: bool, year_id: int | None
    ) -> None:
        super().__init__([], per_page)
        self.query = query
        self.schools = schools
        self.open_only = open_only
        self.year_id = year_id

    @cached_property
    def count(self) -> int:
        return named_count(self.query, self.schools, open_only=self.open_only)

    def _rows(self, number: int) -> "list[ListedRecord]":
        offset = (number - 1) * self.per_page
        found = named_page(
            self.query,
            self.schools,
            open_only=self.open_only,
            offset=offset,
            limit=self.per_page,
            year_id=self.year_id,
        )
        total, rows = found or (0, [])
        if rows:
            self.__dict__["count"] = total  # what the count would answer
        return [_listed_row(row) for row in rows]

    def get_page(self, number) -> Page:
        try:
            first_try = self.validate_number_format(number)
        except PageNotAnInteger:
            first_try = 1
        if first_try >= 1:
            rows = self._rows(first_try)
            if rows or first_try == 1:
                if not rows:  # nothing from the start: nobody is named
                    self.__dict__["count"] = 0
                return Page(rows, first_try, self)
        return super().get_page(number)

    def validate_number_format(self, number) -> int:
        """Django's check of a page number, without the count."""
        if isinstance(number, float) and not number.is_integer():
            raise PageNotAnInteger(self.error_messages["invalid_page"])
        try:
            return int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None

    def page(self, number) -> Page:
        number = self.validate_number(number)
        return Page(self._rows(number), number, self)


def placement_counts(
    scope: Scope, wanted: StudentFilter, *, year: SchoolYear | None = None
) -> QuerySet | None:
    """For a grade (or class) of this year's open records across the scope's schools: the
    (school, rows) of filtered_records from one range of the placements' index, which
    carries each record's school and openness (models.Placement). None for any other
    filter, whose rows are counted by filtered_records itself."""
    many_schools = scope.level != scope.SCHOOL and wanted.school is None
    if not many_schools or wanted.grade is None or wanted.status != "open" or wanted.special:
        return None
    if not scope.may("students.view") or scope.unit is None:
        return None
    placed: dict[str, object] = {
        "school_year": year or this_year(scope),
        "grade": wanted.grade,
        "record_open": True,
        "school__in": scope.schools(),
    }
    if wanted.class_name:
        placed["class_name"] = wanted.class_name
    # COUNT(*), not of the id: the index holds all that is counted; the table is not read.
    return (
        Placement.objects.filter(**placed)
        .order_by()
        .values_list("school_id")
        .annotate(rows=Count("*"))
    )


# Every placement whose copies of its record's school and openness are not the record's:
# none while the triggers keep them (the test suite checks after every test).
PLACEMENT_DRIFT = """
    SELECT COUNT(*) FROM students_placement AS placement
    JOIN students_studentrecord AS record ON record.id = placement.record_id
    WHERE placement.school_id IS NULL OR placement.school_id <> record.school_id
        OR placement.record_open <> (record.status IN ({}))
"""


def placement_drift() -> int:
    from django.db import connection

    statuses = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(PLACEMENT_DRIFT.format(statuses))
        return cursor.fetchone()[0]


# What a row of the list shows (templates/students/_results.html, views.student_list) and
# how it is ordered. A page's rows are read as plain tuples: making 50 records, students
# and schools into model objects (some 60 fields a student) cost more than finding them.
class ListedStudent(NamedTuple):
    name: str
    sex: str
    id_number: str
    national_number: str
    pinyin_key: str


class ListedSchool(NamedTuple):
    name: str
    school_code: str


class ListedRecord(NamedTuple):
    pk: int
    student_id: int
    status: str
    provincial_number: str
    locked_at: datetime.datetime | None
    student: ListedStudent
    school: ListedSchool
    # The placement in the school year the list was asked for (None: not placed).
    grade: int | None
    class_name: str | None
    held: bool  # a possible double registration waiting for the bureau (N11)


LIST_COLUMNS = (
    "pk",
    "student_id",
    "status",
    "provincial_number",
    "locked_at",
    "student__name",
    "student__sex",
    "student__id_number",
    "student__national_number",
    "student__pinyin_key",
    "school__name",
    "school__school_code",
)


def _listed_row(row: tuple) -> ListedRecord:
    """A row of LIST_COLUMNS as the list shows it."""
    (
        pk,
        student_id,
        status,
        provincial,
        locked_at,
        name,
        sex,
        id_number,
        national,
        pinyin,
        school_name,
        school_code,
        grade,
        class_name,
        held,
    ) = row
    if locked_at is not None and locked_at.tzinfo is None:
        # A raw statement's datetime on SQLite (search.named_page, numbered_rows): stored
        # in UTC, as the ORM would have read it.
        locked_at = locked_at.replace(tzinfo=datetime.UTC)
    return ListedRecord(
        pk,
        student_id,
        status,
        provincial,
        locked_at,
        ListedStudent(name, sex, id_number, national, pinyin),
        ListedSchool(school_name, school_code),
        grade,
        class_name,
        bool(held),  # SQLite answers EXISTS with 1 or 0
    )


def listed(records: QuerySet[StudentRecord], *, year_id: int | None) -> list[ListedRecord]:
    """The rows of the list for these records, in the queryset's order: LIST_COLUMNS, the
    placement in the school year `year_id` and the double-registration mark, as
    search.LISTED reads them."""
    # order_by(): without it the placement's own ordering joins the school years.
    placed = Placement.objects.filter(record_id=OuterRef("pk"), school_year_id=year_id).order_by()
    pairs = DuplicateCandidate.objects.filter(state=DuplicateCandidate.State.OPEN)
    student = OuterRef("student_id")
    rows = records.values_list(
        *LIST_COLUMNS,
        Subquery(placed.values("grade")),
        Subquery(placed.values("class_name")),
        # services.has_open_duplicate's rule; one EXISTS per column of the pair, each an index probe
        # (see search.LISTED).
        ExpressionWrapper(
            Exists(pairs.filter(newer_id=student)) | Exists(pairs.filter(existing_id=student)),
            output_field=BooleanField(),
        ),
    )
    return [_listed_row(row) for row in rows]
