from django.urls import path

from xueji.intake import views

urlpatterns = [
    path("intake/", views.intake_school, name="intake_school"),
    path("intake/enter/", views.intake_enter, name="intake_enter"),
    path("intake/id-fill/", views.id_fill, name="intake_id_fill"),
    path("intake/send/", views.intake_send, name="intake_send"),
    path("intake/submit/", views.intake_submit, name="intake_submit"),
    path("intake/collect/", views.intake_collect, name="intake_collect"),
    path("intake/entries/<int:pk>/exception/", views.intake_exception, name="intake_exception"),
    path("intake/entries/<int:pk>/not-admit/", views.intake_not_admit, name="intake_not_admit"),
]
