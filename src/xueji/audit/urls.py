from django.urls import path

from xueji.audit import views

urlpatterns = [
    path("", views.audit_log, name="audit_log"),
    path("verify/", views.audit_verify, name="audit_verify"),
]
