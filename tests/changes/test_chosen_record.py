"""The record a new change request is for (C1, P2, issue 9): read by a statement written
once around the ORM's scoped subquery, it must be the record the ORM's queryset gave,
with the same student, school, county and township, and be found for exactly the users
who may start a request for it."""

import datetime

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from tests.equivalence import same_instance
from xueji.changes.views import _chosen_record, _editable_records
from xueji.core.scope import scope_for
from xueji.students.models import Status, StudentRecord


@pytest.fixture
def records(cast, register):
    made = [
        register(name=name, school=school, actor=actor, sequence=sequence).record
        for name, school, actor, sequence in (
            ("王小红", cast.school_a1, cast.a1_registrar, 21),
            ("赵大山", cast.school_b1, cast.b1_registrar, 22),
            ("孙小北", cast.school_c, cast.c_registrar, 23),
            ("钱多多", cast.central_a, cast.central_a_registrar, 24),
        )
    ]
    gone = register(name="李离校", sequence=25).record
    StudentRecord.objects.filter(pk=gone.pk).update(
        status=Status.TRANSFERRED_OUT, exit_date=datetime.date(2026, 10, 1)
    )
    return [*made, gone]


def test_each_user_gets_the_records_the_orm_gives_them_with_what_the_form_reads(
    cast, records, client_for
):
    users = [
        cast.bureau_registrar,
        cast.central_a_registrar,
        cast.central_b_registrar,
        cast.a1_registrar,
        cast.b1_registrar,
        cast.c_registrar,
    ]
    found = 0
    for user in users:
        scope = scope_for(user)
        for record in records:
            expected = (
                _editable_records(scope)
                .select_related("student", "school__county", "school__parent")
                .filter(pk=record.pk)
                .first()
            )
            if expected is None or not scope.can_edit_school(expected.school):
                with pytest.raises(Http404):
                    _chosen_record(scope, str(record.pk))
                continue
            found += 1
            read = _chosen_record(scope, str(record.pk))
            with CaptureQueriesContext(connection) as asked:
                same_instance(read, expected)
                same_instance(read.student, expected.student)
                same_instance(read.school, expected.school)
                same_instance(read.school.county, expected.school.county)
                same_instance(read.school.parent, expected.school.parent)
            assert len(asked) == 0
    assert found >= 4  # each school's own, and the bureau's
    # The form's page answers the same: found, or 404.
    client = client_for(cast.b1_registrar)
    assert client.get(f"/changes/new/?record={records[1].pk}").status_code == 200
    assert client.get(f"/changes/new/?record={records[0].pk}").status_code == 404


def test_a_record_id_out_of_range_or_not_a_number_is_not_found(cast, client_for):
    client = client_for(cast.a1_registrar)
    for wrong in ("99999999999999999999", "12abc", "-3"):
        assert client.get(f"/changes/new/?record={wrong}").status_code == 404
    assert _chosen_record(scope_for(cast.a1_registrar), "") is None
