from django.urls import path

from xueji.orgs import views

urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/mine/", views.my_unit, name="my_unit"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("setup/units/", views.setup_units, name="setup_units"),
    path("setup/users/", views.user_list, name="user_list"),
]
