"""The follow-up pages' addresses, beside the case pages (namespace "followup")."""

from django.urls import path

from . import flow_views

app_name = "followup"
urlpatterns = [
    path("uppfoljningar/", flow_views.follow_ups, name="follow-ups"),
    path("eht/", flow_views.eht_start, name="eht"),
    path("eht/skolor/<int:school_id>/", flow_views.eht_agenda, name="eht-agenda"),
    path("eht/arenden/<int:case_id>/protokoll/", flow_views.eht_minutes, name="eht-minutes"),
]
