"""The unit pages (P2, S1, E1) and the bureau's setup of townships, schools and users.

Thin views: rows come from the actor's scope, every change from one service in
`orgs.services`. A page that names an id looks it up in the scope first (404 outside it,
so ids cannot be probed), then asks for the capability (403).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.core.views import form_error
from xueji.orgs import rules, services
from xueji.orgs.forms import (
    PasswordResetForm,
    SchoolFilterForm,
    SchoolForm,
    TownshipForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from xueji.orgs.models import REGISTRAR_ROLES, Unit

PAGE_SIZE = 100
REGISTRAR_ROLE_VALUES = [role.value for role in REGISTRAR_ROLES]
SCHOOL_ORDER = ("parent__ordinal", "parent__name", "ordinal", "name")
USER_ORDER = (
    "unit__kind",
    "unit__parent__ordinal",
    "unit__ordinal",
    "unit__name",
    "role",
    "username",
)


def _next_or(request, default: str) -> str:
    """Where a POST-only action returns: the page it came from, when that is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _with_registrars(units, scope):
    """Each unit with `registrars`: its designated registrar, as a list of at most one."""
    designated = scope.users().filter(is_designated_registrar=True)
    return units.prefetch_related(Prefetch("users", queryset=designated, to_attr="registrars"))


# --- Unit pages --------------------------------------------------------------------------


@login_required
def unit_list(request):
    scope = scope_for(request.user)
    scope.require("units.view")
    form = SchoolFilterForm(request.GET or None, scope=scope)
    schools = form.filter(scope.schools()).select_related("parent").order_by(*SCHOOL_ORDER)
    page = Paginator(_with_registrars(schools, scope), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orgs/unit_list.html",
        {"form": form, "page": page, "may_manage": scope.may("setup.manage")},
    )


def _render_unit(request, scope, unit: Unit):
    users = scope.users().filter(unit=unit).order_by("role", "username")
    schools = (
        scope.schools().filter(parent=unit).order_by("ordinal", "name")
        if unit.is_township
        else None
    )
    central = None
    if schools is not None:
        central = next((school for school in schools if school.is_central), None)
    elif unit.is_school and rules.is_rural_primary(unit):
        central = scope.units().filter(parent_id=unit.parent_id, is_central=True).first()
    return render(
        request,
        "orgs/unit_detail.html",
        {
            "unit": unit,
            "users": users,
            "schools": schools,
            "central": central,
            "rural": rules.is_rural_primary(unit),
            "designated": next((user for user in users if user.is_designated_registrar), None),
            "may_manage": scope.may("setup.manage"),
            "registrar_roles": REGISTRAR_ROLE_VALUES,
        },
    )


@login_required
def unit_detail(request, pk: int):
    scope = scope_for(request.user)
    unit = scope.get_unit(pk)
    scope.require("units.view", unit)
    return _render_unit(request, scope, unit)


@login_required
def my_unit(request):
    scope = scope_for(request.user)
    scope.require("units.view")
    return _render_unit(request, scope, scope.get_unit(scope.unit.pk))


# --- Setup of townships and schools ------------------------------------------------------


@login_required
def setup_units(request):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    townships = list(scope.townships().order_by("ordinal", "name"))
    schools = _with_registrars(scope.schools().order_by(*SCHOOL_ORDER), scope)
    by_township: dict[int, list[Unit]] = {township.pk: [] for township in townships}
    for school in schools:
        by_township.setdefault(school.parent_id, []).append(school)
    for township in townships:
        township.schools = by_township[township.pk]
        township.central = next((s for s in township.schools if s.is_central), None)
    return render(request, "orgs/setup_units.html", {"townships": townships})


def _form_page(request, form, *, title: str, cancel_url: str, intro: str = ""):
    return render(
        request,
        "orgs/form.html",
        {"form": form, "title": title, "cancel_url": cancel_url, "intro": intro},
    )


def _get_kind(scope, pk: int, kind: str) -> Unit:
    unit = scope.get_unit(pk)
    if unit.kind != kind:
        raise Http404(_("No such unit in your scope."))
    return unit


@login_required
def township_new(request):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    form = TownshipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            township = services.do_create_township(
                actor=request.user, bureau=scope.unit, **form.cleaned_data
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("%(unit)s has been created.") % {"unit": township.name})
            return redirect("setup_units")
    return _form_page(request, form, title=_("New township"), cancel_url=reverse("setup_units"))


@login_required
def township_edit(request, pk: int):
    scope = scope_for(request.user)
    township = _get_kind(scope, pk, Unit.Kind.TOWNSHIP)
    scope.require("setup.manage", township)
    initial = {field: getattr(township, field) for field in TownshipForm.base_fields}
    form = TownshipForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_update_township(township, actor=request.user, **form.cleaned_data)
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("%(unit)s has been saved.") % {"unit": township.name})
            return redirect("setup_units")
    return _form_page(
        request,
        form,
        title=_("Edit township %(unit)s") % {"unit": township.name},
        cancel_url=reverse("setup_units"),
    )


@login_required
def school_new(request):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    initial = {"has_printer": True, "parent": request.GET.get("township")}
    form = SchoolForm(request.POST or None, initial=initial, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            school = services.do_create_school(
                actor=request.user, township=data.pop("parent"), **data
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("%(unit)s has been created.") % {"unit": school.name})
            return redirect("unit_detail", pk=school.pk)
    return _form_page(request, form, title=_("New school"), cancel_url=reverse("setup_units"))


@login_required
def school_edit(request, pk: int):
    scope = scope_for(request.user)
    school = _get_kind(scope, pk, Unit.Kind.SCHOOL)
    scope.require("setup.manage", school)
    initial = {field: getattr(school, field) for field in SchoolForm.base_fields}
    form = SchoolForm(request.POST or None, initial=initial, scope=scope)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_update_school(school, actor=request.user, **form.cleaned_data)
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("%(unit)s has been saved.") % {"unit": school.name})
            return redirect("unit_detail", pk=school.pk)
    return _form_page(
        request,
        form,
        title=_("Edit school %(unit)s") % {"unit": school.name},
        cancel_url=reverse("unit_detail", args=[school.pk]),
    )


def _set_active(request, pk: int, active: bool):
    scope = scope_for(request.user)
    unit = scope.get_unit(pk)
    scope.require("setup.manage", unit)
    try:
        services.do_set_unit_active(unit, active, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        text = _("%(unit)s has been reopened.") if active else _("%(unit)s has been closed.")
        messages.success(request, text % {"unit": unit.name})
    return redirect(_next_or(request, reverse("unit_detail", args=[unit.pk])))


@login_required
@require_POST
def unit_close(request, pk: int):
    return _set_active(request, pk, False)


@login_required
@require_POST
def unit_reopen(request, pk: int):
    return _set_active(request, pk, True)


# --- Users -------------------------------------------------------------------------------


@login_required
def user_list(request):
    scope = scope_for(request.user)
    scope.require("setup.manage")
    form = UserFilterForm(request.GET or None, scope=scope)
    users = form.filter(scope.users()).order_by(*USER_ORDER)
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orgs/user_list.html",
        {"form": form, "page": page, "registrar_roles": REGISTRAR_ROLE_VALUES},
    )


@login_required
def user_new(request):
    scope = scope_for(request.user)
    unit = scope.get_unit(request.GET["unit"]) if request.GET.get("unit", "").isdigit() else None
    scope.require("setup.manage", unit)
    if unit is not None and unit.is_township:
        unit = None  # a township has no users of its own: offer every unit instead
    form = UserCreateForm(request.POST or None, scope=scope, unit=unit)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.do_create_user(
                actor=request.user,
                unit=data["unit"],
                username=data["username"],
                password=data["password"],
                role=data["role"],
                full_name=data["full_name"],
                phone=data["phone"],
                designated=data["is_designated_registrar"],
            )
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "The account %(username)s has been created; "
                    "it must change its password at the first login."
                )
                % {"username": user.username},
            )
            return redirect("unit_detail", pk=user.unit_id) if unit else redirect("user_list")
    cancel = reverse("unit_detail", args=[unit.pk]) if unit else reverse("user_list")
    title = _("New user of %(unit)s") % {"unit": unit.name} if unit else _("New user")
    return _form_page(request, form, title=title, cancel_url=cancel)


@login_required
def user_edit(request, pk: int):
    scope = scope_for(request.user)
    user = scope.get_user(pk)
    scope.require("setup.manage", user.unit)
    fields = ("full_name", "role", "phone", "unit", "is_active", "is_designated_registrar")
    form = UserEditForm(
        request.POST or None, initial={f: getattr(user, f) for f in fields}, scope=scope
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.do_update_user(user, actor=request.user, **form.cleaned_data)
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(request, _("%(user)s has been saved.") % {"user": user.display_name})
            return redirect("unit_detail", pk=form.cleaned_data["unit"].pk)
    return render(request, "orgs/user_edit.html", {"form": form, "account": user})


@login_required
def user_password(request, pk: int):
    scope = scope_for(request.user)
    user = scope.get_user(pk)
    scope.require("setup.manage", user.unit)
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_reset_password(user, form.cleaned_data["password"], actor=request.user)
        except RuleViolation as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("The password of %(user)s has been reset; it must be changed at the next login.")
                % {"user": user.display_name},
            )
            return redirect("user_edit", pk=user.pk)
    return _form_page(
        request,
        form,
        title=_("New password for %(user)s") % {"user": user.display_name},
        cancel_url=reverse("user_edit", args=[user.pk]),
        intro=_(
            "Give the new password to the user in person; it must be changed at the next login."
        ),
    )


@login_required
@require_POST
def user_designate(request, pk: int):
    scope = scope_for(request.user)
    user = scope.get_user(pk)
    scope.require("setup.manage", user.unit)
    try:
        services.do_designate_registrar(user, actor=request.user)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(user)s is now the designated registrar of %(unit)s.")
            % {"user": user.display_name, "unit": str(user.unit)},
        )
    return redirect(_next_or(request, reverse("unit_detail", args=[user.unit_id])))
