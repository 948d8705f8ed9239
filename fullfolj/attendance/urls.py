from django.urls import path

from . import views

app_name = "attendance"
urlpatterns = [
    path("dagens-lektioner/", views.today, name="today"),
    path("lektioner/vecka/", views.week, name="week"),
    path("lektioner/att-registrera/", views.to_register, name="to-register"),
    path("lektioner/<int:lesson_id>/", views.lesson_register, name="lesson-register"),
    path("grupper/<int:group_id>/", views.group_absence, name="group-absence"),
    path("mina-elever/", views.mentees_absence, name="mentees-absence"),
    path("att-avgora/", views.settle, name="settle"),
    path("elever/<int:pupil_id>/kalender/", views.pupil_calendar, name="pupil-calendar"),
]
