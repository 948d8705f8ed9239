from django.urls import path

from . import oidc, views

app_name = "access"
urlpatterns = [
    path("logga-in/kommunkonto/", oidc.SignOnStartView.as_view(), name="oidc-start"),
    path("logga-in/kommunkonto/svar/", oidc.SignOnCallbackView.as_view(), name="oidc-callback"),
    path("elever/<int:pupil_id>/lasningar/", views.pupil_reads, name="pupil-reads"),
    path("tvastegsverifiering/", views.verify_second_factor, name="second-factor"),
    path("tvastegsverifiering/ny/", views.set_up_second_factor, name="second-factor-setup"),
]
