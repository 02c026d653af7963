"""P2, S1: what must never happen is refused by the database itself, not only by code."""

import pytest
from django.db import IntegrityError, transaction

from xueji.orgs.models import Role, Stage, Unit, User


def test_a_unit_cannot_have_two_designated_registrars(cast):
    second = User(
        username="second",
        unit=cast.school_a1,
        role=Role.SCHOOL_REGISTRAR,
        is_designated_registrar=True,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_leader_cannot_be_the_designated_registrar(cast):
    cast.a1_leader.is_designated_registrar = True
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=cast.a1_leader.pk).update(is_designated_registrar=True)


def test_a_township_cannot_have_two_central_schools(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(
            county=cast.county,
            kind=Unit.Kind.SCHOOL,
            parent=cast.township_a,
            name="胡集镇第二中心小学",
            school_code="3708280699",
            stage=Stage.PRIMARY,
            is_central=True,
        )


def test_a_county_has_one_bureau(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(county=cast.county, kind=Unit.Kind.BUREAU, name="第二教育局")


def test_a_school_code_is_unique_across_counties(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(
            county=cast.county,
            kind=Unit.Kind.SCHOOL,
            parent=cast.township_b,
            name="重复代码小学",
            school_code=cast.school_a1.school_code,
            stage=Stage.PRIMARY,
        )


def test_a_school_must_lie_in_a_township_and_have_a_stage(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(
            county=cast.county, kind=Unit.Kind.SCHOOL, name="无乡镇小学", school_code="3708289999"
        )


def test_a_county_direct_school_cannot_be_central(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.filter(pk=cast.central_a.pk).update(county_direct=True)


def test_a_user_with_a_role_belongs_to_a_unit(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="nobody", role=Role.SCHOOL_REGISTRAR)
