"""The REST API's page for people, in a real browser: the operations listed, WCAG 2.1 AA."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from tests.browser.conftest import assert_accessible, login

pytestmark = pytest.mark.browser


def test_the_api_page_lists_the_operations_and_is_accessible(
    page: Page, live_server: Any, live_cast: SimpleNamespace
) -> None:
    login(page, live_server, "teacher", "pw-teacher")
    page.goto(live_server.url + reverse("api:docs"))

    paths = page.locator("table tbody td code").all_inner_texts()
    assert "/api/v1/lessons/{lesson_id}/register/" in paths
    assert "/api/v1/imports/" in paths
    assert_accessible(page)
