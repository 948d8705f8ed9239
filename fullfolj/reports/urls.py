from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("skolor/<int:school_id>/", views.school_dashboard, name="school"),
    path("kommun/", views.municipality_dashboard, name="municipality"),
    path("utvardering/", views.evaluation, name="evaluation"),
    path("skolor/<int:school_id>/ny-lista/", views.cohort_new, name="cohort_new"),
    path("region/<int:region_id>/", views.region, name="region"),
]
