"""P2, S1: the services refuse a wrong county tree with a sentence naming the field."""

import pytest

from xueji.core.errors import RuleViolation
from xueji.orgs import services
from xueji.orgs.models import Role, Stage, User


def refused(call, **kwargs):
    with pytest.raises(RuleViolation) as error:
        call(**kwargs)
    return error.value


def test_a_township_code_outside_the_county_is_refused(cast):
    error = refused(
        services.do_create_township,
        actor=cast.bureau_registrar,
        bureau=cast.bureau,
        name="外县镇",
        division_code="370830101",
    )
    assert error.field == "division_code"


def test_a_school_code_must_have_ten_digits(cast):
    error = refused(
        services.do_create_school,
        actor=cast.bureau_registrar,
        township=cast.township_a,
        name="胡集镇第五小学",
        school_code="37082806",
        stage=Stage.PRIMARY,
    )
    assert error.field == "school_code"


def test_a_junior_school_cannot_be_central(cast):
    error = refused(
        services.do_create_school,
        actor=cast.bureau_registrar,
        township=cast.township_a,
        name="胡集镇中学",
        school_code="3708280610",
        stage=Stage.JUNIOR,
        is_central=True,
    )
    assert error.field == "is_central"


def test_a_second_central_school_names_the_first(cast):
    error = refused(
        services.do_update_school,
        school=cast.school_a1,
        actor=cast.bureau_registrar,
        is_central=True,
    )
    assert error.field == "is_central"
    assert "胡集镇中心小学" in error.message


def test_a_role_must_fit_the_unit(cast):
    error = refused(
        services.do_create_user,
        actor=cast.bureau_registrar,
        unit=cast.school_a1,
        username="wrong-role",
        password="long-enough-password-1",
        role=Role.BUREAU_LEADER,
    )
    assert error.field == "role"
    error = refused(
        services.do_create_user,
        actor=cast.bureau_registrar,
        unit=cast.township_a,
        username="township-user",
        password="long-enough-password-1",
        role=Role.SCHOOL_REGISTRAR,
    )
    assert error.field == "role"


def test_a_login_name_is_unique_regardless_of_case(cast):
    error = refused(
        services.do_create_user,
        actor=cast.bureau_registrar,
        unit=cast.school_a1,
        username="A1",
        password="long-enough-password-1",
        role=Role.SCHOOL_LEADER,
    )
    assert error.field == "username"


def test_designating_a_registrar_relieves_the_previous_one(cast):
    newcomer = services.do_create_user(
        actor=cast.bureau_registrar,
        unit=cast.school_a1,
        username="a1-new",
        password="long-enough-password-1",
        role=Role.SCHOOL_REGISTRAR,
        designated=True,
    )
    assert User.objects.get(unit=cast.school_a1, is_designated_registrar=True) == newcomer
    cast.a1_registrar.refresh_from_db()
    assert not cast.a1_registrar.is_designated_registrar


def test_a_school_with_active_users_cannot_be_closed(cast):
    error = refused(
        services.do_set_unit_active, unit=cast.school_a1, active=False, actor=cast.bureau_registrar
    )
    assert error.field == "is_active"


def test_a_school_registrar_cannot_change_the_setup_through_services(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.do_update_school(cast.school_a1, actor=cast.a1_registrar, has_printer=True)
    with pytest.raises(PermissionDenied):
        services.do_create_user(
            actor=cast.central_a_registrar,
            unit=cast.school_a1,
            username="sneaky",
            password="long-enough-password-1",
            role=Role.SCHOOL_REGISTRAR,
        )
