"""The bureau's setup pages: townships, schools, users (P2, S1, E1)."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from xueji.audit.models import AuditEvent
from xueji.orgs import services
from xueji.orgs.models import Role, Unit, User

NEW_PASSWORD = "Quiet-River-2026"


def school_data(cast, **changes):
    data = {
        "name": "胡集镇第五小学",
        "school_code": "3708280605",
        "parent": cast.township_a.pk,
        "stage": "primary",
        "has_printer": "on",
        "ordinal": "5",
        "address": "胡集镇西街",
        "phone": "0537-8888888",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def user_data(cast, **changes):
    data = {
        "unit": cast.school_a1.pk,
        "role": Role.SCHOOL_REGISTRAR,
        "username": "a1-second",
        "full_name": "李明",
        "phone": "13800000000",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def events(action, actor):
    return AuditEvent.objects.filter(action=action, actor=actor)


# --- Creating through the pages ----------------------------------------------------------


def test_the_bureau_registrar_creates_a_township_through_the_page(cast, client_for):
    client = client_for(cast.bureau_registrar)
    assert client.get(reverse("township_new")).status_code == 200

    response = client.post(
        reverse("township_new"),
        {"name": "鸡黍镇", "division_code": "370828103", "ordinal": "7"},
    )

    assert response.status_code == 302
    township = Unit.objects.get(name="鸡黍镇")
    assert township.kind == Unit.Kind.TOWNSHIP
    assert township.parent == cast.bureau
    assert township.ordinal == 7
    assert (
        events("township.created", cast.bureau_registrar)
        .filter(target_id=str(township.pk))
        .exists()
    )


def test_the_bureau_registrar_creates_a_school_through_the_page(cast, client_for):
    client = client_for(cast.bureau_registrar)
    assert client.get(reverse("school_new"), {"township": cast.township_a.pk}).status_code == 200

    response = client.post(reverse("school_new"), school_data(cast, has_printer=None))

    assert response.status_code == 302
    school = Unit.objects.get(school_code="3708280605")
    assert school.parent == cast.township_a
    assert school.has_printer is False
    assert school.is_central is False
    assert response.url == reverse("unit_detail", args=[school.pk])
    assert events("school.created", cast.bureau_registrar).filter(target_id=str(school.pk)).exists()


def test_the_bureau_registrar_creates_a_user_through_the_page(cast, client_for):
    client = client_for(cast.bureau_registrar)
    assert client.get(reverse("user_new")).status_code == 200
    assert client.get(reverse("user_new"), {"unit": cast.school_a1.pk}).status_code == 200

    response = client.post(reverse("user_new"), user_data(cast))

    assert response.status_code == 302
    user = User.objects.get(username="a1-second")
    assert user.unit == cast.school_a1
    assert user.role == Role.SCHOOL_REGISTRAR
    assert user.check_password(NEW_PASSWORD)
    assert user.must_change_password is True
    assert user.is_designated_registrar is False
    assert events("user.created", cast.bureau_registrar).filter(target_id=str(user.pk)).exists()


def test_a_new_user_needs_the_same_password_twice(cast, client_for):
    response = client_for(cast.bureau_registrar).post(
        reverse("user_new"), user_data(cast, password_again="Other-River-2026")
    )

    assert response.status_code == 200
    assert "password_again" in response.context["form"].errors
    assert not User.objects.filter(username="a1-second").exists()


def test_a_role_that_does_not_fit_the_unit_is_refused_on_the_role_field(cast, client_for):
    response = client_for(cast.bureau_registrar).post(
        reverse("user_new"), user_data(cast, role=Role.CENTRAL_REGISTRAR)
    )

    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(username="a1-second").exists()


def test_a_user_opened_from_a_unit_page_is_offered_only_the_roles_of_that_unit(cast, client_for):
    response = client_for(cast.bureau_registrar).get(
        reverse("user_new"), {"unit": cast.central_a.pk}
    )

    roles = [value for value, _label in response.context["form"].fields["role"].choices]
    assert roles == [Role.CENTRAL_REGISTRAR, Role.SCHOOL_LEADER]


# --- Refusals ----------------------------------------------------------------------------


def test_a_second_central_school_for_a_township_is_refused_on_the_central_field(cast, client_for):
    response = client_for(cast.bureau_registrar).post(
        reverse("school_new"), school_data(cast, is_central="on")
    )

    assert response.status_code == 200
    errors = response.context["form"].errors["is_central"]
    with translation.override("zh-hans"):
        expected = gettext(
            "Central school: %(township)s already has %(other)s as its central school."
        ) % {"township": "胡集镇", "other": "胡集镇中心小学"}
    assert errors == [expected]
    assert not Unit.objects.filter(school_code="3708280605").exists()
    assert not AuditEvent.objects.filter(action="school.created", actor=cast.bureau_registrar)


def test_a_duplicate_school_code_is_refused_naming_the_other_school(cast, client_for):
    response = client_for(cast.bureau_registrar).post(
        reverse("school_new"), school_data(cast, school_code=cast.school_a1.school_code)
    )

    assert response.status_code == 200
    [error] = response.context["form"].errors["school_code"]
    assert cast.school_a1.name in error
    assert not Unit.objects.filter(name="胡集镇第五小学").exists()


def test_a_school_edit_moves_nothing_when_it_is_refused(cast, client_for):
    client = client_for(cast.bureau_registrar)
    url = reverse("school_edit", args=[cast.school_a1.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url, school_data(cast, name=cast.school_a1.name, school_code=cast.school_b1.school_code)
    )

    assert response.status_code == 200
    assert cast.school_b1.name in response.context["form"].errors["school_code"][0]
    cast.school_a1.refresh_from_db()
    assert cast.school_a1.school_code == "3708280604"


def test_the_bureau_registrar_edits_a_school_and_a_township(cast, client_for):
    client = client_for(cast.bureau_registrar)
    data = school_data(
        cast,
        name=cast.school_a1.name,
        school_code=cast.school_a1.school_code,
        ordinal="4",
        has_printer="on",
    )

    assert client.post(reverse("school_edit", args=[cast.school_a1.pk]), data).status_code == 302
    response = client.post(
        reverse("township_edit", args=[cast.township_a.pk]),
        {"name": "胡集镇", "division_code": "370828102", "ordinal": "8"},
    )

    assert response.status_code == 302
    cast.school_a1.refresh_from_db()
    cast.township_a.refresh_from_db()
    assert cast.school_a1.has_printer is True
    assert cast.township_a.ordinal == 8
    assert events("school.updated", cast.bureau_registrar).exists()
    assert events("township.updated", cast.bureau_registrar).exists()


# --- Closing and reopening ---------------------------------------------------------------


def test_the_bureau_registrar_closes_and_reopens_a_school_by_post_only(cast, client_for):
    school = services.do_create_school(
        actor=None,
        township=cast.township_b,
        name="羊山镇第二小学",
        school_code="3708280503",
        stage="primary",
    )
    client = client_for(cast.bureau_registrar)
    close_url = reverse("unit_close", args=[school.pk])

    assert client.get(close_url).status_code == 405
    assert client.post(close_url).status_code == 302
    school.refresh_from_db()
    assert school.is_active is False
    assert client.post(reverse("unit_reopen", args=[school.pk])).status_code == 302
    school.refresh_from_db()
    assert school.is_active is True
    assert events("unit.closed", cast.bureau_registrar).exists()
    assert events("unit.reopened", cast.bureau_registrar).exists()


def test_a_school_with_active_users_is_not_closed(cast, client_for):
    response = client_for(cast.bureau_registrar).post(
        reverse("unit_close", args=[cast.school_a1.pk])
    )

    assert response.status_code == 302
    cast.school_a1.refresh_from_db()
    assert cast.school_a1.is_active is True


# --- Users -------------------------------------------------------------------------------


def test_designating_a_new_registrar_relieves_the_old_one(cast, client_for):
    successor = services.do_create_user(
        actor=None,
        unit=cast.school_a1,
        username="a1-successor",
        password=NEW_PASSWORD,
        role=Role.SCHOOL_REGISTRAR,
    )
    client = client_for(cast.bureau_registrar)
    url = reverse("user_designate", args=[successor.pk])

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302

    successor.refresh_from_db()
    cast.a1_registrar.refresh_from_db()
    assert successor.is_designated_registrar is True
    assert cast.a1_registrar.is_designated_registrar is False
    assert (
        events("user.registrar_relieved", cast.bureau_registrar)
        .filter(target_id=str(cast.a1_registrar.pk))
        .exists()
    )


def test_a_user_created_as_designated_registrar_relieves_the_old_one(cast, client_for):
    response = client_for(cast.bureau_registrar).post(
        reverse("user_new"), user_data(cast, is_designated_registrar="on")
    )

    assert response.status_code == 302
    cast.a1_registrar.refresh_from_db()
    assert User.objects.get(username="a1-second").is_designated_registrar is True
    assert cast.a1_registrar.is_designated_registrar is False


def test_the_bureau_registrar_edits_a_user(cast, client_for):
    client = client_for(cast.bureau_registrar)
    url = reverse("user_edit", args=[cast.a1_leader.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "full_name": "王芳",
            "unit": cast.school_a1.pk,
            "role": Role.SCHOOL_LEADER,
            "phone": "13900000000",
        },
    )

    assert response.status_code == 302
    cast.a1_leader.refresh_from_db()
    assert cast.a1_leader.full_name == "王芳"
    assert cast.a1_leader.is_active is False
    assert events("user.updated", cast.bureau_registrar).exists()


def test_the_bureau_registrar_resets_a_password(cast, client_for):
    client = client_for(cast.bureau_registrar)
    url = reverse("user_password", args=[cast.b1_registrar.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})

    assert response.status_code == 302
    cast.b1_registrar.refresh_from_db()
    assert cast.b1_registrar.check_password(NEW_PASSWORD)
    assert cast.b1_registrar.must_change_password is True
    assert events("user.password_reset", cast.bureau_registrar).exists()


def test_a_weak_password_is_refused_on_the_password_field(cast, client_for):
    response = client_for(cast.bureau_registrar).post(
        reverse("user_password", args=[cast.b1_registrar.pk]),
        {"password": "12345678", "password_again": "12345678"},
    )

    assert response.status_code == 200
    assert "password" in response.context["form"].errors
    cast.b1_registrar.refresh_from_db()
    assert cast.b1_registrar.must_change_password is False


def test_the_user_list_filters_by_role_and_designation(cast, client_for):
    response = client_for(cast.bureau_registrar).get(
        reverse("user_list"), {"role": Role.SCHOOL_REGISTRAR, "designated": "yes"}
    )

    assert response.status_code == 200
    names = {user.username for user in response.context["page"]}
    assert names == {"a1", "b1", "c"}


def test_the_user_list_filters_by_unit(cast, client_for):
    response = client_for(cast.bureau_registrar).get(
        reverse("user_list"), {"unit": cast.school_a1.pk, "active": "yes"}
    )

    assert {user.username for user in response.context["page"]} == {"a1", "a1-leader"}


# --- Who may ------------------------------------------------------------------------------


def setup_pages(cast):
    """Every setup page a school registrar could reach inside its own scope."""
    return [
        ("get", reverse("setup_units")),
        ("get", reverse("township_new")),
        ("post", reverse("township_new")),
        ("get", reverse("school_new")),
        ("post", reverse("school_new")),
        ("get", reverse("school_edit", args=[cast.school_a1.pk])),
        ("post", reverse("school_edit", args=[cast.school_a1.pk])),
        ("post", reverse("unit_close", args=[cast.school_a1.pk])),
        ("post", reverse("unit_reopen", args=[cast.school_a1.pk])),
        ("get", reverse("user_list")),
        ("get", reverse("user_new")),
        ("post", reverse("user_new")),
        ("get", reverse("user_edit", args=[cast.a1_leader.pk])),
        ("post", reverse("user_edit", args=[cast.a1_leader.pk])),
        ("get", reverse("user_password", args=[cast.a1_leader.pk])),
        ("post", reverse("user_password", args=[cast.a1_leader.pk])),
        ("post", reverse("user_designate", args=[cast.a1_leader.pk])),
    ]


def test_a_school_registrar_cannot_open_any_setup_page(cast, client_for):
    client = client_for(cast.a1_registrar)
    before = AuditEvent.objects.count()

    for method, url in setup_pages(cast):
        assert getattr(client, method)(url).status_code == 403, (method, url)

    assert AuditEvent.objects.count() == before


def test_a_school_registrar_gets_404_for_ids_outside_its_scope(cast, client_for):
    client = client_for(cast.a1_registrar)

    assert client.get(reverse("unit_detail", args=[cast.school_b1.pk])).status_code == 404
    assert client.get(reverse("user_edit", args=[cast.b1_registrar.pk])).status_code == 404
    assert client.post(reverse("user_designate", args=[cast.b1_registrar.pk])).status_code == 404
    assert client.get(reverse("township_edit", args=[cast.township_b.pk])).status_code == 404


@pytest.mark.parametrize(
    "url_name, kind",
    [("township_edit", "school_a1"), ("school_edit", "township_a")],
)
def test_an_edit_page_of_the_wrong_kind_of_unit_is_not_found(cast, client_for, url_name, kind):
    url = reverse(url_name, args=[getattr(cast, kind).pk])

    assert client_for(cast.bureau_registrar).get(url).status_code == 404


def test_the_bureau_leader_can_view_but_not_edit(cast, client_for):
    client = client_for(cast.bureau_leader)
    before = AuditEvent.objects.count()

    assert client.get(reverse("unit_list")).status_code == 200
    assert client.get(reverse("unit_detail", args=[cast.school_a1.pk])).status_code == 200
    assert client.get(reverse("setup_units")).status_code == 403
    assert client.post(reverse("township_new"), {"name": "鸡黍镇"}).status_code == 403
    assert client.post(reverse("school_new"), school_data(cast)).status_code == 403
    school_edit = reverse("school_edit", args=[cast.school_a1.pk])
    assert client.post(school_edit, school_data(cast)).status_code == 403
    assert client.post(reverse("unit_close", args=[cast.school_c.pk])).status_code == 403
    assert client.post(reverse("user_new"), user_data(cast)).status_code == 403
    designate = reverse("user_designate", args=[cast.a1_leader.pk])
    assert client.post(designate).status_code == 403
    password = reverse("user_password", args=[cast.a1_registrar.pk])
    assert client.post(password, {"password": NEW_PASSWORD}).status_code == 403

    assert AuditEvent.objects.count() == before
    assert not Unit.objects.filter(name__in=["鸡黍镇", "胡集镇第五小学"]).exists()
