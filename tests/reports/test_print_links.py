"""The student page's print buttons (B4, B7): read from one query of the student's records
in the scope, they offer exactly what the prints themselves would find (card_record,
open_record and the certificate's rule), for every user and every state of the records."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xueji.core.scope import scope_for
from xueji.reports.papers import certificate
from xueji.reports.print_services import card_record, open_record
from xueji.reports.templatetags.printing import student_links
from xueji.students.models import Status, StudentRecord


def expected_links(user, student) -> list[str]:
    scope = scope_for(user)
    if not scope.may("students.reveal"):
        return []
    links = []
    if card_record(scope, student) is not None:
        links.append("print-record-card")
    if certificate.problem(open_record(scope, student)) is None:
        links.append("print-certificate")
    return links


@pytest.mark.parametrize(
    "now", [Status.ENROLLED, Status.SUSPENDED, Status.PENDING, Status.GRADUATED]
)
def test_the_print_buttons_are_those_the_prints_would_allow(cast, register, now):
    """A student who left a1 (closed record) and is now at b1 in state `now`."""
    first = register(name="张小明")
    StudentRecord.objects.filter(pk=first.record.pk).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 10, 1)
    )
    second = register(name="张小明", school=cast.school_b1, actor=cast.b1_registrar)
    closed = {"exit_date": datetime.date(2026, 11, 1)} if now == Status.GRADUATED else {}
    StudentRecord.objects.filter(pk=second.record.pk).update(status=now, **closed)
    student = second.student
    users = [
        cast.a1_registrar,
        cast.b1_registrar,
        cast.c_registrar,
        cast.central_a_registrar,
        cast.bureau_registrar,
        cast.bureau_leader,
    ]
    for user in users:
        # A fresh user object: the scope is kept on it for the request.
        fresh = type(user).objects.get(pk=user.pk)
        shown = [link.id for link in student_links(fresh, student)]
        assert shown == expected_links(type(user).objects.get(pk=user.pk), student), user
        # The student page passes every record it shows: the same buttons, no query.
        every = list(student.records.select_related("school"))
        fresh = type(user).objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as asked:
            from_page = [link.id for link in student_links(fresh, student, every)]
        assert from_page == shown, user
        # The scope picks from them what its query holds (P2).
        scope = scope_for(type(user).objects.get(pk=user.pk))
        held = set(scope.records().filter(student=student).values_list("pk", flat=True))
        assert {record.pk for record in scope.records_among(every)} == held, user
        assert not [q["sql"] for q in asked if "studentrecord" in q["sql"]], user
