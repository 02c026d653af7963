from django.urls import path

from xueji.changes import report

urlpatterns = [
    path("changes/<int:pk>/report.pdf", report.change_report, name="change_report"),
]
