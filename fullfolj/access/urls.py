from django.urls import path

from . import views

app_name = "access"
urlpatterns = [
    path("elever/<int:pupil_id>/lasningar/", views.pupil_reads, name="pupil-reads"),
]
