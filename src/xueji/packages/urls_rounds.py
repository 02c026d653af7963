from django.urls import path

from xueji.packages import round_views as views

urlpatterns = [
    path("rounds/", views.round_list, name="round_list"),
    path("rounds/announce/", views.round_announce, name="round_announce"),
    path("rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("rounds/<int:pk>/report/", views.round_report, name="round_report"),
    path("rounds/<int:pk>/due-date/", views.round_change_due_date, name="round_change_due_date"),
    path("rounds/<int:pk>/cancel/", views.round_cancel, name="round_cancel"),
]
