from django.urls import path

from xueji.intake import review_views as views

urlpatterns = [
    path("intake/review/", views.intake_review, name="intake_review"),
    path(
        "intake/review/<int:school_id>/decide/",
        views.intake_review_decide,
        name="intake_review_decide",
    ),
    path(
        "intake/review/<int:school_id>/number/",
        views.intake_review_number,
        name="intake_review_number",
    ),
    path(
        "intake/review/<int:school_id>/submitted/",
        views.intake_review_submitted,
        name="intake_review_submitted",
    ),
    path(
        "intake/review/entries/<int:entry_id>/photo/",
        views.intake_review_photo,
        name="intake_review_photo",
    ),
    path("intake/accept/", views.intake_accept, name="intake_accept"),
    path("intake/accept/<int:school_id>/", views.intake_accept_act, name="intake_accept_act"),
    path("intake/junior/", views.junior_collect, name="junior_collect"),
    path("intake/junior/collect/", views.junior_collect_numbers, name="junior_collect_numbers"),
    path("intake/junior/convert/", views.junior_convert, name="junior_convert"),
    path("intake/year-end/", views.year_end, name="yearend"),
    path("intake/year-end/run/", views.year_end_run, name="yearend_run"),
    path("intake/catchments/", views.catchments, name="catchments"),
    path("intake/catchments/<int:school_id>/add/", views.catchment_add, name="catchment_add"),
    path(
        "intake/catchments/<int:school_id>/remove/",
        views.catchment_remove,
        name="catchment_remove",
    ),
]
