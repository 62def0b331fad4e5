"""The pages each role meets beyond the main journey, in Chromium, with axe-core: the limited-access
refusal, not found, the download reason (with its error), an analyst's counts and the audit search."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from complexcases.accounts.tests.cast import build_cast, build_org
from complexcases.core.tests.test_browser import PASSWORD, check_page, page  # noqa: F401
from complexcases.people.models import LimitedAccess
from complexcases.people.tests.factories import (
    PersonFactory,
    ScreeningResultFactory,
    ScreeningRunFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _world() -> Any:
    world: Any = build_cast(build_org())
    team, pdu, manager = world.teams["A1"], world.pdus["A"], world.users["manager"].staff
    excluded: Any = PersonFactory(crn="Y000002", team=team, pdu=pdu, offender_manager=manager)
    LimitedAccess.objects.create(person=excluded, username="spo_a1", kind="EXCLUSION")
    run = ScreeningRunFactory(
        as_of=dt.date(2026, 11, 1), finished_at=dt.datetime(2026, 11, 1, 10, tzinfo=dt.UTC)
    )
    for person in (world.person, excluded):
        ScreeningResultFactory(run=run, person=person, eligible=True)
    return world


def _sign_in(page: Any, live_server: Any, username: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/my-work/")  # signed-in users land on My work


def _expect_status(page: Any, status: int) -> None:  # noqa: F811
    """The browser reports the page's own error status on the console: expected here, nothing else."""
    page.wait_for_load_state("load")
    assert all(f"status of {status}" in error for error in page.errors), page.errors
    page.errors.clear()


def _sign_out(page: Any) -> None:  # noqa: F811
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")


def test_pages_of_refusal_download_counts_and_audit_are_accessible(page, live_server):  # noqa: F811
    _world()
    url = live_server.url

    _sign_in(page, live_server, "spo_a1")
    page.goto(f"{url}/people/Y000002/")
    _expect_status(page, 403)
    assert page.get_by_role("heading", name="You are not authorised to view this case").is_visible()
    check_page(page, "limited-access")
    page.goto(f"{url}/people/Z999999/")
    _expect_status(page, 404)
    assert page.get_by_role("heading", name="Page not found").is_visible()
    check_page(page, "not-found")
    _sign_out(page)

    _sign_in(page, live_server, "hos_a")
    page.goto(f"{url}/lists/2026-11/PDUA/download.csv")
    check_page(page, "download-reason")
    page.get_by_role("button", name="Download CSV").click()
    _expect_status(page, 400)
    assert page.get_by_text("Enter why you need to download this list").first.is_visible()
    check_page(page, "download-reason-error")
    _sign_out(page)

    _sign_in(page, live_server, "analyst_eoe")
    page.goto(f"{url}/lists/2026-11/PDUA/")
    assert page.get_by_text("Counts only.").is_visible()
    assert "Y000001" not in page.content()
    check_page(page, "analyst-counts")
    _sign_out(page)

    _sign_in(page, live_server, "admin")
    page.goto(f"{url}/audit/")
    page.fill("#id_crn", "Y000001")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert "?crn" not in page.url  # the search is a POST: no CRN in the URL
    check_page(page, "audit-search")
    _sign_out(page)
