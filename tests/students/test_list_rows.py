"""B1, N11: every way the student list finds its rows gives each row the same grade and
class of the current school year and the same double-registration mark, read with the
rows (search.LISTED, queries.listed) instead of by two queries of the list view's own."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.students.conftest import id_number
from xueji.core import services as calendar_services
from xueji.core.scope import scope_for
from xueji.students.queries import StudentFilter, list_page, this_year


@pytest.fixture
def pupils(cast, register):
    """张小明 in grade 2 class 3 at school A1, held with a second registration of him at
    school C without an ID number (grade 1 class 1); 张小红 in grade 2 class 3, not held."""
    first = register(grade="2", class_name="3")
    second = register(
        school=cast.school_c,
        actor=cast.c_registrar,
        id_type="Z",
        id_number="",
        **{"family1.id_number": id_number(datetime.date(1980, 1, 1), 5)},
    )
    other = register(name="张小红", sex="2", sequence=2, grade="2", class_name="3")
    assert second.duplicates, "the second registration is held (N11)"
    return first, second, other


# (what is asked, the path that answers it)
WAYS = {
    "the plain list": StudentFilter(),
    "a name, from the search index": StudentFilter(q="张小"),
    "pinyin initials, from the search index": StudentFilter(q="zx", status="all"),
    "a name with a grade, through the records": StudentFilter(q="张小", grade=2),
    "a class, through the records": StudentFilter(grade=2, class_name="3"),
}


@pytest.mark.parametrize("way", list(WAYS))
def test_every_way_of_listing_gives_the_grade_and_the_mark(cast, pupils, way):
    first, second, other = pupils
    scope = scope_for(cast.bureau_registrar)
    rows = {row.pk: row for row in list_page(scope, WAYS[way], 1, 50, year=this_year(scope))}
    assert rows[first.record.pk][-3:] == (2, "3", True)
    assert rows[other.record.pk][-3:] == (2, "3", False)
    if second.record.pk in rows:  # not in a grade 2 list
        assert rows[second.record.pk][-3:] == (1, "1", True)


def test_a_number_names_the_student_with_the_grade_and_the_mark(cast, pupils):
    first, _second, other = pupils
    scope = scope_for(cast.bureau_registrar)
    year = this_year(scope)
    for wanted, record, expected in (
        (StudentFilter(q=first.student.id_number), first.record, (2, "3", True)),
        (StudentFilter(q=other.student.id_number), other.record, (2, "3", False)),
        # With a grade, the same rows through the records (queries.SearchPaginator).
        (StudentFilter(q=first.student.id_number, grade=2), first.record, (2, "3", True)),
    ):
        [row] = list_page(scope, wanted, 1, 50, year=year)
        assert (row.pk, *row[-3:]) == (record.pk, *expected)


def test_a_row_without_a_placement_in_the_year_asked_has_no_grade(cast, pupils):
    """A record placed only in another school year lists no grade in this one (the year
    is the one asked for, not any)."""
    first, _second, _other = pupils
    scope = scope_for(cast.bureau_registrar)
    last_year = calendar_services.do_save_school_year(
        actor=None,
        county=cast.county,
        start_year=2025,
        autumn_start=datetime.date(2025, 9, 1),
        spring_start=datetime.date(2026, 2, 23),
    )
    for wanted in (StudentFilter(q=first.student.id_number), StudentFilter(q="张小明")):
        rows = list_page(scope, wanted, 1, 50, year=last_year)
        row = next(row for row in rows if row.pk == first.record.pk)
        assert row[-3:] == (None, None, True)


def test_the_search_fragment_shows_them_in_the_queries_it_always_asked(cast, pupils, client_for):
    """The search box's fragment: the session, the user, the school year and the page's
    one statement; no query per row, none for placements or marks."""
    client = client_for(cast.bureau_registrar)
    client.cookies["django_language"] = "en"
    client.get("/students/")  # the session is made
    with CaptureQueriesContext(connection) as captured:
        fragment = client.get("/students/", {"q": "张小"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert len(captured) == 4, [query["sql"][:80] for query in captured]
    assert fragment.text.count("possible double registration") == 2
    assert fragment.text.count("Grade 2, class 3") == 2


@pytest.mark.parametrize("way", list(WAYS))
def test_a_decided_pair_marks_nobody(cast, pupils, way):
    """Only a pair waiting for the bureau holds its students: once decided ("not the
    same person"), neither row is marked, on every way of listing, nor the student page."""
    from xueji.students.services import do_decide_duplicate, has_open_duplicate

    first, second, _other = pupils
    do_decide_duplicate(second.duplicates[0], "different", actor=cast.bureau_registrar)
    scope = scope_for(cast.bureau_registrar)
    rows = list_page(scope, WAYS[way], 1, 50, year=this_year(scope))
    assert rows and not any(row.held for row in rows)
    assert not has_open_duplicate(first.student)
