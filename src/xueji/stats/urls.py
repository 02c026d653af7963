from django.urls import path

from xueji.stats import views

urlpatterns = [
    path("statistics/", views.students_page, name="stats_students"),
    path("statistics/changes/", views.changes_page, name="stats_changes"),
    path("statistics/intake/", views.intake_page, name="stats_intake"),
    path("statistics/dropout/", views.dropout_page, name="stats_dropout"),
    path("statistics/export/<slug:key>.xlsx", views.export_table, name="stats_export"),
]
