"""The unit list and unit pages every role reads (P2, S1, E1)."""

import re

import pytest
from django.urls import reverse

from xueji.orgs import services
from xueji.orgs.models import User


def listed(response) -> set[str]:
    return {unit.name for unit in response.context["page"]}


def test_a_central_school_registrar_sees_only_the_schools_of_its_township(cast, client_for):
    response = client_for(cast.central_a_registrar).get(reverse("unit_list"))

    assert response.status_code == 200
    names = listed(response)
    assert cast.school_a1.name in names
    assert cast.central_a.name in names
    assert cast.school_b1.name not in names
    assert cast.school_c.name not in names  # county-direct: the bureau supervises it


def test_a_school_registrar_sees_only_its_own_school(cast, client_for):
    response = client_for(cast.a1_registrar).get(reverse("unit_list"))

    assert listed(response) == {cast.school_a1.name}


def test_the_bureau_sees_every_school_of_the_county(cast, client_for):
    response = client_for(cast.bureau_leader).get(reverse("unit_list"))

    assert listed(response) == {
        cast.central_a.name,
        cast.school_a1.name,
        cast.school_c.name,
        cast.central_b.name,
        cast.school_b1.name,
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"has_printer": "no"}, {"school_a1"}),
        ({"county_direct": "yes"}, {"school_c"}),
        ({"township": "township_b"}, {"central_b", "school_b1"}),
        ({"q": "3708280604"}, {"school_a1"}),
        ({"q": "羊山"}, {"central_b", "school_b1"}),
        ({"stage": "junior"}, set()),
        ({"active": "no"}, set()),
    ],
)
def test_the_school_list_filters(cast, client_for, query, expected):
    query = {
        key: getattr(cast, value).pk if key == "township" else value for key, value in query.items()
    }

    response = client_for(cast.bureau_registrar).get(reverse("unit_list"), query)

    assert response.status_code == 200
    assert listed(response) == {getattr(cast, name).name for name in expected}


def test_the_school_list_shows_which_schools_lack_a_designated_registrar(cast, client_for):
    services.do_update_user(cast.b1_registrar, actor=None, is_designated_registrar=False)

    response = client_for(cast.bureau_registrar).get(reverse("unit_list"))

    registrars = {unit.name: unit.registrars for unit in response.context["page"]}
    assert registrars[cast.school_b1.name] == []
    assert registrars[cast.school_a1.name] == [cast.a1_registrar]
    assert 'class="tag bad"' in response.text


def test_the_unit_page_shows_the_unit_and_its_users(cast, client_for):
    response = client_for(cast.central_a_registrar).get(
        reverse("unit_detail", args=[cast.school_a1.pk])
    )

    assert response.status_code == 200
    assert response.context["unit"] == cast.school_a1
    assert set(response.context["users"]) == {cast.a1_registrar, cast.a1_leader}
    assert response.context["designated"] == cast.a1_registrar
    assert response.context["central"] == cast.central_a
    assert reverse("school_edit", args=[cast.school_a1.pk]) not in response.text
    assert reverse("unit_close", args=[cast.school_a1.pk]) not in response.text


def test_the_bureau_registrar_finds_the_setup_actions_on_the_unit_page(cast, client_for):
    response = client_for(cast.bureau_registrar).get(
        reverse("unit_detail", args=[cast.school_a1.pk])
    )

    assert reverse("school_edit", args=[cast.school_a1.pk]) in response.text
    assert reverse("unit_close", args=[cast.school_a1.pk]) in response.text
    assert f"{reverse('user_new')}?unit={cast.school_a1.pk}" in response.text
    assert reverse("user_edit", args=[cast.a1_leader.pk]) in response.text


def test_a_township_page_lists_its_schools(cast, client_for):
    response = client_for(cast.bureau_leader).get(reverse("unit_detail", args=[cast.township_a.pk]))

    assert response.status_code == 200
    assert set(response.context["schools"]) == {cast.central_a, cast.school_a1, cast.school_c}
    assert response.context["central"] == cast.central_a


def test_my_unit_shows_the_users_own_unit(cast, client_for):
    response = client_for(cast.a1_leader).get(reverse("my_unit"))

    assert response.status_code == 200
    assert response.context["unit"] == cast.school_a1


def test_a_school_registrar_cannot_open_another_schools_page(cast, client_for):
    client = client_for(cast.a1_registrar)

    assert client.get(reverse("unit_detail", args=[cast.school_b1.pk])).status_code == 404
    assert client.get(reverse("unit_detail", args=[cast.school_c.pk])).status_code == 404
    assert client.get(reverse("unit_detail", args=[cast.bureau.pk])).status_code == 404


def test_a_central_school_registrar_cannot_open_a_county_direct_schools_page(cast, client_for):
    response = client_for(cast.central_a_registrar).get(
        reverse("unit_detail", args=[cast.school_c.pk])
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("unit_list", []),
        ("unit_detail", ["school_a1"]),
        ("unit_detail", ["township_a"]),
        ("unit_detail", ["bureau"]),
        ("setup_units", []),
        ("school_new", []),
        ("school_edit", ["school_a1"]),
        ("township_edit", ["township_a"]),
        ("user_list", []),
        ("user_new", []),
        ("user_edit", ["a1_registrar"]),
        ("user_password", ["a1_registrar"]),
    ],
)
def test_the_pages_carry_no_inline_script_or_style(cast, client_for, url_name, args):
    url = reverse(url_name, args=[getattr(cast, name).pk for name in args])

    response = client_for(cast.bureau_registrar).get(url)

    assert response.status_code == 200
    assert "style=" not in response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert response.text.count("<table") == response.text.count('<div class="table-wrap">')


def test_a_user_without_a_unit_or_role_gets_403(cast, client_for):
    nobody = User.objects.create_user(username="nobody", password="x-" * 8)

    assert client_for(nobody).get(reverse("unit_list")).status_code == 403
    assert client_for(nobody).get(reverse("my_unit")).status_code == 403


def test_a_filter_outside_the_scope_is_ignored_not_obeyed(cast, client_for):
    response = client_for(cast.central_a_registrar).get(
        reverse("unit_list"), {"township": cast.township_b.pk}
    )

    assert response.status_code == 200
    assert listed(response) == {cast.central_a.name, cast.school_a1.name}
