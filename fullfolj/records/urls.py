from django.urls import path

from . import views

app_name = "records"
urlpatterns = [
    path(
        "elever/<int:pupil_id>/registerutdrag.pdf",
        views.pupil_extract,
        {"file_format": "pdf"},
        name="extract-pdf",
    ),
    path(
        "elever/<int:pupil_id>/registerutdrag.json",
        views.pupil_extract,
        {"file_format": "json"},
        name="extract-json",
    ),
]
