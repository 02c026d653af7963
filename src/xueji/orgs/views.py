"""Placeholder views replaced by the setup pages (being written)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from xueji.core.scope import scope_for


@login_required
def unit_list(request):
    scope = scope_for(request.user)
    scope.require("units.view")
    return render(request, "orgs/unit_list.html", {"units": scope.schools()})


@login_required
def my_unit(request):
    return unit_detail(request, scope_for(request.user).unit.pk)


@login_required
def unit_detail(request, pk):
    scope = scope_for(request.user)
    scope.require("units.view")
    return render(request, "orgs/unit_detail.html", {"unit": scope.get_unit(pk)})


@login_required
def setup_units(request):
    scope_for(request.user).require("setup.manage")
    return render(request, "orgs/unit_list.html", {"units": scope_for(request.user).units()})


@login_required
def user_list(request):
    scope_for(request.user).require("setup.manage")
    return render(request, "orgs/unit_list.html", {"units": []})
