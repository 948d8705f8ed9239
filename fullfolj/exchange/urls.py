from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("<int:file_id>/", views.file_import, name="file"),
    path("<int:file_id>/status/", views.file_status, name="file-status"),
]
