"""The bureau's button for an offline installation (issue 6): "Make an offline seed for
this unit" on the signing keys page. Thin: one service, its refusal as a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.core.errors import RuleViolation
from xueji.core.scope import scope_for
from xueji.packages import offline_services
from xueji.packages.forms import OfflineSeedForm


@login_required
@require_POST
def offline_seed_export(request):
    scope = scope_for(request.user)
    if scope.level != scope.COUNTY or not scope.may("packages.export"):
        raise PermissionDenied(_("Only the bureau registrar makes an offline seed."))
    form = OfflineSeedForm(request.POST, scope=scope)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("key_list")
    unit = form.cleaned_data["unit"]
    try:
        package = offline_services.do_export_students(actor=request.user, unit=unit)
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("key_list")
    messages.success(
        request,
        _(
            "The offline seed of %(unit)s is ready: %(count)d students. Download it, and give "
            "the laptop the bureau's public key file too."
        )
        % {"unit": unit.name, "count": package.counts.get("students", 0)},
    )
    return redirect("package_detail", package.pk)
