"""Issue 8's tests reuse the students' fixtures (a school year, registrations), and keep
every file they upload in a folder of their own so "nothing was written" can be seen."""

import pytest
from django.utils import translation

from tests.students.conftest import register, school_year  # noqa: F401


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded files land in an empty folder; returns a function listing what is there."""
    settings.MEDIA_ROOT = tmp_path

    def files() -> list[str]:
        return sorted(
            str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.is_file()
        )

    return files


@pytest.fixture
def english():
    # Assertions read the msgids; the Chinese catalogue is the lead's.
    with translation.override("en"):
        yield
