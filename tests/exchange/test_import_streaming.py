"""B2 at scale: a large file streams through the import in rounds (validated, checked and
written round by round inside one transaction), and still behaves as one whole: one
refused row anywhere writes nothing, and a row repeated far apart refuses both rows."""

import datetime

import pytest

from tests.exchange.helpers import many_rows, workbook_bytes
from xueji.audit.models import AuditEvent
from xueji.students.bulk import CHUNK
from xueji.students.models import Student, StudentRecord

pytestmark = pytest.mark.django_db

# More rows than one round holds: the first round is written before the last is read.
LARGE = CHUNK + 150


@pytest.fixture(autouse=True, params=["read-here", "read-ahead"])
def reading(request, settings):
    """Every test twice: the file read in the importing process, and read and validated
    by a second process while the first writes (exchange/readahead.py)."""
    settings.XUEJI_IMPORT_READ_AHEAD_ROWS = 1 if request.param == "read-ahead" else 10**9


@pytest.fixture(scope="module")
def large_rows() -> list[dict]:
    return many_rows(LARGE)


def test_a_bad_row_at_the_end_of_a_large_file_writes_nothing(run_import, large_rows):
    rows = [dict(row) for row in large_rows]
    rows[-1]["birth_date"] = "2019-02-30"
    report = run_import(workbook_bytes(rows))
    last = LARGE + 1  # the sheet's row: the header is row 1
    assert (report.read, report.imported, report.refused) == (LARGE, 0, 1)
    assert [(number, key) for number, key, _message in report.errors] == [(last, "birth_date")]
    assert Student.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="student").exists()
    assert report.error_workbook is not None


def test_a_row_the_registry_refuses_at_the_end_of_a_large_file_writes_nothing(
    run_import, large_rows, register, cast
):
    rows = [dict(row) for row in large_rows]
    elsewhere = register(
        school=cast.school_b1,
        actor=cast.b1_registrar,
        sequence=377,
        birth=datetime.date(2018, 5, 5),
    )
    rows[-1]["id_number"] = elsewhere.student.id_number
    rows[-1]["birth_date"] = "2018-05-05"
    report = run_import(workbook_bytes(rows))
    assert (report.imported, report.refused) == (0, 1)
    ((number, key, message),) = report.errors
    assert (number, key) == (LARGE + 1, "id_number")
    assert cast.school_b1.name in message
    assert Student.objects.count() == 1  # the one registered before
    assert not AuditEvent.objects.filter(action="students.imported").exists()


def test_rows_are_written_round_by_round_while_the_file_is_still_being_read(run_import, large_rows):
    written_while_reading: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        if 0 < done < total - 1:
            written_while_reading.append((done, StudentRecord.objects.count()))

    report = run_import(workbook_bytes(large_rows), progress=progress)
    assert report.imported == LARGE
    # Before the last rows were read, the first round was in the database already: the
    # import never holds the whole file's rows at once.
    assert any(written > 0 and done < LARGE for done, written in written_while_reading)


def test_valid_only_refuses_both_rows_of_id_numbers_repeated_in_a_later_round(
    run_import, large_rows
):
    rows = [dict(row) for row in large_rows]
    # The first two rows' persons again, far below: both pairs are refused, whole.
    rows[-2] = dict(rows[1], name="王小刚")
    rows[-1] = dict(rows[0], name="李小红")
    report = run_import(workbook_bytes(rows), valid_only=True)
    assert (report.imported, report.refused) == (LARGE - 4, 4)
    assert [(number, key) for number, key, _message in report.errors] == [
        (2, "id_number"),
        (3, "id_number"),
        (LARGE, "id_number"),
        (LARGE + 1, "id_number"),
    ]
    messages = [message for _n, _k, message in report.errors]
    assert f"rows 2 and {LARGE + 1}" in messages[0] and f"rows 3 and {LARGE}" in messages[1]
    assert not Student.objects.filter(
        id_number__in=[rows[0]["id_number"], rows[1]["id_number"]]
    ).exists()
    assert Student.objects.count() == LARGE - 4
    imported = AuditEvent.objects.get(action="students.imported")
    assert (imported.data["created"], imported.data["refused"]) == (LARGE - 4, 4)


def test_a_dry_run_of_a_large_file_writes_nothing_and_counts_every_row(run_import, large_rows):
    report = run_import(workbook_bytes(large_rows), dry_run=True)
    assert (report.would_import, report.imported) == (LARGE, 0)
    assert Student.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="student").exists()
