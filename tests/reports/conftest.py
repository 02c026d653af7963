"""Printed forms reuse the students' fixtures (a school year, registrations)."""

import pytest

from tests.students.conftest import register, school_year  # noqa: F401
from xueji.students import services as student_services


@pytest.fixture
def pupil(cast, register):  # noqa: F811
    """A pupil of A1 (胡集镇第三小学, rural, no printer), grade 1 class 1, numbered."""
    done = register()
    student_services.do_assign_numbers(done.record, actor=cast.a1_registrar)
    done.record.refresh_from_db()
    done.student.refresh_from_db()
    return done


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Photos and the bulk jobs' PDFs go to a directory of the test's own.
    settings.MEDIA_ROOT = tmp_path / "media"
