"""P3: the bureau keeps the school calendar; every change is audited."""

import datetime

from xueji.audit.models import AuditEvent
from xueji.core.models import CalendarDay, SchoolYear


def test_the_bureau_opens_a_school_year_with_its_semesters(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = client.post(
        "/setup/calendar/years/new/",
        {
            "start_year": 2026,
            "autumn_start": "2026-09-01",
            "spring_start": "2027-02-22",
            "entry_age": 6,
            "entry_age_cutoff": "2026-08-31",
            "approval_weekday": 2,
            "review_days": 14,
            "junior_numbers_days": 7,
            "change_report_days": 21,
            "step_limit_working_days": 10,
        },
    )
    assert response.status_code == 302
    year = SchoolYear.objects.get(county=cast.county, start_year=2026)
    assert {s.term: s.start_date for s in year.semesters.all()} == {
        "autumn": datetime.date(2026, 9, 1),
        "spring": datetime.date(2027, 2, 22),
    }
    event = AuditEvent.objects.get(action="calendar.year_opened")
    assert event.actor == cast.bureau_registrar


def test_a_spring_start_before_the_autumn_start_is_refused_on_its_field(cast, client_for):
    client = client_for(cast.bureau_registrar)
    response = client.post(
        "/setup/calendar/years/new/",
        {
            "start_year": 2026,
            "autumn_start": "2026-09-01",
            "spring_start": "2026-08-01",
            "entry_age": 6,
            "entry_age_cutoff": "2026-08-31",
            "approval_weekday": 2,
            "review_days": 14,
            "junior_numbers_days": 7,
            "change_report_days": 21,
            "step_limit_working_days": 10,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["spring_start"]
    assert not SchoolYear.objects.exists()


def test_the_bureau_enters_a_holiday_and_a_make_up_day(cast, client_for):
    client = client_for(cast.bureau_registrar)
    client.post(
        "/setup/calendar/days/", {"date": "2026-10-01", "kind": "holiday", "name": "国庆节"}
    )
    client.post("/setup/calendar/days/", {"date": "2026-10-10", "kind": "workday", "name": "补班"})
    client.post("/setup/calendar/days/", {"date": "2026-10-12", "kind": "workday", "name": "x"})
    kinds = dict(CalendarDay.objects.values_list("date", "kind"))
    assert kinds == {
        datetime.date(2026, 10, 1): "holiday",
        datetime.date(2026, 10, 10): "workday",
    }


def test_schools_cannot_open_the_calendar(cast, client_for):
    for user in (cast.a1_registrar, cast.central_a_registrar, cast.bureau_leader):
        client = client_for(user)
        assert client.get("/setup/calendar/").status_code == 403
        assert (
            client.post(
                "/setup/calendar/days/", {"date": "2026-10-01", "kind": "holiday"}
            ).status_code
            == 403
        )
    assert not CalendarDay.objects.exists()
