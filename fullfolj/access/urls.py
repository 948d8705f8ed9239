from django.urls import path

from . import views

app_name = "access"
urlpatterns = [
    path("elever/<int:pupil_id>/lasningar/", views.pupil_reads, name="pupil-reads"),
    path("tvastegsverifiering/", views.verify_second_factor, name="second-factor"),
    path("tvastegsverifiering/ny/", views.set_up_second_factor, name="second-factor-setup"),
]
