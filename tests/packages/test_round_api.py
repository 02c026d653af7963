"""C8 through the API and the command line: the rounds, the statuses as the caller's scope
allows (a school its own, a central school its township's, the bureau every school), and
the bureau's announcing, moving and cancelling of extra rounds."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.packages.round_helpers import open_year, put_package, regular, today
from xueji.audit.models import AuditEvent
from xueji.packages import round_services
from xueji.packages.models import ChangeRound

DAY = datetime.timedelta(days=1)


@pytest.fixture
def extra(cast):
    return round_services.do_announce_round(
        actor=cast.bureau_registrar,
        title="期中异动核查",
        changes_from=today() - 60 * DAY,
        changes_to=today() - DAY,
        due_date=today() + 10 * DAY,
    )


def payload(**overrides) -> dict:
    values = {
        "title": "寒假前核查",
        "changes_from": (today() - 30 * DAY).isoformat(),
        "changes_to": (today() - DAY).isoformat(),
        "due_date": (today() + 7 * DAY).isoformat(),
    }
    return values | overrides


def status_of(answer) -> dict[int, str]:
    return {row["school_id"]: row["state"] for row in answer.json()["statuses"]}


def test_everyone_who_sees_changes_lists_the_rounds(cast, client_for, extra):
    open_year(cast, autumn_start=today() - 30 * DAY)
    for user in (cast.bureau_leader, cast.central_a_registrar, cast.a1_leader):
        answer = client_for(user).get("/api/v1/rounds")
        assert answer.status_code == 200
        kinds = sorted(row["kind"] for row in answer.json())
        assert kinds == ["extra", "regular", "regular"]
    only_open = client_for(cast.a1_registrar).get("/api/v1/rounds?open_only=true").json()
    assert extra.pk in [row["id"] for row in only_open]
    row = next(row for row in only_open if row["id"] == extra.pk)
    assert row["opens_on"] == today().isoformat()
    assert row["title"] == "期中异动核查"


def test_the_statuses_follow_the_callers_scope(cast, client_for, extra):
    put_package(cast.school_a1, extra, changes=3)
    bureau = client_for(cast.bureau_registrar).get(f"/api/v1/rounds/{extra.pk}")
    assert bureau.json()["counts"] == {"reported": 1, "not_yet": 4, "overdue": 0}
    assert len(bureau.json()["statuses"]) == 5
    central = client_for(cast.central_a_registrar).get(f"/api/v1/rounds/{extra.pk}")
    assert status_of(central) == {cast.central_a.pk: "not_yet", cast.school_a1.pk: "reported"}
    b1 = client_for(cast.b1_registrar).get(f"/api/v1/rounds/{extra.pk}")
    assert status_of(b1) == {cast.school_b1.pk: "not_yet"}
    assert b1.json()["counts"] == {"reported": 0, "not_yet": 1, "overdue": 0}
    a1 = client_for(cast.a1_registrar).get(f"/api/v1/rounds/{extra.pk}").json()
    assert a1["statuses"][0]["changes"] == 3 and a1["statuses"][0]["findings"] == 0


def test_the_bureau_filters_the_statuses(cast, client_for):
    year = open_year(cast, autumn_start=today() - 30 * DAY)
    put_package(cast.school_b1, regular(year))
    client = client_for(cast.bureau_registrar)
    overdue = client.get(f"/api/v1/rounds/{regular(year).pk}?status=overdue").json()
    assert cast.school_b1.pk not in [row["school_id"] for row in overdue["statuses"]]
    assert len(overdue["statuses"]) == 4
    assert client.get(f"/api/v1/rounds/{regular(year).pk}?status=late").status_code == 422


def test_an_unknown_round_is_not_found(cast, client_for):
    assert client_for(cast.a1_registrar).get("/api/v1/rounds/999").status_code == 404


def test_the_bureau_announces_moves_and_cancels_through_the_api(cast, client_for):
    client = client_for(cast.bureau_registrar)
    answer = client.post("/api/v1/rounds", payload(), content_type="application/json")
    assert answer.status_code == 200, answer.content
    pk = answer.json()["id"]
    assert answer.json()["kind"] == "extra"
    moved = client.patch(
        f"/api/v1/rounds/{pk}",
        {"due_date": (today() + 20 * DAY).isoformat()},
        content_type="application/json",
    )
    assert moved.json()["due_date"] == (today() + 20 * DAY).isoformat()
    assert client.delete(f"/api/v1/rounds/{pk}").status_code == 204
    assert not ChangeRound.objects.filter(pk=pk).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="round.")
        .order_by("seq")
        .values_list("action", "actor")
    )
    who = cast.bureau_registrar.pk
    assert actions == [
        ("round.announced", who),
        ("round.due_date_changed", who),
        ("round.cancelled", who),
    ]


def test_a_refusal_names_the_field(cast, client_for, extra):
    client = client_for(cast.bureau_registrar)
    answer = client.post(
        "/api/v1/rounds",
        payload(due_date=(today() - 3 * DAY).isoformat()),
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "due_date"
    put_package(cast.school_a1, extra)
    refused = client.delete(f"/api/v1/rounds/{extra.pk}")
    assert refused.status_code == 400
    assert ChangeRound.objects.filter(pk=extra.pk).exists()


def test_a_regular_round_is_moved_by_the_calendar_not_the_api(cast, client_for):
    year = open_year(cast, autumn_start=today() - 30 * DAY)
    answer = client_for(cast.bureau_registrar).patch(
        f"/api/v1/rounds/{regular(year).pk}",
        {"due_date": (today() + 5 * DAY).isoformat()},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "due_date"


@pytest.mark.parametrize("who", ["bureau_leader", "central_a_registrar", "a1_registrar"])
def test_only_the_bureau_registrar_manages_rounds(cast, client_for, extra, who):
    client = client_for(getattr(cast, who))
    assert (
        client.post("/api/v1/rounds", payload(), content_type="application/json").status_code == 403
    )
    assert client.delete(f"/api/v1/rounds/{extra.pk}").status_code == 403
    assert ChangeRound.objects.count() == 1


def test_the_bureau_does_not_report_for_a_school(cast, client_for, extra):
    assert (
        client_for(cast.bureau_registrar).post(f"/api/v1/rounds/{extra.pk}/report").status_code
        == 403
    )
    assert client_for(cast.a1_leader).post(f"/api/v1/rounds/{extra.pk}/report").status_code == 403


# --- the command line ----------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("rounds", *args, stdout=out)
    return out.getvalue()


def test_the_command_line_announces_and_lists_as_the_named_user(cast):
    text = run(
        "announce",
        "--title",
        "寒假前核查",
        "--from",
        (today() - 30 * DAY).isoformat(),
        "--to",
        (today() - DAY).isoformat(),
        "--due",
        (today() + 7 * DAY).isoformat(),
        "--user",
        "bureau",
    )
    change_round = ChangeRound.objects.get(title="寒假前核查")
    assert f"round #{change_round.pk} announced" in text
    assert AuditEvent.objects.get(action="round.announced").actor == cast.bureau_registrar
    listed = run("list", "--user", "a1")
    assert "寒假前核查" in listed and "not yet 1" in listed
    shown = run("show", str(change_round.pk), "--user", "bureau")
    assert "3708280604 胡集镇第三小学: not_yet" in shown


def test_the_command_line_refuses_a_school_announcing(cast):
    with pytest.raises(CommandError):
        run(
            "announce",
            "--title",
            "x",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-02",
            "--due",
            "2099-01-01",
            "--user",
            "a1",
        )
    with pytest.raises(CommandError, match="not a date"):
        run(
            "announce",
            "--title",
            "x",
            "--from",
            "1/1",
            "--to",
            "2026-01-02",
            "--due",
            "2099-01-01",
            "--user",
            "bureau",
        )
    assert not ChangeRound.objects.exists()
