"""The units' side of change packages: packages, the export form, signing keys."""

from django.urls import path

from xueji.packages import key_views, offline_views, views

urlpatterns = [
    path("packages/", views.package_list, name="package_list"),
    path("packages/export/", views.package_export, name="package_export"),
    path("packages/<int:pk>/", views.package_detail, name="package_detail"),
    path("packages/<int:pk>/download/", views.package_download, name="package_download"),
    path("keys/", key_views.key_list, name="key_list"),
    path("keys/generate/", key_views.key_generate, name="key_generate"),
    path("keys/replace/", key_views.key_replace, name="key_replace"),
    path("keys/upload/", key_views.key_upload, name="key_upload"),
    path("keys/<int:pk>/register/", key_views.key_register, name="key_register"),
    path("keys/<int:pk>/revoke/", key_views.key_revoke, name="key_revoke"),
    path("keys/<int:pk>/public/", key_views.key_public, name="key_public"),
    path("keys/offline-seed/", offline_views.offline_seed_export, name="offline_seed_export"),
]
