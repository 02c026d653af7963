"""Statistics tests reuse the students' fixtures (a school year, registrations)."""

import pytest

from tests.students.conftest import register, school_year  # noqa: F401


@pytest.fixture
def english(client):
    """Pages in English, so tests may read their words."""
    client.cookies["django_language"] = "en"
