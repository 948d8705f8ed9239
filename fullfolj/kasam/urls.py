from django.urls import path

from . import views

app_name = "kasam"
urlpatterns = [
    path("", views.answer, name="answer"),
    path("elever/<int:pupil_id>/samtal/", views.talk, name="talk"),
    path("enkater/", views.questionnaires, name="questionnaires"),
    path("enkater/<str:stage>/", views.edit_questionnaire, name="edit-questionnaire"),
]
