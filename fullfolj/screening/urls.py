from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.riskzon, name="riskzon"),
    path("huvudman/<int:organiser_id>/screena/", views.run, name="run"),
    path("regler/", views.evaluation, name="evaluation"),
]
