from django.urls import path

from xueji.intake import roster_views as views

urlpatterns = [
    path("students/roster/", views.roster_check, name="roster_check"),
    path("students/roster/overview/", views.roster_overview, name="roster_overview"),
]
