"""P3, S1, E1: each user's dashboard shows their unit's deadlines (overdue in red) and the
bureau's lists units without a designated registrar or a printer."""

import datetime

import pytest
from django.utils import timezone

from xueji.core import services
from xueji.orgs import services as org_services


@pytest.fixture
def open_year(cast):
    today = timezone.localdate()
    # The autumn term started 20 days ago: the N7 and N2 deadlines are past, C8 is 1 day off.
    start = today - datetime.timedelta(days=20)
    return services.do_save_school_year(
        actor=cast.bureau_registrar,
        county=cast.county,
        start_year=start.year,
        autumn_start=start,
        spring_start=start + datetime.timedelta(days=170),
    )


def deadline_items(response):
    from html.parser import HTMLParser

    class Items(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            classes = dict(attrs).get("class", "") or ""
            if tag == "li" and "deadline" in classes.split():
                self.found.append(classes)

    parser = Items()
    parser.feed(response.text)
    return parser.found


def test_a_rural_primary_school_sees_the_review_and_reporting_deadlines(
    cast, client_for, open_year
):
    response = client_for(cast.a1_registrar).get("/")
    keys = [status.deadline.key for status in response.context["deadlines"]]
    assert "primary_review" in keys and "change_report_autumn" in keys
    assert "junior_numbers" not in keys


def test_overdue_deadlines_are_marked_red_and_near_ones_amber(cast, client_for, open_year):
    response = client_for(cast.bureau_registrar).get("/")
    statuses = {s.deadline.key: s for s in response.context["deadlines"]}
    assert statuses["primary_review"].overdue
    assert statuses["junior_numbers"].overdue
    assert statuses["change_report_autumn"].due_soon
    classes = deadline_items(response)
    assert sum("overdue" in c for c in classes) == 2
    assert sum("soon" in c for c in classes) == 1


def test_without_a_school_year_the_dashboard_says_how_to_open_one(cast, client_for):
    response = client_for(cast.a1_registrar).get("/")
    assert response.status_code == 200
    assert response.context["deadlines"] == []


def test_the_bureau_sees_units_without_a_registrar_and_schools_without_a_printer(cast, client_for):
    org_services.do_update_user(
        cast.b1_registrar, actor=cast.bureau_registrar, is_designated_registrar=False
    )
    response = client_for(cast.bureau_registrar).get("/")
    assert [u.name for u in response.context["without_registrar"]] == ["羊山镇第一小学"]
    assert [u.name for u in response.context["without_printer"]] == ["胡集镇第三小学"]


def test_a_school_dashboard_lists_no_other_units(cast, client_for):
    response = client_for(cast.a1_registrar).get("/")
    assert "without_registrar" not in response.context
    assert "羊山镇" not in response.text


def test_the_next_approval_session_is_shown(cast, client_for, open_year):
    response = client_for(cast.a1_registrar).get("/")
    assert response.context["next_session"].weekday() == 2
