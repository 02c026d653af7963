from django.urls import path

from xueji.students import duplicate_views, number_views, photo_views, views

urlpatterns = [
    path("setup/numbers/", number_views.number_templates, name="number_templates"),
    path("students/", views.student_list, name="student_list"),
    path("students/new/", views.student_new, name="student_new"),
    path("students/id-check/", views.id_check, name="student_id_check"),
    path("students/duplicates/", duplicate_views.duplicate_list, name="duplicate_list"),
    path("students/duplicates/scan/", duplicate_views.duplicate_scan, name="duplicate_scan"),
    path(
        "students/duplicates/<int:pk>/decide/",
        duplicate_views.duplicate_decide,
        name="duplicate_decide",
    ),
    path("students/photos/", photo_views.photo_upload, name="photo_upload"),
    path("students/photos/zip/", photo_views.photo_zip_upload, name="photo_zip_upload"),
    path("students/<int:pk>/", views.student_detail, name="student_detail"),
    path("students/<int:pk>/edit/", views.student_edit, name="student_edit"),
    path("students/<int:pk>/photo/", views.student_photo, name="student_photo"),
    path(
        "students/<int:pk>/photo/upload/",
        photo_views.student_photo_upload,
        name="student_photo_upload",
    ),
    path("students/<int:pk>/reveal/", views.student_reveal, name="student_reveal"),
    path("students/<int:pk>/return/", views.student_return, name="student_return"),
]
