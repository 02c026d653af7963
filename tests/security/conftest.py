"""Issue 8's tests reuse the students' fixtures (a school year, registrations), and keep
every file they upload in a folder of their own so "nothing was written" can be seen.
The marked world of tests/security/world.py is built once per test module."""

import pytest
from django.utils import translation

from tests.security.world import World, world_for_module
from tests.students.conftest import register, school_year  # noqa: F401


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    with world_for_module(django_db_blocker, tmp_path_factory.mktemp("world")) as built:
        yield built


@pytest.fixture
def world(module_world, db) -> World:
    """The marked world (tests/security/world.py), shared by the tests of a module; each
    test's writes are rolled back before the next test (see `world_for_module`)."""
    return module_world


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
