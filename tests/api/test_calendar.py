"""The calendar through the API (P3): school years, special days, deadlines, sessions."""

import datetime

from django.utils import timezone

from xueji.audit.models import AuditEvent
from xueji.core.models import CalendarDay, SchoolYear


def current_start_year() -> int:
    today = timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


def year_payload(start_year: int, **overrides) -> dict:
    payload = {
        "autumn_start": f"{start_year}-09-01",
        "spring_start": f"{start_year + 1}-02-20",
    }
    return payload | overrides


def put_year(client, start_year: int, **overrides):
    return client.put(
        f"/api/v1/school-years/{start_year}",
        year_payload(start_year, **overrides),
        content_type="application/json",
    )


def test_opening_a_school_year_then_changing_it_is_audited(cast, client_for):
    client = client_for(cast.bureau_registrar)
    opened = put_year(client, 2026)
    assert opened.status_code == 200, opened.content
    assert opened.json()["autumn_start"] == "2026-09-01"
    assert opened.json()["review_days"] == 14
    changed = put_year(client, 2026, review_days=10, approval_weekday=3)
    assert changed.status_code == 200, changed.content
    year = SchoolYear.objects.get(county=cast.county, start_year=2026)
    assert (year.review_days, year.approval_weekday) == (10, 3)
    actions = list(
        AuditEvent.objects.filter(action__startswith="calendar.year")
        .order_by("seq")
        .values_list("action", "actor")
    )
    registrar = cast.bureau_registrar.pk
    assert actions == [("calendar.year_opened", registrar), ("calendar.year_changed", registrar)]


def test_a_spring_start_before_autumn_answers_400_on_the_field(cast, client_for):
    response = put_year(client_for(cast.bureau_registrar), 2026, spring_start="2026-08-01")
    assert response.status_code == 400
    assert response.json()["field"] == "spring_start"
    assert not SchoolYear.objects.exists()


def test_only_the_bureau_registrar_changes_the_calendar_but_everyone_reads_it(cast, client_for):
    put_year(client_for(cast.bureau_registrar), 2026)
    client = client_for(cast.a1_registrar)
    assert put_year(client, 2026, review_days=3).status_code == 403
    day = {"date": "2026-10-01", "kind": "holiday"}
    assert (
        client.post("/api/v1/calendar-days", day, content_type="application/json").status_code
        == 403
    )
    years = client.get("/api/v1/school-years")
    assert years.status_code == 200
    assert [year["start_year"] for year in years.json()] == [2026]
    assert years.json()[0]["review_days"] == 14


def test_special_days_are_set_listed_and_removed(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = client.post(
        "/api/v1/calendar-days",
        {"date": "2026-10-10", "kind": "workday", "name": "国庆调休"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    day_id = response.json()["id"]
    weekday = client.post(
        "/api/v1/calendar-days",
        {"date": "2026-10-12", "kind": "workday"},
        content_type="application/json",
    )
    assert weekday.status_code == 400
    assert weekday.json()["field"] == "date"
    listed = client.get("/api/v1/calendar-days", {"date_from": "2026-10-01"}).json()
    assert [(d["date"], d["kind"]) for d in listed] == [("2026-10-10", "workday")]
    assert client.get("/api/v1/calendar-days", {"date_to": "2026-09-30"}).json() == []

    assert client.delete(f"/api/v1/calendar-days/{day_id}").status_code == 204
    assert not CalendarDay.objects.exists()
    assert client.delete(f"/api/v1/calendar-days/{day_id}").status_code == 404
    removed = AuditEvent.objects.get(action="calendar.day_removed")
    assert removed.actor == cast.bureau_registrar


def test_deadlines_name_the_due_date_days_left_and_overdue(cast, client_for):
    start_year = current_start_year()
    put_year(client_for(cast.bureau_registrar), start_year)
    response = client_for(cast.a1_registrar).get("/api/v1/deadlines")
    assert response.status_code == 200
    deadlines = response.json()
    today = timezone.localdate()
    keys = {deadline["key"] for deadline in deadlines}
    assert {"primary_review", "change_report_autumn", "change_report_spring"} <= keys
    assert "junior_numbers" not in keys  # a primary school owes no junior intake
    for deadline in deadlines:
        due = datetime.date.fromisoformat(deadline["due"])
        assert deadline["days_left"] == (due - today).days
        assert deadline["overdue"] == (deadline["days_left"] < 0)


def test_deadlines_and_the_next_session_are_empty_before_any_school_year(cast, client_for):
    client = client_for(cast.a1_registrar)
    assert client.get("/api/v1/deadlines").json() == []
    assert client.get("/api/v1/next-session").json() == {"date": None, "school_year": None}


def test_the_next_session_falls_on_the_configured_weekday(cast, client_for):
    start_year = current_start_year()
    put_year(client_for(cast.bureau_registrar), start_year)
    body = client_for(cast.c_registrar).get("/api/v1/next-session").json()
    session = datetime.date.fromisoformat(body["date"])
    assert session.weekday() == 2  # Wednesday, the default
    assert 0 <= (session - timezone.localdate()).days < 14
    assert str(start_year) in body["school_year"]
