from django.urls import path

from xueji.changes import views

urlpatterns = [
    path("changes/", views.request_list, name="request_list"),
    path("changes/new/", views.request_new, name="request_new"),
    path("changes/<int:pk>/", views.request_detail, name="request_detail"),
    path("changes/<int:pk>/evidence/", views.evidence_add, name="evidence_add"),
    path("changes/<int:pk>/documents/", views.documents_pass, name="documents_pass"),
    path("changes/<int:pk>/sign/", views.request_sign, name="request_sign"),
    path("changes/<int:pk>/signed-scan/", views.signed_scan_upload, name="signed_scan_upload"),
    path("changes/<int:pk>/signed-scan/file/", views.signed_scan_file, name="signed_scan_file"),
    path("changes/<int:pk>/central-review/", views.central_review, name="central_review"),
    path("changes/<int:pk>/receiving/", views.receiving_confirm, name="receiving_confirm"),
    path("changes/<int:pk>/submit/", views.request_submit, name="request_submit"),
    path("changes/<int:pk>/record/", views.request_record, name="request_record"),
    path("changes/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("changes/evidence/<int:pk>/", views.evidence_file, name="evidence_file"),
    path("changes/evidence/<int:pk>/check/", views.evidence_check, name="evidence_check"),
]
