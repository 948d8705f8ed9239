from django.urls import path

from . import views

app_name = "compulsory"

urlpatterns = [
    path("", views.home, name="home"),
    path("importera/", views.upload, name="upload"),
    path("matcha/", views.check, name="check"),
    path("franvaro/<int:pupil_id>/", views.take_up_absence, name="take-up-absence"),
    path("arende/<int:case_id>/", views.case, name="case"),
    path("arende/<int:case_id>/steg/", views.add_step, name="add-step"),
    path("steg/<int:step_id>/klart/", views.complete_step, name="complete-step"),
    path("arende/<int:case_id>/avsluta/", views.close_case, name="close-case"),
    path("rapport/", views.report, name="report"),
]
