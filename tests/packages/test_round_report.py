"""C8, B6: a networked school reports in a round with one click (page, API or command
line): the export service makes its signed change package of the round's range, the
school shows as reported, and the semester's C8 deadline turns done."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from tests.students.conftest import register, school_year  # noqa: F401
from xueji.audit.models import AuditEvent
from xueji.changes import services as change_services
from xueji.changes.models import Kind
from xueji.core import calendar
from xueji.packages import key_services, round_services, rounds
from xueji.packages.models import ChangeRound, Package

DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.XUEJI_KEY_DIR = tmp_path / "keys"


@pytest.fixture
def a1_key(cast):
    return key_services.do_generate_key(actor=cast.a1_registrar)


@pytest.fixture
def extra(cast):
    return round_services.do_announce_round(
        actor=cast.bureau_registrar,
        title="期中异动核查",
        changes_from=calendar.today() - 30 * DAY,
        changes_to=calendar.today() - DAY,
        due_date=calendar.today() + 10 * DAY,
    )


@pytest.fixture
def suspension(cast, register):  # noqa: F811
    """A change of a1 inside the extra round's range, and one after it."""
    inside = change_services.do_create_request(
        register().record,
        Kind.SUSPENSION,
        actor=cast.a1_registrar,
        reason="sick",
        effective_date=calendar.today() - 2 * DAY,
    )
    change_services.do_create_request(
        register(sequence=2, name="李小红").record,
        Kind.SUSPENSION,
        actor=cast.a1_registrar,
        reason="sick",
        effective_date=calendar.today(),
    )
    return inside


def test_report_now_makes_the_schools_package_of_the_rounds_range(
    cast, client_for, a1_key, extra, suspension
):
    client = client_for(cast.a1_registrar)
    response = client.post(f"/rounds/{extra.pk}/report/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    package = Package.objects.get(round=extra)
    assert (package.unit, package.direction, package.key) == (
        cast.school_a1,
        Package.Direction.EXPORT,
        a1_key,
    )
    assert package.selection["schools"] == [cast.school_a1.school_code]
    assert package.selection["from"] == extra.changes_from.isoformat()
    assert package.selection["to"] == extra.changes_to.isoformat()
    assert package.counts["changes"] == 1  # the change after the range waits for the next
    with translation.override("en"):
        assert "a package of 1 change." in response.content.decode()
    assert response.context["own"].state == rounds.REPORTED
    assert AuditEvent.objects.filter(action="package.exported", actor=cast.a1_registrar).exists()
    bureau = client_for(cast.bureau_registrar).get(f"/rounds/{extra.pk}/")
    assert bureau.context["counts"]["reported"] == 1


def test_reporting_in_the_regular_round_turns_the_c8_deadline_done(
    cast,
    client_for,
    a1_key,
    school_year,  # noqa: F811
):
    autumn = ChangeRound.objects.get(semester__school_year=school_year, semester__term="autumn")
    round_services.do_report_round(autumn, cast.school_a1, actor=cast.a1_registrar)
    response = client_for(cast.a1_registrar).get("/")
    statuses = {s.deadline.key: s for s in response.context["deadlines"]}
    assert statuses["change_report_autumn"].done
    other = client_for(cast.b1_registrar).get("/")
    assert not {s.deadline.key: s for s in other.context["deadlines"]}["change_report_autumn"].done


def test_a_school_without_a_key_is_told_how_to_get_one(cast, client_for, extra):
    response = client_for(cast.a1_registrar).get(f"/rounds/{extra.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert not response.context["may_report"]
    assert "signing key" in response.context["report_problem"]
    client_for(cast.a1_registrar).post(f"/rounds/{extra.pk}/report/")
    assert not Package.objects.exists()


def test_the_api_reports_and_shows_the_status_scoped(cast, client_for, a1_key, extra):
    client = client_for(cast.a1_registrar)
    answer = client.post(f"/api/v1/rounds/{extra.pk}/report")
    assert answer.status_code == 200, answer.content
    assert answer.json()["round_id"] == extra.pk
    detail = client.get(f"/api/v1/rounds/{extra.pk}").json()
    assert [s["school_id"] for s in detail["statuses"]] == [cast.school_a1.pk]
    assert detail["statuses"][0]["state"] == "reported"
    # Another school may not report for a1, nor see its status.
    b1 = client_for(cast.b1_registrar)
    assert b1.post(f"/api/v1/rounds/{extra.pk}/report").status_code == 400  # b1 has no key
    assert [s["school_id"] for s in b1.get(f"/api/v1/rounds/{extra.pk}").json()["statuses"]] == [
        cast.school_b1.pk
    ]
    assert Package.objects.filter(round=extra).count() == 1


def test_the_command_line_reports_as_the_named_user(cast, a1_key, extra):
    out = io.StringIO()
    call_command("rounds", "report", str(extra.pk), "--user", "a1", stdout=out)
    assert "package #1" in out.getvalue()
    assert rounds.has_reported(extra, cast.school_a1)
    with pytest.raises(CommandError):
        call_command("rounds", "report", str(extra.pk), "--user", "bureau", stdout=io.StringIO())
