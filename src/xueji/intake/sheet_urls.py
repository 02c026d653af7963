from django.urls import path

from xueji.intake import photo_sheet

urlpatterns = [
    path("intake/photo-sheet/<int:school_id>/", photo_sheet.photo_sheet, name="photo_sheet"),
]
