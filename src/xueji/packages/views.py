"""The package pages (C8): the unit's packages, the export form, a package's page with its
changes and verdicts, and the bureau's reconciliation report per school.

Thin views: packages come from the scope (404 outside it); every change goes through one
service (services.do_export_changes, import_services.do_check_package_change).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xueji.core.errors import RuleViolation
from xueji.core.scope import Scope, scope_for
from xueji.core.views import form_error
from xueji.exchange.excel import write_table_xlsx
from xueji.packages import import_services, key_services, reconcile, services
from xueji.packages.forms import CheckForm, ExportForm
from xueji.packages.models import Package, PackageChange
from xueji.packages.units import unit_code

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _scope(request, capability: str = "") -> Scope:
    scope = scope_for(request.user)
    if capability:
        scope.require(capability)
    elif not (scope.may("packages.export") or scope.may("packages.import")):
        raise PermissionDenied(_("Your role may not do this."))
    return scope


def get_package(scope: Scope, pk: int) -> Package:
    package = scope.packages().select_related("unit__county", "key", "round", "handled_by")
    found = package.filter(pk=pk).first()
    if found is None:
        raise Http404(_("No such package in your scope."))
    return found


@login_required
def package_list(request):
    scope = _scope(request)
    packages = scope.packages().select_related("unit", "round", "handled_by")
    direction = request.GET.get("direction", "")
    if direction in Package.Direction.values:
        packages = packages.filter(direction=direction)
    page = Paginator(packages.order_by("-handled_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    unit = scope.unit
    key = key_services.live_key(unit) if unit is not None else None
    return render(
        request,
        "packages/package_list.html",
        {
            "page": page,
            "direction": direction,
            "may_export": scope.may("packages.export"),
            "may_import": scope.may("packages.import") and scope.level == scope.COUNTY,
            "key": key,
            "can_sign": key is not None and bool(key.private_file),
        },
    )


@login_required
def package_export(request):
    scope = _scope(request, "packages.export")
    unit = scope.unit
    assert unit is not None
    key = key_services.live_key(unit)
    if request.method == "POST":
        form = ExportForm(request.POST, scope=scope)
        if form.is_valid():
            selection = {
                "schools": list(form.cleaned_data["schools"]),
                "grades": form.cleaned_data["grades"] or None,
                "date_from": form.cleaned_data["date_from"],
                "date_to": form.cleaned_data["date_to"],
                "round": form.cleaned_data["round"],
            }
            try:
                services.check_selection(actor=request.user, **selection)
                if services.count_selection(**selection) > services.INLINE_LIMIT:
                    job = services.do_start_export(actor=request.user, **selection)
                    messages.success(
                        request, _("The package is made in the background; download it here.")
                    )
                    return redirect("job_detail", job.pk)
                package = services.do_export_changes(actor=request.user, **selection)
            except RuleViolation as error:
                form_error(form, error)
            else:
                messages.success(
                    request,
                    _("Package number %(sequence)d is ready: %(count)d changes.")
                    % {"sequence": package.sequence, "count": package.counts.get("changes", 0)},
                )
                return redirect("package_detail", package.pk)
    else:
        start, end = services.default_range(unit)
        initial_schools = [unit] if unit.is_school and not unit.is_central else []
        if unit.is_school and unit.is_central:
            initial_schools = list(scope.schools())
        form = ExportForm(
            initial={"schools": initial_schools, "date_from": start, "date_to": end}, scope=scope
        )
    return render(
        request,
        "packages/export.html",
        {"form": form, "key": key, "can_sign": key is not None and bool(key.private_file)},
    )


def _change_rows(package: Package):
    return package.changes.select_related("school", "request", "checked_by").order_by(
        "school__name", "effective_date", "pk"
    )


@login_required
def package_detail(request, pk: int):
    scope = _scope(request)
    package = get_package(scope, pk)
    changes = list(_change_rows(package))
    counts = {verdict: 0 for verdict in PackageChange.Verdict.values}
    for change in changes:
        counts[change.verdict] += 1
    return render(
        request,
        "packages/package_detail.html",
        {
            "package": package,
            "changes": changes,
            "verdict_counts": [
                (verdict, label, counts[verdict])
                for verdict, label in PackageChange.Verdict.choices
            ],
            "may_check": scope.may("packages.import") and scope.level == scope.COUNTY,
            "may_download": scope.may("packages.export") or scope.may("packages.import"),
            "fingerprint": key_services.grouped(package.key.fingerprint),
            "findings": reconcile.findings(package),
            "selection": reconcile.selection_of(package),
            "check_form": CheckForm(),
            # An offline unit's new pupils and their verdicts (issue 6).
            "intake_entries": list(
                package.intake_entries.select_related("school", "entry").order_by("pk")
            ),
        },
    )


@login_required
def package_download(request, pk: int):
    """The package file: ID numbers inside, so registrars only, never cached."""
    package = get_package(_scope(request), pk)
    try:
        stored = package.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The package's file is missing.")) from None
    services.do_record_package_read(package, actor=request.user, what="file")
    response = FileResponse(
        stored,
        content_type="application/zip",
        as_attachment=True,
        filename=f"xueji-{package.content}-{unit_code(package.unit)}-{package.sequence:04d}.zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_POST
def package_change_check(request, pk: int):
    scope = _scope(request, "packages.import")
    change = PackageChange.objects.filter(pk=pk, package__in=scope.packages()).first()
    if change is None:
        raise Http404(_("No such change in your scope."))
    form = CheckForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        import_services.do_check_package_change(change, actor=request.user, note=note)
    except RuleViolation as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Marked as checked."))
    if request.POST.get("next") == "reconciliation":
        return redirect("package_reconciliation", change.package_id)
    return redirect("package_detail", change.package_id)


def _report_rows(package: Package, school_id: str | None):
    rows = reconcile.by_school(package)
    if school_id and school_id.isdigit():
        wanted = int(school_id)
        rows = [row for row in rows if row["school"] is not None and row["school"].pk == wanted]
    return rows


@login_required
def package_reconciliation(request, pk: int):
    scope = _scope(request)
    package = get_package(scope, pk)
    rows = _report_rows(package, request.GET.get("school"))
    return render(
        request,
        "packages/reconciliation.html",
        {
            "package": package,
            "rows": rows,
            "school": request.GET.get("school", ""),
            "verdicts": PackageChange.Verdict.choices,
            "may_check": scope.may("packages.import") and scope.level == scope.COUNTY,
        },
    )


@login_required
def package_reconciliation_xlsx(request, pk: int):
    scope = _scope(request)
    package = get_package(scope, pk)
    rows = _report_rows(package, request.GET.get("school"))
    data = reconciliation_xlsx(package, rows)
    services.do_record_package_read(package, actor=request.user, what="reconciliation")
    response = HttpResponse(data, content_type=XLSX)
    name = f"reconciliation-{unit_code(package.unit)}-{package.sequence:04d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


def reconciliation_xlsx(package: Package, rows: list[dict]) -> bytes:
    """The report for the files: one row per change and per finding, in Chinese."""
    from django.conf import settings

    with translation.override(settings.LANGUAGE_CODE):
        headers = [
            _("School"),
            _("Line"),
            _("Name"),
            _("Kind"),
            _("Effective date"),
            _("Verdict or finding"),
            _("Why"),
            _("Checked at"),
        ]
        lines = []
        for row in rows:
            school = row["school"].name if row["school"] is not None else "—"
            for change in row["changes"]:
                lines.append(
                    [
                        school,
                        _("Change"),
                        change.student_name,
                        _kind_label(change.kind),
                        change.effective_date.isoformat(),
                        str(change.get_verdict_display()),
                        change.reason,
                        timezone.localtime(change.checked_at).strftime("%Y-%m-%d %H:%M")
                        if change.checked_at
                        else "",
                    ]
                )
            for finding in row["findings"]:
                lines.append(
                    [
                        school,
                        _("Finding"),
                        finding.student_name,
                        finding.request.get_kind_display() if finding.request else "",
                        finding.request.effective_date.isoformat() if finding.request else "",
                        finding.kind_label,
                        finding.message,
                        "",
                    ]
                )
        return write_table_xlsx(headers, lines, sheet_name=_("Reconciliation"))


def _kind_label(kind: str) -> str:
    from xueji.changes.models import Kind

    try:
        return str(Kind(kind).label)
    except ValueError:
        return kind
