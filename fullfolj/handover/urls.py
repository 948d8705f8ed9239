from django.urls import path

from . import views

app_name = "handover"
urlpatterns = [
    path("att-skriva/", views.to_write, name="to-write"),
    path("borjar-hos-oss/", views.arriving, name="arriving"),
    path("elever/<int:pupil_id>/starta/", views.start, name="start"),
    path("<int:handover_id>/", views.detail, name="detail"),
    path("<int:handover_id>/skriv/", views.edit, name="edit"),
    path("<int:handover_id>/skicka/", views.send, name="send"),
    path("<int:handover_id>/overlamning.pdf", views.handover_pdf, name="pdf"),
]
