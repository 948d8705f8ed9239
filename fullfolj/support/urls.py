from django.urls import path

from . import views

app_name = "support"
urlpatterns = [
    path("elever/<int:pupil_id>/", views.pupil_cases, name="pupil-cases"),
    path("elever/<int:pupil_id>/nytt-arende/", views.open_case, name="open-case"),
    path("arenden/<int:case_id>/", views.case_detail, name="case"),
    path("arenden/<int:case_id>/andra/", views.case_edit, name="case-edit"),
    path("arenden/<int:case_id>/anteckning/", views.add_entry, name="add-entry"),
    path("arenden/<int:case_id>/kartlaggning/", views.mapping, name="mapping"),
    path("arenden/<int:case_id>/ny-insats/", views.add_measure, name="add-measure"),
    path("insatser/<int:measure_id>/", views.measure_detail, name="measure"),
    path("insatser/<int:measure_id>/beslut/", views.decide, name="decide"),
    path("insatser/<int:measure_id>/utvardering/", views.evaluate, name="evaluate"),
    path(
        "insatser/<int:measure_id>/atgardsprogram.pdf",
        views.action_programme_pdf,
        name="measure-pdf",
    ),
]
