"""Issue 6 in the demo county: the bureau's key and the reporting schools' keys are
registered, and 马庙镇中心小学's offline laptop has sent a package the bureau imported:
one change reconciled, one unknown entered as submitted; loaded once however often the
demo runs."""

import pytest

from xueji.changes.models import ChangeRequest, State
from xueji.core.demo import load_demo_county
from xueji.packages.demo_packages import OFFLINE_SCHOOL
from xueji.packages.models import Package, PackageChange, SigningKey


@pytest.fixture(autouse=True)
def files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.XUEJI_KEY_DIR = tmp_path / "keys"


def test_the_demo_shows_an_offline_units_package_with_real_verdicts_once(db):
    load_demo_county(students=600)
    bureau_key = SigningKey.objects.get(unit__kind="bureau", revoked_at__isnull=True)
    assert bureau_key.is_registered and bureau_key.can_sign
    assert SigningKey.objects.filter(registered_at__isnull=False).count() >= 5
    seed = Package.objects.get(content=Package.Content.STUDENTS)
    assert seed.selection["unit_name"] == OFFLINE_SCHOOL and seed.counts["students"] > 0
    imported = Package.objects.get(direction=Package.Direction.IMPORT, unit__name=OFFLINE_SCHOOL)
    assert not imported.key.private_file  # the laptop's key: only its public half is here
    verdicts = dict(imported.changes.values_list("verdict", "request__state"))
    assert verdicts == {
        PackageChange.Verdict.RECONCILED: State.RECORDED,
        PackageChange.Verdict.UNKNOWN: State.SUBMITTED,
    }
    entered = imported.changes.get(verdict=PackageChange.Verdict.UNKNOWN).request
    assert entered.session is not None and entered.steps.filter(action="imported").exists()
    counts = (Package.objects.count(), ChangeRequest.objects.count())
    load_demo_county(students=600)
    assert (Package.objects.count(), ChangeRequest.objects.count()) == counts
