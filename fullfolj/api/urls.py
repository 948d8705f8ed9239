from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import docs, views

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", docs.docs, name="docs"),
    path("v1/pupils/", views.PupilList.as_view(), name="pupils"),
    path("v1/pupils/<int:pupil_id>/", views.PupilDetail.as_view(), name="pupil"),
    path(
        "v1/pupils/<int:pupil_id>/attendance/",
        views.PupilAttendance.as_view(),
        name="pupil-attendance",
    ),
    path("v1/pupils/<int:pupil_id>/flags/", views.PupilFlags.as_view(), name="pupil-flags"),
    path("v1/pupils/<int:pupil_id>/cases/", views.PupilCases.as_view(), name="pupil-cases"),
    path("v1/cases/<int:case_id>/", views.CaseDetail.as_view(), name="case"),
    path("v1/schools/<int:school_id>/flags/", views.SchoolFlags.as_view(), name="school-flags"),
    path(
        "v1/lessons/<int:lesson_id>/register/",
        views.LessonRegister.as_view(),
        name="lesson-register",
    ),
    path("v1/imports/", views.Import.as_view(), name="imports"),
    path("v1/imports/<int:import_id>/", views.ImportStatus.as_view(), name="import"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
