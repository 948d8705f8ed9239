"""Screening pages in a real browser: the principal screens by the button and reads the riskzon
list; the administration reads counts without names; WCAG 2.1 AA (axe) on every page."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from fullfolj.screening import actions
from fullfolj.screening.engine import default_rules
from fullfolj.screening.models import ScreeningRule
from tests.browser.conftest import assert_accessible, follow, login

pytestmark = pytest.mark.browser


@pytest.fixture
def level_rule(live_cast: SimpleNamespace) -> SimpleNamespace:
    ScreeningRule.objects.create(
        organiser=live_cast.org,
        code="invalid_4w",
        indicator="absence_invalid",
        comparison=">=",
        threshold=Decimal(15),
        window="28d",
    )
    return live_cast


def test_principal_screens_with_the_button_and_reads_the_list(
    page: Page, live_server: Any, level_rule: SimpleNamespace
) -> None:
    login(page, live_server, "principal", "pw-principal")
    page.get_by_role("navigation").get_by_role("link", name="Riskzon").click()
    page.wait_for_url(
        live_server.url + reverse("elevakt:school-riskzon", args=[level_rule.north.pk])
    )
    assert_accessible(page)
    follow(page, page.get_by_role("button", name="Screena nu"))
    section = page.locator("section[aria-labelledby=no-action-heading]")
    assert section.locator("tbody th[scope=row]").all_inner_texts() == [level_rule.pupil.full_name]
    assert "Ogiltig frånvaro 100 % de senaste fyra veckorna (gräns 15 %)" in (section.inner_text())
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Hur bra är varje screeningregel"))
    assert page.locator("h1").inner_text() == "Screeningregler och hur bra de är"
    assert_accessible(page)


@pytest.fixture
def shipped_rules(live_cast: SimpleNamespace) -> SimpleNamespace:
    """The shipped default rules as the migrations make them (a live server's database is
    emptied between tests, migration rows and all)."""
    for order, rule in enumerate(default_rules()):
        ScreeningRule.objects.get_or_create(
            organiser=None,
            code=rule.id,
            defaults={
                "indicator": rule.indicator,
                "comparison": rule.comparison,
                "threshold": Decimal(rule.threshold),
                "window": rule.key,
                "baseline": rule.baseline.key if rule.baseline else "",
                "grade_years": ",".join(str(y) for y in rule.grade_years),
                "order": order,
            },
        )
    return live_cast


def test_principal_evaluates_the_rules_from_the_page_and_sees_the_figures(
    page: Page, live_server: Any, shipped_rules: SimpleNamespace
) -> None:
    login(page, live_server, "principal", "pw-principal")
    page.goto(live_server.url + reverse("screening:evaluation"))
    rules = page.locator("table").first.inner_text()
    assert "Problematisk frånvaro" in rules and "Ogiltig frånvaro" in rules
    assert_accessible(page)
    page.get_by_label("Lämnar årskurs 9 utan behörighet").check()
    follow(page, page.get_by_role("button", name="Utvärdera reglerna"))
    assert "Väntar på att bakgrundsjobbet ska starta." in page.locator("main").inner_text()
    assert_accessible(page)
    assert len(actions.run_requested()) == 1  # the worker's task
    # The page's script asks for the progress and shows the figures when they are done.
    page.get_by_role("heading", name="Senaste utvärderingen").wait_for(timeout=20_000)
    assert "Att lämna årskurs 9 utan behörighet" in page.locator("main").inner_text()
    assert_accessible(page)


def test_administration_sees_counts_without_names(
    page: Page, live_server: Any, level_rule: SimpleNamespace
) -> None:
    login(page, live_server, "admin", "pw-admin")
    page.goto(live_server.url + reverse("elevakt:municipality-riskzon"))
    follow(page, page.get_by_role("button", name="Screena nu"))
    body = page.locator("main").inner_text()
    assert "Norrskolan" in body
    assert level_rule.pupil.last_name not in body
    assert_accessible(page)
