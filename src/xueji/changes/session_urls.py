from django.urls import path

from xueji.changes import session_views as views

urlpatterns = [
    path("approvals/", views.session_current, name="session_current"),
    path("approvals/open/", views.session_open, name="session_open"),
    path("approvals/sessions/", views.session_list, name="session_list"),
    path("approvals/sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("approvals/sessions/<int:pk>/close/", views.session_close, name="session_close"),
    path(
        "approvals/sessions/<int:pk>/approve-selected/",
        views.session_approve_selected,
        name="session_approve_selected",
    ),
    path(
        "approvals/sessions/<int:pk>/approve-all/",
        views.session_approve_all,
        name="session_approve_all",
    ),
    path("approvals/sessions/<int:pk>/sign-off/", views.session_sign_off, name="session_sign_off"),
    path("approvals/requests/<int:pk>/decide/", views.session_decide, name="session_decide"),
    path("changes/plans/", views.plan_list, name="plan_list"),
    path("changes/plans/file/", views.plan_file, name="plan_file"),
    path("changes/plans/<int:pk>/file/", views.plan_download, name="plan_download"),
]
