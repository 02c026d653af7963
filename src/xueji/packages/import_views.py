"""The bureau's import page (C8, B6): upload a package (or take one exported on this
installation), read the preview, then import it.

Between the preview and the import the uploaded file waits under MEDIA_ROOT/packages/
incoming/, named by its SHA-256; the import verifies it again from the first byte, so a
file changed while it waited is refused like any other.
"""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import F, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.packages import format, import_services
from xueji.packages.forms import ImportForm
from xueji.packages.models import ChangeRound, Package

INCOMING = "packages/incoming/"
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _scope(request) -> Scope:
    scope = scope_for(request.user)
    scope.require("packages.import")
    if scope.level != scope.COUNTY:
        raise Http404(_("Only the bureau imports change packages."))
    return scope


def _exported_here(scope: Scope):
    """Packages units exported on this installation that the bureau has not imported, and
    may still import: one older than a package of its key imported already would be a
    replay."""
    imports = Package.objects.filter(direction=Package.Direction.IMPORT)
    newest = imports.filter(key=OuterRef("key")).order_by("-sequence").values("sequence")[:1]
    return (
        scope.packages()
        .filter(direction=Package.Direction.EXPORT, content=Package.Content.CHANGES)
        .exclude(package_id__in=imports.values("package_id"))
        .annotate(newest_import=Subquery(newest))
        .filter(Q(newest_import__isnull=True) | Q(sequence__gt=F("newest_import")))
        .select_related("unit", "round")
        .order_by("-handled_at")
    )


def _round(scope: Scope, value: str | None) -> ChangeRound | None:
    if not value or not value.isdigit():
        return None
    return scope.rounds().filter(pk=int(value)).first()


def _incoming_name(sha: str) -> str:
    return f"{INCOMING}{sha}.zip"


def _render_page(request, scope: Scope, form: ImportForm, status: int = 200, refusal=None):
    return render(
        request,
        "packages/import.html",
        {"form": form, "exported": _exported_here(scope)[:50], "refusal": refusal},
        status=status,
    )


def _preview(request, scope: Scope, data: bytes, *, round, source: dict[str, str]):
    try:
        preview = import_services.preview_package(data, actor=request.user, round=round)
    except format.PackageRefused as refusal:
        return _render_page(request, scope, ImportForm(scope=scope), 400, refusal)
    sha = source.get("incoming")
    if sha and preview.already is None and not default_storage.exists(_incoming_name(sha)):
        # Kept only for a package that may be imported: the confirmation reads it back.
        default_storage.save(_incoming_name(sha), ContentFile(data))
    return render(
        request,
        "packages/preview.html",
        {"preview": preview, "source": source, "round": preview.round},
    )


@login_required
def package_import(request):
    scope = _scope(request)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, scope=scope)
        if not form.is_valid():
            return _render_page(request, scope, form, 400)
        upload = form.cleaned_data["file"]
        limit = settings.XUEJI_PACKAGE_MAX_BYTES
        data = upload.read(limit + 1)
        return _preview(
            request,
            scope,
            data,
            round=form.cleaned_data["round"],
            source={"incoming": format.sha256(data)},
        )
    exported = request.GET.get("package", "")
    if exported.isdigit():
        package = _exported_here(scope).filter(pk=int(exported)).first()
        if package is None:
            raise Http404(_("No such package in your scope."))
        data = import_services.stored_bytes(package)
        return _preview(request, scope, data, round=None, source={"package": str(package.pk)})
    return _render_page(request, scope, ImportForm(scope=scope))


@login_required
@require_POST
def package_import_confirm(request):
    scope = _scope(request)
    sha = request.POST.get("incoming", "")
    exported = request.POST.get("package", "")
    if SHA256.match(sha) and default_storage.exists(_incoming_name(sha)):
        with default_storage.open(_incoming_name(sha), "rb") as handle:
            data = handle.read()
    elif exported.isdigit() and (package := _exported_here(scope).filter(pk=int(exported)).first()):
        data = import_services.stored_bytes(package)
        sha = ""
    else:
        messages.error(request, _("The file to import is gone; upload it again."))
        return redirect("package_import")
    try:
        result = import_services.do_import_package(
            data, actor=request.user, round=_round(scope, request.POST.get("round"))
        )
    except RuleViolation as error:
        messages.error(request, error.message)
        return redirect("package_import")
    finally:
        if sha:
            default_storage.delete(_incoming_name(sha))
    if result.already:
        messages.warning(request, result.message)
    else:
        messages.success(request, result.message)
    return redirect("package_detail", result.package.pk)
