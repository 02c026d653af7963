"""The students' fixtures (a school year, registrations) for the exchange tests, and the
import as the a1 registrar calls it."""

import pytest
from django.utils import translation

from tests.students.conftest import register, school_year  # noqa: F401
from xueji.exchange.services import import_students


@pytest.fixture
def run_import(cast, school_year):  # noqa: F811 (the fixture above, by name)
    """import_students(data) at school a1 by its registrar, the messages in English."""

    def run(data: bytes, filename: str = "students.xlsx", **options):
        options.setdefault("actor", cast.a1_registrar)
        options.setdefault("school", cast.school_a1)
        with translation.override("en"):
            return import_students(data, filename, school_year=school_year, **options)

    return run
