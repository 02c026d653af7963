"""C8, P3: the round pages. The bureau sees every school's status by township with the
counts on top and a filter; a central school sees its township's schools; a school sees
its own status and nothing of another school's; the bureau announces, moves and cancels
extra rounds; the dashboard shows the rounds and turns the C8 deadline done; no GET
writes anything."""

import datetime

import pytest
from django.utils import translation

from tests.packages.round_helpers import key_of, open_year, put_package, regular, today
from xueji.audit.models import AuditEvent
from xueji.core.models import Semester
from xueji.packages import round_services
from xueji.packages.models import ChangeRound

DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def extra(cast):
    return round_services.do_announce_round(
        actor=cast.bureau_registrar,
        title="期中异动核查",
        changes_from=today() - 60 * DAY,
        changes_to=today() - DAY,
        due_date=today() + 10 * DAY,
    )


@pytest.fixture
def year(cast):
    return open_year(cast, autumn_start=today() - 30 * DAY)


def get(client, url):
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def listed_school_ids(response) -> set[int]:
    return {
        row["status"].school.pk
        for group in response.context.get("townships") or []
        for row in group["rows"]
    }


def test_the_bureau_sees_every_school_by_township_with_the_counts(cast, client_for, year):
    put_package(cast.school_a1, regular(year), changes=3)
    response = get(client_for(cast.bureau_registrar), f"/rounds/{regular(year).pk}/")
    assert response.status_code == 200
    assert response.context["counts"] == {"reported": 1, "not_yet": 0, "overdue": 4}
    townships = [group["township"].name for group in response.context["townships"]]
    assert sorted(townships) == ["羊山镇", "胡集镇"]
    assert listed_school_ids(response) == {
        cast.central_a.pk,
        cast.school_a1.pk,
        cast.school_c.pk,
        cast.central_b.pk,
        cast.school_b1.pk,
    }
    page = response.content.decode()
    assert "胡集镇第三小学" in page and 'id="round-counts"' in page


def test_the_bureau_filters_the_schools_by_status(cast, client_for, year):
    put_package(cast.school_a1, regular(year))
    client = client_for(cast.bureau_registrar)
    reported = get(client, f"/rounds/{regular(year).pk}/?status=reported")
    assert listed_school_ids(reported) == {cast.school_a1.pk}
    assert reported.context["counts"]["overdue"] == 4  # the counts are of every school
    overdue = get(client, f"/rounds/{regular(year).pk}/?status=overdue")
    assert cast.school_a1.pk not in listed_school_ids(overdue)
    assert len(listed_school_ids(overdue)) == 4


def test_a_central_school_sees_its_townships_schools_only(cast, client_for, extra):
    put_package(cast.school_b1, extra)
    response = get(client_for(cast.central_a_registrar), f"/rounds/{extra.pk}/")
    assert listed_school_ids(response) == {cast.central_a.pk, cast.school_a1.pk}
    assert response.context["own"].school == cast.central_a
    assert "羊山镇第一小学" not in response.content.decode()


def test_a_school_sees_its_own_status_and_nothing_of_another_schools(cast, client_for, extra):
    put_package(cast.school_a1, extra, changes=7)
    response = get(client_for(cast.b1_registrar), f"/rounds/{extra.pk}/")
    assert response.status_code == 200
    assert response.context["own"].school == cast.school_b1
    assert response.context["own"].state == "not_yet"
    assert "townships" not in response.context
    assert "胡集镇第三小学" not in response.content.decode()
    mine = get(client_for(cast.a1_registrar), f"/rounds/{extra.pk}/")
    assert mine.context["own"].state == "reported" and mine.context["own"].changes == 7


def test_a_school_sees_report_now_once_the_range_is_over(cast, client_for, extra):
    key_of(cast.school_a1)
    response = get(client_for(cast.a1_registrar), f"/rounds/{extra.pk}/")
    assert response.context["may_report"]
    assert f'action="/rounds/{extra.pk}/report/"' in response.content.decode()
    leader = get(client_for(cast.a1_leader), f"/rounds/{extra.pk}/")
    assert not leader.context.get("may_report")
    bureau = get(client_for(cast.bureau_registrar), f"/rounds/{extra.pk}/")
    assert "/report/" not in bureau.content.decode()


def test_a_round_of_another_county_is_not_found(cast, client_for, extra):
    from xueji.orgs import services as org_services
    from xueji.orgs.models import Role

    _county, other_bureau = org_services.do_create_county(
        actor=None, division_code="370829", name="嘉祥县", bureau_name="嘉祥县教育局"
    )
    outsider = org_services.do_create_user(
        actor=None,
        unit=other_bureau,
        username="jx-bureau",
        password="x-password-2026",
        role=Role.BUREAU_REGISTRAR,
        designated=True,
        must_change_password=False,
    )
    assert get(client_for(outsider), f"/rounds/{extra.pk}/").status_code == 404
    assert get(client_for(outsider), "/rounds/").context["rows"] == []


def test_the_round_list_shows_the_history_with_counts_for_the_bureau(cast, client_for, year, extra):
    put_package(cast.school_a1, extra)
    response = get(client_for(cast.bureau_registrar), "/rounds/")
    rows = {row["round"].pk: row for row in response.context["rows"]}
    assert set(rows) == {regular(year).pk, regular(year, "spring").pk, extra.pk}
    assert rows[extra.pk]["counts"] == {"reported": 1, "not_yet": 4, "overdue": 0}
    assert rows[regular(year).pk]["counts"]["overdue"] == 5
    assert response.context["may_manage"]


def test_a_school_sees_its_own_status_in_the_round_list(cast, client_for, year):
    put_package(cast.school_a1, regular(year))
    response = get(client_for(cast.a1_registrar), "/rounds/")
    own = {row["round"].pk: row["own"].state for row in response.context["rows"]}
    assert own[regular(year).pk] == "reported"
    assert response.context["watched"] is None
    assert not response.context["may_manage"]


def test_the_bureau_announces_moves_and_cancels_a_round_from_the_pages(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = client.post(
        "/rounds/announce/",
        {
            "title": "寒假前核查",
            "changes_from": (today() - 30 * DAY).isoformat(),
            "changes_to": (today() - DAY).isoformat(),
            "due_date": (today() + 7 * DAY).isoformat(),
        },
    )
    change_round = ChangeRound.objects.get(title="寒假前核查")
    assert response.status_code == 302 and response.url == f"/rounds/{change_round.pk}/"
    client.post(
        f"/rounds/{change_round.pk}/due-date/", {"due_date": (today() + 14 * DAY).isoformat()}
    )
    change_round.refresh_from_db()
    assert change_round.due_date == today() + 14 * DAY
    response = client.post(f"/rounds/{change_round.pk}/cancel/")
    assert response.status_code == 302
    assert not ChangeRound.objects.filter(pk=change_round.pk).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="round.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["round.announced", "round.due_date_changed", "round.cancelled"]


def test_a_refused_announcement_says_why(cast, client_for):
    response = client_for(cast.bureau_registrar).post(
        "/rounds/announce/",
        {
            "title": "x",
            "changes_from": today().isoformat(),
            "changes_to": (today() - 5 * DAY).isoformat(),
            "due_date": (today() + 7 * DAY).isoformat(),
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "the range ends before it starts" in response.content.decode()
    assert not ChangeRound.objects.exists()


def test_a_school_cannot_announce_move_or_cancel(cast, client_for, extra):
    client = client_for(cast.a1_registrar)
    payload = {
        "title": "x",
        "changes_from": "2026-01-01",
        "changes_to": "2026-01-02",
        "due_date": "2099-01-01",
    }
    assert client.post("/rounds/announce/", payload).status_code == 403
    assert (
        client.post(f"/rounds/{extra.pk}/due-date/", {"due_date": "2099-01-01"}).status_code == 403
    )
    assert client.post(f"/rounds/{extra.pk}/cancel/").status_code == 403
    assert ChangeRound.objects.filter(pk=extra.pk, due_date=today() + 10 * DAY).exists()


def test_the_dashboard_shows_the_coming_extra_round_with_its_due_date(cast, client_for, extra):
    response = get(client_for(cast.a1_registrar), "/")
    rows = response.context["rounds"]
    assert [row["round"].pk for row in rows] == [extra.pk]
    assert rows[0]["own"].state == "not_yet"
    page = response.content.decode()
    assert f"/rounds/{extra.pk}/" in page
    assert (today() + 10 * DAY).strftime("%Y-%m-%d") in page
    bureau = get(client_for(cast.bureau_registrar), "/")
    assert bureau.context["rounds"][0]["counts"] == {"reported": 0, "not_yet": 5, "overdue": 0}


def test_the_dashboard_keeps_an_owed_round_and_drops_it_once_reported(cast, client_for, year):
    client = client_for(cast.a1_registrar)
    owed = [row["round"] for row in get(client, "/").context["rounds"]]
    assert regular(year) in owed
    put_package(cast.school_a1, regular(year))
    response = get(client, "/")
    assert regular(year) not in [row["round"] for row in response.context["rounds"]]
    statuses = {s.deadline.key: s for s in response.context["deadlines"]}
    assert statuses["change_report_autumn"].done


def test_no_get_writes_anything(cast, client_for, year, extra):
    """The regular rounds are made when the calendar is saved, never when a page opens."""
    ChangeRound.objects.filter(semester__isnull=False).delete()
    assert Semester.objects.filter(school_year=year).count() == 2
    before = (ChangeRound.objects.count(), AuditEvent.objects.count())
    for user in (cast.bureau_registrar, cast.central_a_registrar, cast.a1_registrar):
        client = client_for(user)
        for url in ("/", "/rounds/", f"/rounds/{extra.pk}/", "/api/v1/rounds"):
            assert get(client, url).status_code == 200, url
        assert client.get(f"/api/v1/rounds/{extra.pk}").status_code == 200
    assert (ChangeRound.objects.count(), AuditEvent.objects.count()) == before


def test_the_navigation_offers_the_rounds_to_everyone_who_sees_changes(cast, client_for):
    for user in (cast.bureau_leader, cast.central_a_registrar, cast.a1_leader):
        assert 'href="/rounds/"' in get(client_for(user), "/").content.decode()
