"""The main journey in a real browser (Debian's Chromium through Playwright), with axe-core on each page.

Signs in through the form, opens the home page, a PDU's list with its near misses, a person's page
and the runs page; checks the GOV.UK styles and the service's scripts load; runs axe-core (WCAG 2.2
AA tags) on every page; saves screenshots to /tmp/cc-*.png for a human to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from complexcases.people.tests.factories import UserFactory
from complexcases.screening.tests.test_views import build_scenario, grant_everything
from conftest import skip_or_fail

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a thread
# with a running loop unless told that this is safe, which it is here (one thread, no async code).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "correct horse battery staple"


def _axe_source() -> str:
    for path in (
        Path(settings.BASE_DIR) / "static_build" / "vendor" / "axe.min.js",
        Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js",
    ):
        if path.exists():
            return path.read_text(encoding="utf-8")
    skip_or_fail("axe-core is not installed (run `make assets`): browser tests skipped")
    raise AssertionError("unreachable")


@pytest.fixture
def page(live_server) -> Iterator:
    if not CHROMIUM.exists():
        skip_or_fail("Chromium is not installed: browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # axe-core goes in as an init script (through the DevTools protocol, not the page), so the
        # pages' content security policy stays on and any inline script of ours would still fail.
        context.add_init_script(script=_axe_source())
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.errors = errors  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            # While Playwright's sync API is open its event loop counts as running in this
            # thread, so Django keeps this thread's connections in a context variable that
            # pytest-django does not close: close them here, or PostgreSQL cannot drop the test
            # database at the end of the run ("being accessed by other users").
            from django.db import connections

            connections.close_all()
            context.close()
            browser.close()


def _format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:5]:
            lines.append(f"  - {' '.join(node['target'])}: {node['failureSummary']}")
    return "\n".join(lines)


def check_page(page, name: str) -> None:
    """Styles and scripts loaded, no script errors, no axe violations; a screenshot for review."""
    page.wait_for_load_state("load")
    assert page.errors == [], f"{name}: script errors: {page.errors}"
    # GOV.UK Frontend's CSS is applied (headings bold, template background) and its JavaScript
    # started (init.js adds the class that its components need).
    heading_weight = page.eval_on_selector("h1", "h => getComputedStyle(h).fontWeight")
    assert heading_weight == "700", f"{name}: GOV.UK styles not applied"
    assert page.eval_on_selector("body", "b => b.classList.contains('govuk-frontend-supported')")
    page.screenshot(path=f"/tmp/cc-{name}.png", full_page=True)  # noqa: S108 (for a human to look at)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    violations = results["violations"]
    assert violations == [], f"{name}: axe-core found problems:\n{_format_violations(violations)}"


def test_main_journey_is_accessible(page, live_server):
    scenario = build_scenario()
    grant_everything(UserFactory.create(username="po.browser", password=PASSWORD))

    page.goto(f"{live_server.url}/")
    assert "/sign-in/" in page.url
    check_page(page, "sign-in")
    page.fill("#id_username", "po.browser")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    assert page.get_by_role("heading", level=1).inner_text().endswith("November 2026")
    sign_out = page.get_by_role("button", name="Sign out")
    assert sign_out.evaluate("b => getComputedStyle(b).cursor") == "pointer"  # app.css loaded
    check_page(page, "home")

    page.get_by_role("link", name="Essex North").click()
    page.wait_for_url(f"**{scenario.list_url()}")
    page.get_by_role("link", name="Show near misses").click()
    page.wait_for_url("**near_misses=yes**")
    assert page.get_by_role("heading", name="Near misses (5 of 8 criteria)").is_visible()
    assert page.get_by_role("link", name="TestNear PersonNear").is_visible()
    check_page(page, "list")

    page.select_option("#team", "ESSN02")
    page.get_by_role("button", name="Show team").click()
    page.wait_for_url("**team=ESSN02**")
    assert page.get_by_role("link", name="TestCont PersonCont").is_visible()
    assert page.get_by_role("link", name="TestNew PersonNew").count() == 0

    page.get_by_role("link", name="TestCont PersonCont").click()
    page.wait_for_url("**/people/E100002/")
    assert page.get_by_text("7 of 8 criteria met").is_visible()
    check_page(page, "person")

    page.goto(f"{live_server.url}/people/E100004/")
    assert page.get_by_text("No current OASys assessment: the OASys-based criteria").is_visible()
    check_page(page, "person-no-oasys")

    page.get_by_role("link", name="Screening runs").click()
    page.wait_for_url("**/runs/")
    page.locator("summary").first.click()
    check_page(page, "runs")

    sign_out = page.get_by_role("button", name="Sign out")
    sign_out.click()
    page.wait_for_url("**/sign-in/")
