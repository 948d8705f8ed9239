from django.urls import path

from . import views

app_name = "elevakt"
urlpatterns = [
    path("", views.home, name="home"),
    path("mina-elever/", views.my_pupils, name="my-pupils"),
    path("mina-grupper/", views.my_groups, name="my-groups"),
    path("grupper/<int:group_id>/", views.group_detail, name="group"),
    path("skolor/<int:school_id>/elever/", views.school_pupils, name="school-pupils"),
    path("oversikt/", views.overview, name="overview"),
    path("elever/<int:pupil_id>/", views.pupil_detail, name="pupil"),
    path("sok/", views.search, name="search"),
    path("riskzon/skolor/<int:school_id>/", views.school_riskzon, name="school-riskzon"),
    path("riskzon/kommun/", views.municipality_riskzon, name="municipality-riskzon"),
]
