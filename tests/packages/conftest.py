"""Change packages reuse the students' fixtures; every test gets its own key directory."""

import pytest

from tests.students.conftest import register, school_year  # noqa: F401


@pytest.fixture(autouse=True)
def _key_dir(settings, tmp_path):
    # Private keys of one test never meet another's (nor the developer's var/ directory).
    settings.XUEJI_KEY_DIR = tmp_path / "keys"
