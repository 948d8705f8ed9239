"""Screening rules as the admin saves them: checked by the engine, refused with the reason."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from fullfolj.screening import engine
from fullfolj.screening.models import ScreeningRule


def make(**fields: object) -> ScreeningRule:
    values = {
        "code": "r",
        "indicator": "absence_invalid",
        "comparison": ">=",
        "threshold": Decimal(10),
        "window": "28d",
    } | fields
    return ScreeningRule(**values)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"indicator": "moon_phase"}, "indicator", "Okänd indikator 'moon_phase'"),
        ({"threshold": Decimal(140)}, "threshold", "Gränsen 140 ligger utanför 0–100"),
        ({"threshold": Decimal(-1)}, "threshold", "utanför 0–100"),
        ({"window": "0d"}, "window", "Fönstret är tomt"),
        ({"window": ""}, "window", "behöver ett fönster"),
        ({"window": "fyra veckor"}, "window", "Okänt fönster"),
        ({"window": "0s"}, "window", "Fönstret är tomt"),
        (
            {
                "indicator": "late_skip_trend",
                "threshold": Decimal(5),
                "window": "20s",
                "baseline": "168d_28",
            },
            "baseline",
            "båda i dagar eller i skoldagar",
        ),
        ({"indicator": "f_grades", "threshold": Decimal(2)}, "window", "har inget fönster"),
        ({"indicator": "whole_days", "threshold": Decimal("2.5")}, "threshold", "heltal"),
        ({"grade_years": "7,12"}, "grade_years", "Årskurs [12] finns inte"),
        ({"grade_years": "sju"}, "grade_years", "tal 0–9 åtskilda med kommatecken, inte ”sju”"),
        (
            {
                "also": [
                    {
                        "indicator": "invalid_trend",
                        "comparison": ">=",
                        "threshold": "1",
                        "window": "0d",
                    }
                ]
            },
            "also",
            "Villkor 1: Fönstret är tomt",
        ),
        ({"also": ["x"]}, "also", "Villkor 1"),
    ],
)
def test_a_bad_rule_is_refused_on_save_naming_field_and_reason(fields, field, reason):
    rule = make(**fields)
    with pytest.raises(ValidationError) as refused:
        rule.save()
    assert field in refused.value.message_dict
    assert reason in " ".join(refused.value.message_dict[field])
    assert not ScreeningRule.objects.filter(code="r").exists()


@pytest.mark.django_db
def test_a_good_rule_is_saved_and_becomes_the_engines_rule(cast):
    rule = make(
        organiser=cast.org,
        grade_years="7, 8,9",
        threshold=Decimal("12.50"),
        also=[
            {
                "indicator": "invalid_trend",
                "comparison": ">=",
                "threshold": "1",
                "window": "28d",
                "baseline": "84d_28",
            }
        ],
    )
    rule.save()
    engine_rule = rule.to_engine()
    assert engine_rule.id == "r"
    assert engine_rule.threshold == Decimal("12.5")
    assert engine_rule.grade_years == (7, 8, 9)
    assert engine_rule.also[0].baseline.key == "84d_28"


@pytest.mark.django_db
def test_defaults_ship_and_an_organisers_own_rules_replace_them(cast):
    defaults = list(ScreeningRule.objects.for_organiser(cast.org))
    assert defaults and all(r.organiser_id is None for r in defaults)
    for rule in defaults:
        rule.to_engine()  # every shipped rule is valid
    make(organiser=cast.org, code="own").save()
    assert [r.code for r in ScreeningRule.objects.for_organiser(cast.org)] == ["own"]


@pytest.mark.django_db
def test_the_admin_refuses_a_bad_rule_with_the_reason(client, cast, django_user_model):
    from django.urls import reverse

    admin = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    response = client.post(
        reverse("admin:screening_screeningrule_add"),
        {
            "code": "too_high",
            "indicator": "absence_invalid",
            "comparison": ">=",
            "threshold": "140",
            "window": "28d",
            "baseline": "",
            "grade_years": "",
            "also": "[]",
            "order": "0",
            "active": "on",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Gränsen 140 ligger utanför 0–100 för absence_invalid." in response.content.decode()
    assert not ScreeningRule.objects.filter(code="too_high").exists()


@pytest.mark.django_db
def test_the_shipped_rows_are_the_engines_default_rules():
    shipped = {r.code: r.to_engine() for r in ScreeningRule.objects.filter(organiser=None)}
    assert shipped == {r.id: r for r in engine.default_rules()}


@pytest.mark.django_db
def test_the_school_day_migration_keeps_a_municipalitys_own_edit():
    from django.apps import apps

    swap = importlib.import_module(
        "fullfolj.screening.migrations.0007_rising_late_skip_in_school_days"
    )
    shipped = ScreeningRule.objects.get(organiser=None, code="rising_late_skip")
    assert (shipped.window, shipped.baseline) == ("20s", "120s_20")
    swap.backward(apps, None)
    shipped.refresh_from_db()
    assert (shipped.window, shipped.baseline) == ("28d", "168d_28")
    swap.forward(apps, None)
    shipped.refresh_from_db()
    assert (shipped.window, shipped.baseline) == ("20s", "120s_20")
    ScreeningRule.objects.filter(pk=shipped.pk).update(window="28d", baseline="84d_28")
    swap.forward(apps, None)  # edited: left as the municipality set it
    shipped.refresh_from_db()
    assert (shipped.window, shipped.baseline) == ("28d", "84d_28")
