from django.urls import path

from . import views

app_name = "attendance"
urlpatterns = [
    path("dagens-lektioner/", views.today, name="today"),
    path("lektioner/<int:lesson_id>/", views.lesson_register, name="lesson-register"),
]
