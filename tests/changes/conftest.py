"""Change requests reuse the students' fixtures (a school year, registrations)."""

from tests.students.conftest import register, school_year  # noqa: F401
