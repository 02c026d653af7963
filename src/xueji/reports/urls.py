from django.urls import path

from xueji.reports import views

urlpatterns = [
    path("", views.verify_form, name="verify_form"),
    path("<str:code>/", views.verify_paper, name="verify_paper"),
]
