from django.urls import path

from xueji.reports import print_views as views

urlpatterns = [
    path("print/", views.print_page, name="print_page"),
    path("print/<slug:kind>/", views.start_print_job, name="print_job_start"),
    path(
        "changes/<int:pk>/transfer-certificate.pdf",
        views.transfer_certificate,
        name="print_transfer_certificate",
    ),
    path(
        "changes/<int:pk>/name-change-application.pdf",
        views.name_change_application,
        name="print_name_change_application",
    ),
    path("students/<int:pk>/record-card.pdf", views.record_card, name="print_record_card"),
    path("students/<int:pk>/certificate.pdf", views.certificate, name="print_certificate"),
    path("students/class-roster.pdf", views.class_roster, name="print_class_roster"),
]
