"""The units overview (S1, E1, C8, C9): units without a designated registrar, schools
without a printer, units without a filed change-management plan, and schools late in the
reporting round; counts and lists for the bureau and its leader only."""

import datetime

import pytest
from django.urls import reverse

from tests.changes.test_plans import PDF
from tests.packages.round_helpers import put_package, regular
from xueji.changes import services as change_services
from xueji.orgs import services as org_services
from xueji.packages.models import ChangeRound

from .helpers import tables_of

API = "/api/v1/stats/units-overview"
PAGE = "/overview/"


def names(table) -> set[str]:
    return {row[0] for row in table["rows"]}


def test_units_without_a_designated_registrar_are_listed(cast, client_for, english):
    org_services.do_update_user(
        cast.b1_registrar, actor=cast.bureau_registrar, is_designated_registrar=False
    )

    found = tables_of(client_for(cast.bureau_registrar), API)
    assert names(found["without-registrar"]) == {cast.school_b1.name}
    assert names(found["without-printer"]) == {cast.school_a1.name}


def test_units_without_a_plan_are_listed_until_they_file_one(cast, client_for, english):
    change_services.do_file_plan(cast.school_c, PDF, actor=cast.c_registrar)

    found = tables_of(client_for(cast.bureau_registrar), API)["without-plan"]
    assert cast.school_c.name not in names(found)
    assert {cast.bureau.name, cast.school_a1.name, cast.school_b1.name} <= names(found)
    assert cast.township_a.name not in names(found)  # a township files nothing


def test_schools_without_a_package_after_the_due_date_are_late(
    cast, client_for, english, school_year
):
    autumn = regular(school_year, "autumn")
    assert autumn.due_date < datetime.date.today()
    put_package(cast.central_a, autumn)

    late = tables_of(client_for(cast.bureau_registrar), API)["late-in-round"]
    assert names(late) == {
        cast.school_a1.name,
        cast.school_b1.name,
        cast.school_c.name,
        cast.central_b.name,
    }
    days = (datetime.date.today() - autumn.due_date).days
    assert {row[2] for row in late["rows"]} == {days}
    assert {ref["round_id"] for ref in late["refs"]} == {autumn.pk}


def test_an_earlier_round_is_chosen_by_its_id(cast, client_for, english, school_year):
    earlier = ChangeRound.objects.create(
        county=cast.county,
        title="2026年春季补报",
        changes_from=datetime.date(2026, 3, 1),
        changes_to=datetime.date(2026, 4, 30),
        due_date=datetime.date(2026, 5, 15),
    )
    for school in (cast.central_a, cast.central_b, cast.school_b1, cast.school_c):
        put_package(school, earlier)

    late = tables_of(client_for(cast.bureau_registrar), API, round_id=earlier.pk)["late-in-round"]
    assert names(late) == {cast.school_a1.name}
    assert "2026年春季补报" in late["title"]
    page = client_for(cast.bureau_registrar).get(PAGE, {"round": earlier.pk})
    assert f'<option value="{earlier.pk}" selected>' in page.text


def test_without_a_past_round_no_school_is_late(cast, client_for, english):
    late = tables_of(client_for(cast.bureau_registrar), API)["late-in-round"]
    assert late["rows"] == []
    assert "no reporting round has passed its due date" in late["note"]


def test_the_overview_page_shows_counts_and_lists_for_the_bureau_and_its_leader(
    cast, client_for, english, school_year
):
    for user in (cast.bureau_registrar, cast.bureau_leader):
        page = client_for(user).get(PAGE)
        assert page.status_code == 200
        assert [table.key for table in page.context["listing"]] == [
            "without-registrar",
            "without-printer",
            "without-plan",
            "late-in-round",
        ]
        assert 'id="without-plan"' in page.text and 'href="#late-in-round"' in page.text
        assert reverse("unit_detail", args=[cast.school_a1.pk]) in page.text
        assert page.text.count("<table") == page.text.count('<div class="table-wrap">')


@pytest.mark.parametrize("member", ["central_a_registrar", "a1_registrar", "a1_leader"])
def test_the_overview_is_the_bureaus(cast, client_for, member):
    client = client_for(getattr(cast, member))
    assert client.get(PAGE).status_code == 403
    assert client.get(API).status_code == 403
    assert client.get("/statistics/export/without-plan.xlsx").status_code == 403
