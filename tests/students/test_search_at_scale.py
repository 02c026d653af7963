"""B1 and B7 at scale: the search box, the student list and the student page ask the
database in a shape it answers from indexes (a prefix range, an exact match, one student's
own records), and the scope stays exactly what it was: a user sees the records at the
schools of the scope and the students who have one."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count
from django.http import Http404
from hypothesis import given, settings
from hypothesis import strategies as st

from xueji.core.scope import scope_for
from xueji.students.models import Status, StudentRecord
from xueji.students.queries import StudentFilter, filtered_records, this_year
from xueji.students.search import after_prefix
from xueji.students.services import do_assign_numbers

# Text as names, pinyin and numbers hold it, with the edges of the code space mixed in.
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["张", "z", "\ud7ff", "\ue000", "\U0010ffff", "\x00", "·"]),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(TEXT.filter(bool), TEXT)
def test_a_prefix_range_holds_exactly_the_texts_that_start_with_the_prefix(prefix, text):
    """SQLite answers a prefix as the range [prefix, after_prefix(prefix)) of the index:
    that range must hold every text that starts with the prefix, and no other."""
    for candidate in (text, prefix + text):
        upper = after_prefix(prefix)
        in_range = candidate >= prefix and (upper is None or candidate < upper)
        assert in_range == candidate.startswith(prefix), (prefix, candidate, upper)


def test_the_range_skips_the_surrogates_that_text_cannot_hold():
    assert after_prefix("zs") == "zt"
    assert after_prefix("\ud7ff") == "\ue000"
    assert after_prefix("a\U0010ffff") == "b"
    assert after_prefix("\U0010ffff") is None


def names(user, query, status="open"):
    records = filtered_records(scope_for(user), StudentFilter(q=query, status=status))
    return sorted((record.student.name, record.school.name) for record in records)


@pytest.fixture
def moved(cast, register):
    """张小明 left a1 (transferred out, the record closed) and is now at b1."""
    first = register(name="张小明", former_name="张明明")
    StudentRecord.objects.filter(pk=first.record.pk).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 10, 1)
    )
    second = register(name="张小明", school=cast.school_b1, actor=cast.b1_registrar)
    assert second.student.pk == first.student.pk
    do_assign_numbers(second.record, actor=cast.b1_registrar, identity_confirmed=True)
    second.student.refresh_from_db()
    return second.student


@pytest.mark.parametrize("query", ["张小", "zhangxiao", "zxm", "张明"])
def test_a_search_shows_each_user_only_the_records_at_their_schools(cast, moved, query):
    """The text finds the person first; the scope then keeps the records at the user's
    schools: b1 sees the open record, a1 only its closed one, the bureau both (C3, N2).
    张明 is the former name (曾用名)."""
    a1, b1 = cast.school_a1.name, cast.school_b1.name
    assert names(cast.b1_registrar, query) == [("张小明", b1)]
    assert names(cast.a1_registrar, query) == []
    assert names(cast.a1_registrar, query, status="all") == [("张小明", a1)]
    assert names(cast.c_registrar, query, status="all") == []
    assert sorted(names(cast.bureau_registrar, query, status="all")) == sorted(
        [("张小明", a1), ("张小明", b1)]
    )


def test_a_search_by_id_number_and_by_number_keeps_the_scope(cast, moved):
    provincial = moved.records.get(status=Status.ENROLLED).provincial_number
    for query in (moved.id_number, moved.national_number, provincial):
        assert query, "the moved student has an ID number and a national number"
        assert names(cast.b1_registrar, query) == [("张小明", cast.school_b1.name)]
        assert names(cast.c_registrar, query, status="all") == []


def test_a_student_page_is_found_through_any_record_of_the_scope_and_404_outside(cast, moved):
    """A school still opens the page of a pupil who left it (their closed record is at the
    school); a school that never had them gets 404, like an id that does not exist."""
    assert scope_for(cast.a1_registrar).get_student(moved.pk) == moved
    assert scope_for(cast.b1_registrar).get_student(moved.pk) == moved
    assert scope_for(cast.bureau_registrar).get_student(moved.pk) == moved
    with pytest.raises(Http404):
        scope_for(cast.c_registrar).get_student(moved.pk)
    assert list(scope_for(cast.c_registrar).students()) == []
    assert list(scope_for(cast.a1_registrar).students()) == [moved]


# --- The shape of the queries (SQLite: its planner has no statistics to rescue a bad shape) --


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(row[3] for row in cursor.fetchall())


BIG_TABLES = ("students_student", "students_studentrecord", "students_placement")


def scans_a_big_table(text: str) -> bool:
    """SQLite says SCAN for a full table (or index) scan and SEARCH for an index lookup."""
    return any(
        line.startswith("SCAN") and any(table in line for table in BIG_TABLES)
        for line in text.splitlines()
    )


sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL plans by its statistics, not by shape"
)


@sqlite_only
@pytest.mark.parametrize("kind", ["name", "pinyin", "initials", "id", "national", "number"])
def test_each_kind_of_search_starts_from_the_text_not_from_the_county(cast, moved, kind):
    """B1: the search's page starts from an index of the text and reads the county's
    records (the school and status index) nowhere."""
    record = moved.records.get(status=Status.ENROLLED)
    query = {
        "name": "张小",
        "pinyin": "zhangxiao",
        "initials": "zxm",
        "id": moved.id_number,
        "national": moved.national_number,
        "number": record.provincial_number,
    }[kind]
    records = filtered_records(scope_for(cast.bureau_registrar), StudentFilter(q=query))
    assert [r.pk for r in records] == [record.pk]
    for shape in (plan(records.all()[:50]), plan(records.order_by().values("pk"))):
        assert not scans_a_big_table(shape), shape
        assert "school_id=? AND status=?" not in shape, shape


@sqlite_only
def test_the_student_page_checks_the_scope_on_the_students_own_records(cast, moved):
    students = scope_for(cast.bureau_registrar).students().filter(pk=moved.pk)
    shape = plan(students)
    assert not scans_a_big_table(shape), shape
    assert "school_id=? AND status=?" not in shape, shape


@sqlite_only
def test_a_schools_grade_list_reads_its_own_records_not_the_registrys_grade(cast, moved):
    """The grade is checked on each record of the school (EXISTS), instead of reading the
    grade's placements of every school of the registry."""
    records = filtered_records(scope_for(cast.b1_registrar), StudentFilter(grade=1))
    shape = plan(records[:50])
    assert not scans_a_big_table(shape), shape
    assert "school_year_id=? AND grade=?" not in shape, shape
    assert [record.student.name for record in records] == ["张小明"]


@sqlite_only
def test_the_bureaus_grade_list_starts_from_the_grades_placements(cast, moved):
    """The bureau's grade: the placements of the county's school year in that grade, each
    checked against the scope; never every record of the county checked one by one."""
    records = filtered_records(scope_for(cast.bureau_registrar), StudentFilter(grade=1))
    for shape in (plan(records.all()[:50]), plan(records.order_by().values("pk"))):
        assert not scans_a_big_table(shape), shape
        assert shape.splitlines()[0].startswith("SEARCH students_placement"), shape
    assert [record.student.name for record in records] == ["张小明"]


def test_the_school_paginator_pages_exactly_as_a_plain_paginator(cast, register):
    """The list's pages read only the schools they span (SchoolPaginator); every page holds
    the rows a plain paginator over the whole ordered list holds."""
    from django.core.paginator import Paginator

    from xueji.students.queries import SchoolPaginator

    pupils = [
        ("张一", cast.school_a1, cast.a1_registrar),
        ("李二", cast.school_b1, cast.b1_registrar),
        ("王三", cast.school_a1, cast.a1_registrar),
        ("赵四", cast.school_c, cast.c_registrar),
        ("钱五", cast.school_b1, cast.b1_registrar),
        ("孙六", cast.school_c, cast.c_registrar),
        ("周七", cast.school_a1, cast.a1_registrar),
    ]
    for sequence, (name, school, actor) in enumerate(pupils, start=1):
        register(name=name, school=school, actor=actor, sequence=sequence)
    records = filtered_records(scope_for(cast.bureau_registrar), StudentFilter())
    for per_page in (1, 2, 3, 4, 7, 10):
        plain, by_school = Paginator(records, per_page), SchoolPaginator(records, per_page)
        assert (by_school.count, by_school.num_pages) == (plain.count, plain.num_pages)
        for number in plain.page_range:
            assert [r.pk for r in by_school.page(number)] == [r.pk for r in plain.page(number)]
    empty = SchoolPaginator(
        filtered_records(scope_for(cast.bureau_registrar), StudentFilter(q="zzz")), 5
    )
    assert (empty.count, list(empty.get_page(1))) == (0, [])


def test_a_search_pages_exactly_as_a_plain_paginator_in_one_query(cast, register):
    """A search's page and its count come from one query (SearchPaginator): the same rows
    and the same pages as a plain paginator over the whole ordered list."""
    from django.core.paginator import Paginator

    from xueji.students.queries import list_page

    names = ["张一", "张二", "张三", "张四", "张五", "张六", "张七"]
    schools = [cast.school_a1, cast.school_b1, cast.school_c]
    actors = [cast.a1_registrar, cast.b1_registrar, cast.c_registrar]
    for sequence, name in enumerate(names, start=1):
        register(
            name=name,
            school=schools[sequence % 3],
            actor=actors[sequence % 3],
            sequence=sequence,
        )
    wanted = StudentFilter(q="张")
    scope = scope_for(cast.bureau_registrar)
    records = filtered_records(scope, wanted)
    for per_page in (1, 2, 3, 7, 10):
        plain = Paginator(records, per_page)
        for number in plain.page_range:
            page = list_page(scope, wanted, str(number), per_page)
            assert [r.pk for r in page] == [r.pk for r in plain.page(number)]
            assert (page.paginator.count, page.paginator.num_pages) == (7, plain.num_pages)
    # Past the end: the last page, as Django answers; not a number: the first.
    assert [r.pk for r in list_page(scope, wanted, "99", 3)] == [
        r.pk for r in Paginator(records, 3).page(3)
    ]
    assert [r.pk for r in list_page(scope, wanted, "x", 3)] == [
        r.pk for r in Paginator(records, 3).page(1)
    ]
    nobody = StudentFilter(q="zzz")
    empty = list_page(scope, nobody, 1, 5)
    assert (empty.paginator.count, list(empty)) == (0, [])


@pytest.mark.parametrize("status", ["open", "all"])
@pytest.mark.parametrize("query", ["张", "zh", "z", "张二"])
def test_a_name_search_pages_from_the_index_as_from_the_records(cast, register, status, query):
    """A name or pinyin search takes its matches, their openness and their order from the
    search index (search.named_in_order): the same rows and pages as the records say, with
    closed records among them, for the bureau, a school filter, a central school and a
    school, and nothing for a school outside the scope (B1, P2)."""
    from django.core.paginator import Paginator
    from django.test.utils import CaptureQueriesContext

    from xueji.students.queries import NamedPaginator, list_page

    schools = [cast.school_a1, cast.school_b1, cast.school_c]
    actors = [cast.a1_registrar, cast.b1_registrar, cast.c_registrar]
    made = []
    for sequence, name in enumerate(["张一", "张二", "张二丰", "赵四", "张五", "周六"], start=1):
        made.append(
            register(
                name=name,
                school=schools[sequence % 3],
                actor=actors[sequence % 3],
                sequence=sequence,
            )
        )
    StudentRecord.objects.filter(pk__in=[made[1].record.pk, made[3].record.pk]).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 11, 1)
    )
    for user, school in (
        (cast.bureau_registrar, None),
        (cast.bureau_registrar, cast.school_b1.pk),
        (cast.central_a_registrar, None),
        (cast.b1_registrar, None),
        (cast.b1_registrar, cast.school_a1.pk),  # a school outside the scope: nothing
    ):
        wanted = StudentFilter(q=query, status=status, school=school)
        scope = scope_for(user)
        year = this_year(scope)  # as the list view has it before it asks for the page
        records = filtered_records(scope, wanted)
        for per_page in (1, 2, 50):
            plain = Paginator(records, per_page)
            for number in plain.page_range:
                with CaptureQueriesContext(connection) as captured:
                    page = list_page(scope, wanted, number, per_page, year=year)
                    rows, count = [r.pk for r in page], page.paginator.count
                assert rows == [r.pk for r in plain.page(number)]
                assert count == plain.count
                assert isinstance(page.paginator, NamedPaginator)
                # A page and its count in one statement.
                assert len(captured) == 1, [q["sql"] for q in captured]
        # Past the end, before the start, not a number: as Django's paginator answers.
        plain = Paginator(records, 2)
        for asked in ("99", "0", "-1", "x", None, "2.0", 1.5):
            page = list_page(scope, wanted, asked, 2)
            expected = plain.get_page(asked)
            assert [r.pk for r in page] == [r.pk for r in expected], asked
            assert page.number == expected.number, asked


@sqlite_only
def test_a_name_search_reads_its_matches_from_the_index_alone(cast, moved):
    """The matches of a name come from the covering index of the search keys; records,
    students and schools are read by their ids for the page's rows alone (B1)."""
    from django.test.utils import CaptureQueriesContext

    from xueji.students.queries import list_page

    scope = scope_for(cast.bureau_registrar)
    year = this_year(scope)
    with CaptureQueriesContext(connection) as captured:
        assert len(list(list_page(scope, StudentFilter(q="张小"), 1, 50, year=year))) == 1
    assert len(captured) == 1, [q["sql"] for q in captured]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + captured[0]["sql"].replace("%", "%%"))
        shape = "\n".join(row[3] for row in cursor.fetchall())
    assert "COVERING INDEX searchkey_school_key_cover" in shape, shape
    assert not scans_a_big_table(shape), shape
    for table in BIG_TABLES:
        for line in shape.splitlines():
            if table in line:
                # By id; the row's placement this year by its (record, year) key.
                assert "USING INTEGER PRIMARY KEY" in line or (
                    "(record_id=? AND school_year_id=?)" in line
                ), shape
    # The double-registration mark reads the pairs of the page's students by their index.
    pairs = [line for line in shape.splitlines() if " pair " in line]
    assert pairs and all("_id=?)" in line for line in pairs), shape


def test_a_number_search_reads_the_students_rows_in_one_statement(cast, moved):
    """An ID number, national number or provincial number names a student or two: the
    number and the page are one statement (search.numbered_rows; no key query, no school
    year), with the same rows, order and scope as the plain list (B1, B7, P2)."""
    from django.test.utils import CaptureQueriesContext

    from xueji.students.queries import list_page

    provincial = moved.records.get(status=Status.ENROLLED).provincial_number
    for query in (moved.id_number, moved.national_number, provincial, "370828000000000000"):
        for user, status, school in (
            (cast.bureau_registrar, "all", None),
            (cast.bureau_registrar, "open", None),
            (cast.bureau_registrar, "all", cast.school_a1.pk),
            (cast.central_a_registrar, "all", None),
            (cast.b1_registrar, "open", None),
            (cast.b1_registrar, "all", cast.school_a1.pk),  # outside the scope: nothing
        ):
            wanted = StudentFilter(q=query, status=status, school=school)
            scope = scope_for(user)
            year = this_year(scope)  # as the list view has it before it asks for the page
            expected = [r.pk for r in filtered_records(scope, wanted)]
            with CaptureQueriesContext(connection) as captured:
                page = list_page(scope, wanted, 1, 50, year=year)
                rows = [r.pk for r in page]
            assert rows == expected and page.paginator.count == len(expected)
            assert len(captured) == 1, [q["sql"] for q in captured]
    scope = scope_for(cast.c_registrar)
    assert list(list_page(scope, StudentFilter(q=moved.id_number, status="all"), 1, 50)) == []


@pytest.mark.parametrize("query", ["", "张"])
def test_the_list_page_asks_as_many_queries_for_six_rows_as_for_three(
    cast, register, client_for, query
):
    """The list reads only the columns it shows: a column it forgot would be fetched row by
    row, and the queries would grow with the rows."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast.a1_registrar)

    def queries() -> int:
        with CaptureQueriesContext(db) as captured:
            assert client.get("/students/", {"q": query}).status_code == 200
        return len(captured)

    for sequence in (1, 2, 3):
        register(name=f"张{'一二三'[sequence - 1]}", sequence=sequence)
    queries()  # the first request of the minute also moves the session's end
    three = queries()
    for sequence in (4, 5, 6):
        register(name=f"张{'四五六'[sequence - 4]}", sequence=sequence)
    assert queries() == three


def test_a_grade_across_schools_is_counted_from_the_placements_as_from_the_records(cast, register):
    """The bureau's list of a grade counts its rows per school from the placements' copies
    of their record's school and openness: the same counts, pages and rows as counting the
    records themselves, also after a record closes."""
    from xueji.students.queries import SchoolPaginator, list_page, placement_counts

    pupils = [
        ("张一", cast.school_a1, cast.a1_registrar, "1"),
        ("李二", cast.school_b1, cast.b1_registrar, "1"),
        ("王三", cast.school_a1, cast.a1_registrar, "2"),
        ("赵四", cast.school_c, cast.c_registrar, "1"),
        ("钱五", cast.school_b1, cast.b1_registrar, "1"),
    ]
    done = [
        register(name=name, school=school, actor=actor, grade=grade, sequence=sequence)
        for sequence, (name, school, actor, grade) in enumerate(pupils, start=1)
    ]
    StudentRecord.objects.filter(pk=done[4].record.pk).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 11, 1)
    )
    scope = scope_for(cast.bureau_registrar)
    wanted = StudentFilter(grade=1)
    counts = placement_counts(scope, wanted)
    records = filtered_records(scope, wanted)
    assert counts is not None
    assert dict(counts) == dict(
        records.order_by().values_list("school_id").annotate(rows=Count("pk"))
    )
    assert dict(counts) == {cast.school_a1.pk: 1, cast.school_b1.pk: 1, cast.school_c.pk: 1}
    for per_page in (1, 2, 3):
        plain = SchoolPaginator(records, per_page)
        for number in plain.page_range:
            page = list_page(scope, wanted, number, per_page)
            assert [r.pk for r in page] == [r.pk for r in plain.page(number)]
    # A school's own list, a search or another status is counted from the records.
    assert placement_counts(scope_for(cast.a1_registrar), wanted) is None
    assert placement_counts(scope, StudentFilter(grade=1, status="all")) is None


def test_the_search_boxs_fragment_asks_nothing_for_the_layout(cast, register, client_for):
    """The search box's results (htmx) show neither the filters, the navigation nor the
    offline banner: none of their queries is asked; the full page still asks the filters'
    (the banner's answer the session keeps from its first page: test_offline_seed) (B1)."""
    from django.test.utils import CaptureQueriesContext

    register(name="张三", sequence=1)
    client = client_for(cast.bureau_registrar)
    client.get("/students/")  # the first request of the minute also moves the session's end

    def asked(**headers) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/students/", {"q": "张"}, **headers)
        assert response.status_code == 200 and "张三" in response.content.decode()
        return [query["sql"] for query in captured]

    fragment, page = asked(HTTP_HX_REQUEST="true"), asked()
    assert not [sql for sql in fragment + page if "packages_installation" in sql]
    assert len(fragment) == len(page) - 1, (fragment, page)


@sqlite_only
@pytest.mark.parametrize("kind", ["id", "national", "number"])
def test_a_number_search_starts_from_the_number_not_from_the_county(cast, moved, kind):
    """The one statement of a number's search reads the named student's records by the
    student's index and scans no large table (B1)."""
    from django.test.utils import CaptureQueriesContext

    from xueji.students.queries import list_page

    record = moved.records.get(status=Status.ENROLLED)
    query = {
        "id": moved.id_number,
        "national": moved.national_number,
        "number": record.provincial_number,
    }[kind]
    scope = scope_for(cast.bureau_registrar)
    year = this_year(scope)
    with CaptureQueriesContext(connection) as captured:
        page = list_page(scope, StudentFilter(q=query), 1, 50, year=year)
    assert [r.pk for r in page] == [record.pk]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + captured[0]["sql"].replace("%", "%%"))
        shape = "\n".join(row[3] for row in cursor.fetchall())
    assert not scans_a_big_table(shape), shape
    assert "school_id=? AND status=?" not in shape, shape


def test_a_searchs_rows_carry_the_lock_time_as_the_orm_reads_it(cast, moved):
    """The search's own statements (search.named_page, numbered_rows) give the list's rows
    the same values as the ORM's: the lock time as an aware datetime on either database."""
    from django.utils import timezone

    from xueji.students.queries import list_page

    record = moved.records.get(status=Status.ENROLLED)
    locked = timezone.now().replace(microsecond=0)
    StudentRecord.objects.filter(pk=record.pk).update(locked_at=locked)
    scope = scope_for(cast.bureau_registrar)
    for query in ("张小", moved.id_number):
        [row] = [r for r in list_page(scope, StudentFilter(q=query), 1, 50) if r.pk == record.pk]
        assert row.locked_at == locked and row.locked_at.tzinfo is not None
