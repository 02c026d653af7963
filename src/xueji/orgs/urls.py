from django.urls import path

from xueji.orgs import views

urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/mine/", views.my_unit, name="my_unit"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("setup/units/", views.setup_units, name="setup_units"),
    path("setup/townships/new/", views.township_new, name="township_new"),
    path("setup/townships/<int:pk>/edit/", views.township_edit, name="township_edit"),
    path("setup/schools/new/", views.school_new, name="school_new"),
    path("setup/schools/<int:pk>/edit/", views.school_edit, name="school_edit"),
    path("setup/units/<int:pk>/close/", views.unit_close, name="unit_close"),
    path("setup/units/<int:pk>/reopen/", views.unit_reopen, name="unit_reopen"),
    path("setup/users/", views.user_list, name="user_list"),
    path("setup/users/new/", views.user_new, name="user_new"),
    path("setup/users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("setup/users/<int:pk>/password/", views.user_password, name="user_password"),
    path("setup/users/<int:pk>/designate/", views.user_designate, name="user_designate"),
]
