"""The bureau's side of change packages: import, checks, the reconciliation report."""

from django.urls import path

from xueji.packages import import_views, views

urlpatterns = [
    path("packages/import/", import_views.package_import, name="package_import"),
    path(
        "packages/import/confirm/",
        import_views.package_import_confirm,
        name="package_import_confirm",
    ),
    path(
        "packages/changes/<int:pk>/check/",
        views.package_change_check,
        name="package_change_check",
    ),
    path(
        "packages/<int:pk>/reconciliation/",
        views.package_reconciliation,
        name="package_reconciliation",
    ),
    path(
        "packages/<int:pk>/reconciliation.xlsx",
        views.package_reconciliation_xlsx,
        name="package_reconciliation_xlsx",
    ),
]
