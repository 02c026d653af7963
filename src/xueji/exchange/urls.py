from django.urls import path

from xueji.exchange import views

urlpatterns = [
    path("template.xlsx", views.student_template, name="student_template"),
    path("import/", views.import_students, name="import_students"),
    path("roster/", views.roster_export, name="roster_export"),
    path("roster.xlsx", views.roster_file, {"fmt": "xlsx"}, name="roster_xlsx"),
    path("roster.csv", views.roster_file, {"fmt": "csv"}, name="roster_csv"),
    path("national/", views.national_export, name="national_export"),
    path("national/file", views.national_file, name="national_file"),
]
