"""Scope (P2, N2, C3): the bureau sees the county, a central school its township's rural
primary schools, a school itself; roles decide what each may do."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from xueji.core.scope import Scope, scope_for
from xueji.orgs import rules
from xueji.orgs.models import Unit


def names(queryset):
    return set(queryset.values_list("name", flat=True))


def test_the_bureau_sees_every_unit_of_its_county(cast):
    scope = scope_for(cast.bureau_registrar)
    assert scope.level == Scope.COUNTY
    assert names(scope.units()) == names(Unit.objects.filter(county=cast.county))


def test_a_central_school_sees_itself_its_township_and_its_rural_primary_schools(cast):
    scope = scope_for(cast.central_a_registrar)
    assert scope.level == Scope.TOWNSHIP
    assert names(scope.schools()) == {"胡集镇中心小学", "胡集镇第三小学"}
    # The county-direct school of the same township reports to the bureau, not to it.
    assert not scope.can_see(cast.school_c)
    assert not scope.can_see(cast.school_b1)
    assert scope.can_see(cast.township_a)


def test_a_school_sees_only_itself(cast):
    scope = scope_for(cast.a1_registrar)
    assert scope.level == Scope.SCHOOL
    assert names(scope.units()) == {"胡集镇第三小学"}
    assert set(scope.users().values_list("username", flat=True)) == {"a1", "a1-leader"}


def test_a_school_cannot_reach_another_townships_school_by_id(cast):
    scope = scope_for(cast.a1_registrar)
    with pytest.raises(Http404):
        scope.get_unit(cast.school_b1.pk)
    with pytest.raises(Http404):
        scope.get_user(cast.b1_registrar.pk)


def test_only_the_bureau_registrar_may_change_the_setup(cast):
    allowed = {
        user.username
        for user in (
            cast.bureau_registrar,
            cast.bureau_leader,
            cast.central_a_registrar,
            cast.a1_registrar,
            cast.a1_leader,
        )
        if scope_for(user).may("setup.manage")
    }
    assert allowed == {"bureau"}
    with pytest.raises(PermissionDenied):
        scope_for(cast.bureau_leader).require("setup.manage")


def test_the_bureau_registrar_may_not_act_on_another_countys_unit(cast):
    from xueji.orgs import services

    _county, other_bureau = services.do_create_county(
        actor=None, division_code="370830", name="嘉祥县", bureau_name="嘉祥县教育局"
    )
    scope = scope_for(cast.bureau_registrar)
    assert not scope.can_see(other_bureau)
    with pytest.raises(PermissionDenied):
        scope.require("setup.manage", other_bureau)


def test_an_anonymous_or_deactivated_user_sees_nothing(cast):
    from django.contrib.auth.models import AnonymousUser

    assert not scope_for(AnonymousUser()).units().exists()
    cast.b1_registrar.is_active = False
    assert not Scope(cast.b1_registrar).units().exists()


def test_the_scope_query_and_the_rural_primary_rule_agree_on_every_school(cast):
    supervised = set(scope_for(cast.central_a_registrar).schools().values_list("pk", flat=True))
    for school in Unit.objects.filter(kind=Unit.Kind.SCHOOL, parent=cast.township_a):
        expected = school.is_central or rules.is_rural_primary(school)
        assert (school.pk in supervised) == expected, school.name


def test_can_see_answers_as_the_units_of_the_scope_for_every_user_and_unit(cast):
    """can_see answers a county's and a school's scope without a query: the same answer
    as units() for every user of the cast and every unit of two counties, a deactivated
    school's registrar included (P2)."""
    from django.contrib.auth.models import AnonymousUser

    from xueji.orgs import services
    from xueji.orgs.models import User

    services.do_create_county(
        actor=None, division_code="370830", name="嘉祥县", bureau_name="嘉祥县教育局"
    )
    Unit.objects.filter(pk=cast.school_c.pk).update(is_active=False)
    users = [*User.objects.select_related("unit__county"), AnonymousUser()]
    units = list(Unit.objects.all())
    for user in users:
        scope = Scope(user)
        visible = set(scope.units().values_list("pk", flat=True))
        for unit in units:
            assert scope.can_see(unit) == (unit.pk in visible), (user, unit)
