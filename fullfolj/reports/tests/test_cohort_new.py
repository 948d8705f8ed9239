"""The page that makes a list of pupils by hand: finding pupils (name, class, a screening's
flags, the risk list), the reads logged, saving, refusals that write nothing, and the
evaluation report offering the list saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from fullfolj.access.models import AccessLog
from fullfolj.reports.models import Cohort
from fullfolj.riskmodel.models import RiskEstimate, RiskModel
from fullfolj.screening.models import Flag, ScreeningRun


def _url(cast):
    return reverse("reports:cohort_new", args=[cast.north.pk])


def _rows(body: str) -> list[str]:
    """The pupils offered, as their labels, read from the table only."""
    table = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
    return [part.split("</label>", 1)[0] for part in table.split('">')[1:] if "</label>" in part]


@pytest.fixture
def run(cast):
    moment = timezone.make_aware(dt.datetime(2026, 3, 17, 22, 0))
    run = ScreeningRun.objects.create(
        organiser=cast.org, as_of=dt.date(2026, 3, 17), started_at=moment, finished_at=moment
    )
    for pupil, school in ((cast.other_pupil, cast.north), (cast.pupil_elsewhere, cast.south)):
        Flag.objects.create(
            run=run,
            pupil=pupil,
            organiser=cast.org,
            school=school,
            rule_code="invalid_absence",
            threshold=5,
            explanation="Ogiltig frånvaro över 5 %",
        )
    return run


def test_nobody_is_shown_before_a_search(client, cast):
    client.force_login(cast.principal.user)
    response = client.get(_url(cast))
    assert response.status_code == 200
    assert _rows(response.content.decode()) == []
    assert not AccessLog.objects.exists()
    assert "Visa risklistan" not in response.content.decode()  # no risk model switched on


def test_search_by_name_shows_the_schools_pupils_and_logs_each_read(client, cast):
    client.force_login(cast.principal.user)
    body = client.get(_url(cast), {"q": "bäck"}).content.decode()
    assert _rows(body) == ["Bäckström, Bilal"]
    logged = AccessLog.objects.get()
    assert (logged.pupil, logged.staff, logged.role) == (
        cast.other_pupil,
        cast.principal,
        "principal",
    )


def test_search_by_class_shows_the_class_and_no_other_schools_pupil(client, cast):
    client.force_login(cast.nurse.user)
    body = client.get(_url(cast), {"q": "7a"}).content.decode()
    assert sorted(_rows(body)) == ["Bäckström, Bilal", "Cöster, Cora", "Åkesson, Alva"]
    assert "Allén" not in body  # the protected pupil's address never shows
    body = client.get(_url(cast), {"q": "Dählgren"}).content.decode()
    assert _rows(body) == []
    assert "Ingen elev placerad på skolan i dag matchar." in body


def test_a_screening_run_offers_its_flagged_pupils_at_this_school(client, cast, run):
    client.force_login(cast.principal.user)
    body = client.get(_url(cast), {"run": run.pk}).content.decode()
    assert _rows(body) == ["Bäckström, Bilal"]
    assert "Ogiltig frånvaro över 5 %" in body  # the screening's words, not its rule code
    assert "checked" not in body.split("<tbody>", 1)[1]
    ticked = client.get(_url(cast), {"run": run.pk, "all": "1"}).content.decode()
    assert f'value="{cast.other_pupil.pk}" id="pupil-{cast.other_pupil.pk}" checked' in ticked


def test_the_risk_list_offers_the_active_models_estimates_highest_first(client, cast):
    model = RiskModel.objects.create(
        organiser=cast.org,
        trained_at=timezone.make_aware(dt.datetime(2026, 3, 1)),
        data_start=dt.date(2025, 9, 15),
        data_end=dt.date(2026, 1, 12),
        outcome="frånvaro",
        horizon_weeks=8,
        learner="logistic_regression",
        rows=100,
        pupils=60,
        positives=20,
        fitted=b"",
        evaluation={},
        evaluated_at=timezone.make_aware(dt.datetime(2026, 3, 2)),
        evaluation_shown_at=timezone.make_aware(dt.datetime(2026, 3, 2)),
        is_active=True,
    )
    for pupil, p in ((cast.pupil, 0.2), (cast.protected, 0.7), (cast.pupil_elsewhere, 0.9)):
        RiskEstimate.objects.create(model=model, pupil=pupil, as_of=model.data_end, probability=p)
    client.force_login(cast.principal.user)
    body = client.get(_url(cast), {"risk": "1"}).content.decode()
    assert _rows(body) == ["Cöster, Cora", "Åkesson, Alva"]
    assert "70 %" in body
    assert "Visa risklistan" in body


def test_saving_makes_the_list_and_the_evaluation_report_offers_it(client, cast):
    client.force_login(cast.principal.user)
    response = client.post(
        _url(cast),
        {"name": "  Projekt  vår ", "pupils": [cast.pupil.pk, cast.protected.pk], "q": "7A"},
    )
    cohort = Cohort.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('reports:evaluation')}?list=cohort-{cohort.pk}"
    assert (cohort.name, cohort.school, cohort.organiser) == ("Projekt vår", cast.north, cast.org)
    assert (cohort.chosen_on, cohort.created_by) == (dt.date(2026, 3, 18), cast.principal)
    assert set(cohort.pupils.all()) == {cast.pupil, cast.protected}
    body = client.get(response["Location"]).content.decode()
    assert f'<option value="cohort-{cohort.pk}" selected>Projekt vår</option>' in body
    assert "Rätta" not in body  # no complaint before the terms are chosen


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Lista"}, "Bocka för minst en elev."),
        ({"name": "   ", "pupils": ["PUPIL"]}, "Namn på listan"),
        ({"name": "Lista", "pupils": ["PUPIL", "ELSEWHERE"]}, "Elever"),
        ({"name": "Lista", "pupils": ["nonsense"]}, "Elever"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, cast, data, message):
    ids = {"PUPIL": str(cast.pupil.pk), "ELSEWHERE": str(cast.pupil_elsewhere.pk)}
    data = {**data, "pupils": [ids.get(v, v) for v in data.get("pupils", [])], "q": "7A"}
    client.force_login(cast.principal.user)
    response = client.post(_url(cast), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert not Cohort.objects.exists()
    assert len(_rows(body)) == 3  # the search is kept: the ticks can be fixed


def test_a_second_list_with_the_same_name_at_the_school_is_refused(client, cast):
    client.force_login(cast.principal.user)
    client.post(_url(cast), {"name": "Lista", "pupils": [cast.pupil.pk]})
    response = client.post(_url(cast), {"name": "Lista", "pupils": [cast.pupil.pk]})
    assert "har redan en lista som heter Lista" in response.content.decode()
    assert Cohort.objects.count() == 1


def test_another_schools_staff_cannot_save_at_this_school(client, cast):
    client.force_login(cast.principal_elsewhere.user)
    response = client.post(_url(cast), {"name": "Lista", "pupils": [cast.pupil.pk]})
    assert response.status_code == 404
    assert not Cohort.objects.exists()
