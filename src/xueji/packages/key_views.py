"""The signing keys page (B6): a unit's own key, and for the bureau every key of the county.

Thin views: each action calls one service of key_services; keys come from the scope (a
key outside it is a 404). The private half is never shown or served.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.orgs.models import Unit
from xueji.packages import key_services
from xueji.packages.forms import OfflineSeedForm, PublicKeyForm, ReasonForm
from xueji.packages.models import SigningKey
from xueji.packages.units import unit_code


def _scope(request) -> Scope:
    scope = scope_for(request.user)
    if not (scope.may("packages.export") or scope.may("keys.manage")):
        raise PermissionDenied(_("Your role may not do this."))
    return scope


def _key(scope: Scope, pk: int) -> SigningKey:
    key = scope.signing_keys().filter(pk=pk).first()
    if key is None:
        raise Http404(_("No such key in your scope."))
    return key


def key_state(key: SigningKey) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "registered" if key.registered_at is not None else "pending"


@login_required
def key_list(request):
    scope = _scope(request)
    unit = scope.unit
    own = list(scope.signing_keys().filter(unit=unit).select_related("revoked_by"))
    live = next((key for key in own if key.revoked_at is None), None)
    context = {
        "unit": unit,
        "unit_code": unit_code(unit) if unit else "",
        "live": live,
        "live_state": key_state(live) if live else "",
        "grouped": key_services.grouped(live.fingerprint) if live else "",
        "own_history": [key for key in own if key.revoked_at is not None],
        "may_own": scope.may("packages.export"),
        "reason_form": ReasonForm(),
    }
    if scope.may("keys.manage") and scope.level == scope.COUNTY:
        keys = scope.signing_keys().select_related("unit", "registered_by", "revoked_by")
        rows = [
            {"key": key, "state": key_state(key), "grouped": key_services.grouped(key.fingerprint)}
            for key in keys.order_by("revoked_at", "unit__name", "-created_at")
        ]
        with_live = set(
            keys.filter(revoked_at__isnull=True, registered_at__isnull=False).values_list(
                "unit_id", flat=True
            )
        )
        context.update(
            county_keys=rows,
            pending=sum(1 for row in rows if row["state"] == "pending"),
            without_key=scope.units()
            .filter(kind__in=[Unit.Kind.SCHOOL, Unit.Kind.BUREAU], is_active=True)
            .exclude(pk__in=with_live)
            .order_by("kind", "parent__ordinal", "ordinal", "name"),
            upload_form=PublicKeyForm(),
            seed_form=OfflineSeedForm(scope=scope),
        )
    return render(request, "packages/keys.html", context)


def _done(request, action, success: str):
    try:
        action()
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("key_list")


@login_required
@require_POST
def key_generate(request):
    _scope(request)
    return _done(
        request,
        lambda: key_services.do_generate_key(actor=request.user),
        _(
            "Your unit's key was made. Read its fingerprint to the bureau and bring the public "
            "key file (.pub) if your unit works offline."
        ),
    )


@login_required
@require_POST
def key_replace(request):
    _scope(request)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Reason: say why the key is replaced."))
        return redirect("key_list")
    return _done(
        request,
        lambda: key_services.do_replace_key(actor=request.user, reason=form.cleaned_data["reason"]),
        _("The old key is revoked and a new one made; the bureau registers it before it counts."),
    )


@login_required
@require_POST
def key_register(request, pk: int):
    key = _key(_scope(request), pk)
    return _done(
        request,
        lambda: key_services.do_register_key(key, actor=request.user),
        _("The key of %(unit)s is registered.") % {"unit": key.unit.name},
    )


@login_required
@require_POST
def key_revoke(request, pk: int):
    key = _key(_scope(request), pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Reason: say why the key is revoked."))
        return redirect("key_list")
    return _done(
        request,
        lambda: key_services.do_revoke_key(
            key, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        _("The key of %(unit)s is revoked.") % {"unit": key.unit.name},
    )


@login_required
@require_POST
def key_upload(request):
    _scope(request)
    form = PublicKeyForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("key_list")
    upload = form.cleaned_data["file"]
    data = upload.read(key_services.PUBLIC_MAX_BYTES + 1)
    return _done(
        request,
        lambda: key_services.do_register_public_key(
            data, actor=request.user, fingerprint_read=form.cleaned_data["fingerprint"]
        ),
        _("The public key is registered."),
    )


@login_required
def key_public(request, pk: int):
    """The .pub file of a key: public, but only within the scope like everything else."""
    key = _key(_scope(request), pk)
    response = HttpResponse(
        key_services.public_key_text(key), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{key_services.public_key_filename(key)}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
