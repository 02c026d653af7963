"""The students' fixtures (a school year, registrations) for the exchange tests."""

from tests.students.conftest import register, school_year  # noqa: F401
