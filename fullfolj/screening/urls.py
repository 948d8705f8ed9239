from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.riskzon, name="riskzon"),
    path("skolor/<int:school_id>/", views.school_riskzon, name="school"),
    path("kommun/", views.municipality_riskzon, name="municipality"),
    path("huvudman/<int:organiser_id>/screena/", views.run, name="run"),
    path("regler/", views.evaluation, name="evaluation"),
]
