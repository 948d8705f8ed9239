from django.urls import path

from . import views

app_name = "ladder"
urlpatterns = [
    path("mina-uppgifter/", views.my_tasks, name="my-tasks"),
    path("uppgifter/<int:task_id>/", views.task_detail, name="task"),
]
