from tests.students.conftest import register, school_year  # noqa: F401
