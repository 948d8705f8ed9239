from django.urls import path

from . import views

app_name = "bank"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.entry_detail, name="entry"),
    path("<slug:slug>/anvand/", views.pick, name="pick"),
]
