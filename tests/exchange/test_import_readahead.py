"""Issue 9, B2: a large file is read and validated by a second process while the importing
one writes (exchange/readahead.py). The import reports, writes and refuses exactly as
when the file is read in the process itself, and the second process never outlives it."""

import datetime
import io
import multiprocessing
import os
import re
import signal
import threading
import zipfile

import pytest
from django.utils import translation

from tests.exchange.helpers import many_rows, workbook_bytes
from tests.students.conftest import raw_student
from xueji.audit.models import AuditEvent
from xueji.core.errors import RuleViolation
from xueji.exchange import excel, readahead
from xueji.exchange.services import import_students
from xueji.orgs import services as org_services
from xueji.orgs.models import Stage
from xueji.students.bulk import CHUNK
from xueji.students.models import Student
from xueji.students.validation import StudentValidator

pytestmark = pytest.mark.django_db

ROWS = 1200  # three batches through the pipe, the last one short


@pytest.fixture(scope="module")
def mixed_rows() -> list[dict]:
    """Valid rows, rows with warnings and rows with errors, spread over the batches."""
    rows = many_rows(ROWS)
    rows[3]["birth_date"] = "2019-02-30"  # an error
    rows[BATCH_EDGE]["phone"] = "12345"  # an error in the second batch
    rows[700]["hukou_code"] = "370899101"  # a warning: a county not in the table
    rows[-1]["sex"] = "7"  # an error in the last, short batch
    return rows


BATCH_EDGE = readahead.BATCH  # the first row of the second batch (0-based)


@pytest.fixture
def import_file(run_import, settings):
    """run_import with the file read ahead by a second process, or in process."""

    def run(data: bytes, *, ahead: bool, **options):
        settings.XUEJI_IMPORT_READ_AHEAD_ROWS = 1 if ahead else 10**9
        return run_import(data, **options)

    return run


def _read_ahead(sheet):
    """The sheet's rows as a second process reads and validates them."""
    return readahead.validated_rows(
        sheet, StudentValidator(today=datetime.date(2026, 9, 1)), ahead=True
    )


def _no_children_left() -> bool:
    return multiprocessing.active_children() == []


def test_a_file_read_ahead_is_reported_as_one_read_in_process(import_file, mixed_rows):
    data = workbook_bytes(mixed_rows)
    here = import_file(data, ahead=False, dry_run=True)
    ahead = import_file(data, ahead=True, dry_run=True)
    assert _no_children_left()
    assert here.errors and here.warnings
    assert (ahead.read, ahead.refused, ahead.would_import) == (ROWS, 3, 0)
    assert ahead.errors == here.errors  # the same rows, items and English messages
    assert ahead.warnings == here.warnings
    assert ahead.summary == here.summary


def test_valid_rows_read_ahead_are_written_with_their_audit_events(import_file, mixed_rows):
    data = workbook_bytes(mixed_rows)
    report = import_file(data, ahead=True, valid_only=True)
    assert _no_children_left()
    assert (report.imported, report.refused) == (ROWS - 3, 3)
    assert Student.objects.count() == ROWS - 3
    assert AuditEvent.objects.filter(action="student.registered").count() == ROWS - 3
    written = set(Student.objects.values_list("id_number", flat=True))
    refused = {mixed_rows[index]["id_number"] for index in (3, BATCH_EDGE, ROWS - 1)}
    assert not written & refused


def test_one_bad_row_read_ahead_writes_nothing(import_file, mixed_rows):
    report = import_file(workbook_bytes(mixed_rows), ahead=True)
    assert (report.imported, report.refused) == (0, 3)
    assert Student.objects.count() == 0
    assert report.error_workbook is not None


def _damage_row(data: bytes, row: int) -> bytes:
    """The workbook with row `row`'s first cell a number that is no number, as a file
    corrupted half way would be."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(
                    rb'(<row r="%d"><c r="A%d") t="inlineStr"><is><t>[^<]*</t></is>' % (row, row),
                    rb"\g<1>><v>not a number</v>",
                    content,
                )
            target.writestr(info, content)
    return out.getvalue()


def test_a_file_damaged_half_way_is_refused_the_same_way_when_read_ahead(import_file):
    data = _damage_row(workbook_bytes(many_rows(ROWS)), row=900)
    messages = []
    for ahead in (False, True):
        with pytest.raises(RuleViolation) as refused:
            import_file(data, ahead=ahead)
        messages.append((refused.value.field, str(refused.value)))
    assert _no_children_left()
    assert messages[0] == messages[1]
    assert messages[0][0] == "file" and "cannot be read" in messages[0][1]
    assert Student.objects.count() == 0


def test_the_reading_process_is_stopped_when_the_import_stops_early():
    rows = _read_ahead(excel.read_sheet(workbook_bytes(many_rows(ROWS))))
    first = next(rows)
    assert first[0] == 2 and not first[2]
    assert len(multiprocessing.active_children()) == 1  # reading ahead, blocked on the pipe
    rows.close()  # as when registering a round raised
    assert _no_children_left()


def test_a_failure_in_the_reading_process_reaches_the_import_with_its_traceback():
    def broken_rows():  # the rows below the header, (row number, cells)
        yield 2, ["张三"]
        raise OSError("the disk went away")

    with pytest.raises(RuntimeError) as failed:
        list(_read_ahead(excel.Sheet(["姓名"], {"name": 0}, 5, broken_rows)))
    assert "OSError: the disk went away" in str(failed.value)
    assert _no_children_left()


def test_a_reading_process_killed_midway_fails_the_import_instead_of_ending_it_early():
    def rows_until_killed():  # as the kernel's out-of-memory killer would end it
        yield 2, ["张三"]
        os.kill(os.getpid(), signal.SIGKILL)
        yield 3, ["李四"]

    with pytest.raises(RuntimeError) as failed:
        list(_read_ahead(excel.Sheet(["姓名"], {"name": 0}, 5, rows_until_killed)))
    assert "stopped unexpectedly (exit -9)" in str(failed.value)
    assert _no_children_left()


def test_an_import_refused_mid_way_stops_its_reading_process_at_once(cast, school_year, settings):
    # A closed school: the file is refused at its first round, while the child is still
    # reading (more rows than a round, the queue and the pipe hold), and the refusal is
    # still referenced (by pytest.raises) when the test looks.
    closed = org_services.do_create_school(
        actor=None,
        township=cast.township_a,
        name="胡集镇旧小学",
        school_code="3708280699",
        stage=Stage.PRIMARY,
    )
    closed = org_services.do_set_unit_active(closed, False, actor=None)
    count = CHUNK + (readahead.QUEUED_BATCHES + 4) * readahead.BATCH
    settings.XUEJI_IMPORT_READ_AHEAD_ROWS = 1
    with pytest.raises(RuleViolation) as refused:
        import_students(
            workbook_bytes(many_rows(count)),
            "students.xlsx",
            actor=cast.bureau_registrar,
            school=closed,
            school_year=school_year,
        )
    assert refused.value.field == "school"
    assert _no_children_left()
    assert threading.active_count() == 1  # the receiving thread too


def test_large_files_are_read_ahead_only_where_a_fork_is_safe(settings):
    settings.XUEJI_IMPORT_READ_AHEAD_ROWS = 100
    assert readahead._may_read_ahead(100)
    assert not readahead._may_read_ahead(99)
    # Another thread running: a fork would copy only this one, so the rows are read here.
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not readahead._may_read_ahead(100)
    finally:
        release.set()
        other.join()


def test_rows_read_ahead_keep_the_language_of_the_import():
    row = raw_student(birth_date="2019-02-30")
    sheet = excel.read_sheet(workbook_bytes([row]))
    with translation.override("zh-hans"):
        chinese = list(_read_ahead(sheet))
    ((_number, _values, errors, _warnings),) = chinese
    assert errors[0][0] == "birth_date"
    assert re.search(r"[\u4e00-\u9fff]", errors[0][1])  # the message is in Chinese
