"""C8 in the demo county: every semester's regular round, the bureau's extra round and a
few late reports, loaded once however often the demo runs."""

import pytest

from xueji.core import calendar
from xueji.core.demo import load_demo_county
from xueji.packages import rounds
from xueji.packages.demo_rounds import EXTRA_TITLE, REPORTERS
from xueji.packages.models import ChangeRound, Package


@pytest.fixture(autouse=True)
def files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.XUEJI_KEY_DIR = tmp_path / "keys"


def test_the_demo_has_its_rounds_and_some_reports_once(db):
    load_demo_county(students=0)
    regular = ChangeRound.objects.filter(semester__isnull=False)
    assert regular.count() == 4  # two school years, two semesters each
    extra = ChangeRound.objects.get(semester__isnull=True, title=EXTRA_TITLE)
    current = regular.filter(packages__isnull=False).distinct().get()
    statuses = rounds.school_statuses(current, rounds.owing_schools(current.county))
    reported = [s for s in statuses.values() if s.state == rounds.REPORTED]
    assert len(reported) == len(REPORTERS)
    # The demo's calendar is fixed: its current semester's round is late from late September.
    if current.due_date < calendar.today():
        assert all(s.late for s in reported)
        assert rounds.state_counts(statuses.values())["overdue"] == len(statuses) - len(REPORTERS)
    assert extra.due_date > extra.changes_to
    packages = Package.objects.count()
    load_demo_county(students=0)
    assert Package.objects.count() == packages
    assert ChangeRound.objects.count() == 5
