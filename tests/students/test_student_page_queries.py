"""The student page's queries (B7, issue 9): a fixed number, however many records,
placements and numbers the student has, each placement and number shown with its
record's school from the records the page read already."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from xueji.students.models import NumberKind, Placement, Status, StudentNumber, StudentRecord


def _asked(client, student) -> tuple[list[str], str]:
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/students/{student.pk}/")
    assert page.status_code == 200
    return [query["sql"] for query in captured], page.content.decode()


def _moved_to_b1(register, cast):
    """A pupil registered at a1, who left it, and is registered again at b1."""
    first = register(name="张小明")
    StudentRecord.objects.filter(pk=first.record.pk).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 10, 1)
    )
    return register(name="张小明", school=cast.school_b1, actor=cast.b1_registrar)


def test_the_page_asks_as_many_queries_for_two_records_as_for_one(cast, register, client_for):
    one = register(name="李四", sequence=7)
    two = _moved_to_b1(register, cast)
    assert two.student.records.count() == 2
    assert Placement.objects.filter(record__student=two.student).count() == 2
    client = client_for(cast.bureau_registrar)
    client.get(f"/students/{one.student.pk}/")  # the session's first page keeps its banner
    single, _page = _asked(client, one.student)
    double, page = _asked(client, two.student)
    assert len(double) == len(single), (single, double)
    assert len(single) <= 10, single
    # Each placement row names its record's school (a1's and b1's), read without a query.
    assert page.count(cast.school_a1.name) >= 2 and page.count(cast.school_b1.name) >= 2


def test_each_number_shows_the_school_of_its_record(cast, register, client_for):
    moved = _moved_to_b1(register, cast)
    records = {record.school_id: record for record in moved.student.records.all()}
    for value, school in (("G100", cast.school_a1), ("G200", cast.school_b1)):
        StudentNumber.objects.create(
            student=moved.student,
            record=records[school.pk],
            kind=NumberKind.PROVINCIAL,
            value=value,
        )
    client = client_for(cast.bureau_registrar)
    _queries, page = _asked(client, moved.student)
    for value, school in (("G100", cast.school_a1), ("G200", cast.school_b1)):
        row = page[page.index(value) :].split("</tr>", 1)[0]
        assert school.name in row, row
