from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.riskzon, name="riskzon"),
    path("huvudman/<int:organiser_id>/screena/", views.run, name="run"),
    path("regler/", views.evaluation, name="evaluation"),
    path("regler/utvardera/", views.evaluation_start, name="evaluation-start"),
    path("regler/status/", views.evaluation_status, name="evaluation-status"),
]
