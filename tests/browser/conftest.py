"""Fixtures for browser tests: headless Chromium via Playwright, a live server, and axe-core."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

# Playwright's sync API runs an asyncio event loop in the test thread, so Django's async-unsafe
# guard would refuse the ORM calls made by fixtures (`cast`, the database flush). Nothing here
# runs Django code concurrently with that loop: the guard is a false alarm in this thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The network is closed: keep Chromium from calling home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}: apt-get install chromium", pytrace=False
        )
    if not AXE.exists():
        pytest.fail(
            f"Browser tests need axe-core at {AXE}: run `npm install` in the repository",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _login_throttling(settings: Any) -> None:
    """The browser logs in through the real form, with login throttling on as in production."""
    settings.AXES_ENABLED = True


@pytest.fixture
def csp_violations() -> list[str]:
    """What the browser reported as blocked by the Content-Security-Policy, on any page."""
    return []


@pytest.fixture
def page(browser: Browser, csp_violations: list[str]) -> Iterator[Page]:
    """A fresh page in its own context (no cookies shared between tests), as a Swedish user.

    Every page a test opens must keep to the Content-Security-Policy: a blocked style or script
    means a page that looks or works differently in production, so the test errors.
    """
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(5_000)
    tab = context.new_page()
    tab.on(
        "console",
        lambda message: (
            csp_violations.append(f"{tab.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield tab
    context.close()
    assert not csp_violations, "blocked by the Content-Security-Policy:\n" + "\n".join(
        csp_violations
    )


@pytest.fixture
def live_cast(transactional_db: None, cast: SimpleNamespace) -> SimpleNamespace:
    """The `cast`, committed so the live server's thread can read it."""
    return cast


def login(page: Page, live_server: Any, username: str, password: str) -> None:
    """Log in through the real login form and wait for the page it leads to."""
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    assert not page.url.startswith(live_server.url + reverse("login")), (
        f"login as {username!r} failed; still on {page.url}"
    )


def follow(page: Page, target: Locator) -> None:
    """Click a link or a submit button and wait for the page it leads to: reading the page
    right after a bare click may read the old one, or none while the new one loads."""
    with page.expect_navigation():
        target.click()


def assert_accessible(page: Page) -> None:
    """Run axe-core against WCAG 2.1 A and AA; fail on any serious or critical violation."""
    result = _run_axe(page)
    blocking = [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]
    report = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]],
        }
        for v in blocking
    ]
    if blocking:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    assert not blocking, f"axe found violations on {page.url}:\n" + json.dumps(
        report, indent=2, ensure_ascii=False
    )


def _run_axe(page: Page, attempts: int = 3) -> Any:
    """Run axe on the page that has settled: a click on a link may still be navigating."""
    for attempt in range(attempts):
        page.wait_for_load_state("load")
        try:
            if not page.evaluate("typeof window.axe !== 'undefined'"):
                # Evaluated, not added as a <script>: the page's CSP rightly refuses inline scripts.
                page.evaluate(AXE.read_text())
            return page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
            )
        except PlaywrightError:
            # The document was replaced under axe: run it again on the new one.
            if attempt == attempts - 1:
                raise
            page.wait_for_timeout(200)
    raise AssertionError("axe never ran")
