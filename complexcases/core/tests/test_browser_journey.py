"""The referral journey in a real browser (Debian's Chromium through Playwright), with axe-core on
every page it visits.

The SPO of the person's team signs in, records a reflective conversation (outcome: refer) and makes
the referral through the real forms. The Complex Cases team member acting as Programme Manager
signs in, finds the referral in their work, books a triage through the booking form, opens the
triage and records the outcome "for panel" with a blocker, guidance, an action and the question
for the panel. The referral page's timeline then lists, in order and with who and when: the
conversation, referral made, triage booked, awaiting panel. Every page is checked as in
test_browser.py: GOV.UK styles and scripts loaded, no script or console errors, no axe-core
violations (WCAG 2.2 AA tags); screenshots go to /tmp/cc-journey-*.png.

Uses the real clock (the live server runs in another thread): the triage goes in the slot the
booking page suggests, and the action is due two weeks from today.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from complexcases.accounts.tests.cast import give, staff_user
from complexcases.core.tests.test_browser import PASSWORD, check_page, page  # noqa: F401
from complexcases.referrals.models import Referral
from complexcases.referrals.tests.world import LISTED, build_world
from complexcases.triage.models import TriageMeeting, TriageTeamMember

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHALLENGES = "He will not engage with the approved premises and is hostile to staff."
SUPPORT = "Ideas for engagement and a psychology consultation."
BLOCKER = "No approved premises place will take him after two evictions."
GUIDANCE = "Agree one point of contact and keep appointments at the same time each week."
ACTION = "Ask the psychologist for a formulation before the panel."
TRIAGE_TEAM = {
    "cc_eoe": ("programme_manager", "QDO"),
    "ca_eoe": ("case_admin", "ADMIN"),
    "qdo_eoe": ("qdo", "QDO"),
    "psych_eoe": ("senior_forensic_psychologist", "PSYCH"),
}
QUESTION = "How can the team build enough trust to plan his move-on accommodation?"


def _world() -> Any:
    """The cast and November's run (the cast's person listed), and the region's triage team, as
    the triage tests set it up but with cc_eoe as its Programme Manager."""
    world = build_world()
    eoe = world.regions["EOE"]
    for username, (function, grade) in TRIAGE_TEAM.items():
        user = world.users.get(username)
        if user is None:
            user = staff_user(username, world.teams["B1"], grade=grade)
            give(user, "cc_team", region=eoe)
            world.users[username] = user
        TriageTeamMember.objects.create(region=eoe, function=function, user=user)
    return world


def _sign_in(page: Any, url: str, username: str) -> None:  # noqa: F811
    page.goto(f"{url}/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda address: "/sign-in/" not in address)


def _sign_out(page: Any) -> None:  # noqa: F811
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")


class Pages:
    """check_page on each page visited, collecting the problems so that one run reports every
    page's (the journey goes on after a page with an accessibility problem)."""

    def __init__(self, page: Any) -> None:  # noqa: F811
        self.page = page
        self.problems: list[str] = []

    def check(self, name: str) -> None:
        try:
            check_page(self.page, name)
        except AssertionError as problem:
            self.problems.append(str(problem).split("\nassert ")[0])
            self.page.errors.clear()


def _timeline(page: Any) -> list[tuple[str, str, dt.datetime]]:  # noqa: F811
    """(title, byline, when) of each event on the page's timeline, in the page's order."""
    items = page.locator("#timeline .moj-timeline__item")
    events = []
    for i in range(items.count()):
        item = items.nth(i)
        events.append(
            (
                item.locator(".moj-timeline__title").inner_text().strip(),
                item.locator(".moj-timeline__byline").inner_text().strip(),
                dt.datetime.fromisoformat(item.locator("time").get_attribute("datetime")),
            )
        )
    return events


def test_spo_refers_and_the_programme_manager_triages_for_panel(page, live_server):  # noqa: F811
    _world()
    url = live_server.url
    started = timezone.now().replace(microsecond=0)
    pages = Pages(page)

    # --- The SPO: reflective conversation, then the referral ---------------------------------
    _sign_in(page, url, "spo_a1")
    pages.check("journey-spo-start")
    page.goto(f"{url}/people/{LISTED}/")
    assert page.get_by_role("button", name="Record reflective conversation").is_visible()
    pages.check("journey-person")
    page.goto(f"{url}/my-work/")
    pages.check("journey-spo-my-work")
    # The listed case awaiting its conversation, linked from the SPO's work.
    page.locator(f'a[href="/people/{LISTED}/conversation/"]').click()
    page.wait_for_url(f"**/people/{LISTED}/conversation/")
    pages.check("journey-conversation")
    page.get_by_label("Refer to Complex Cases", exact=True).check()
    page.fill("#id_note", "Talked through the barriers to engagement.")
    page.get_by_role("button", name="Record the conversation").click()
    page.wait_for_url(f"**/people/{LISTED}/refer/")
    assert page.get_by_text("Reflective conversation recorded").first.is_visible()
    pages.check("journey-refer")
    page.get_by_label("What is challenging about this case?").fill(CHALLENGES)
    page.get_by_label("What support are you looking for?").fill(SUPPORT)
    page.get_by_role("button", name="Send the referral").click()
    page.wait_for_url("**/referrals/*/")
    referral = Referral.objects.get(person__crn=LISTED)
    assert page.url == f"{url}/referrals/{referral.pk}/"
    assert page.locator("#status").inner_text() == "Received"
    assert (referral.route, referral.referred_by.username) == ("monthly_list", "spo_a1")
    pages.check("journey-referral-made")
    page.goto(f"{url}/my-work/")
    assert page.locator(f'a[href="/referrals/{referral.pk}/"]').count() == 1
    _sign_out(page)

    # --- The Programme Manager finds it in their work ----------------------------------------
    _sign_in(page, url, "cc_eoe")
    link = f'a[href="/referrals/{referral.pk}/"]'
    page.goto(f"{url}/my-work/")
    pages.check("journey-my-work")
    assert page.locator(link).count() == 1, "the new referral is not on My work"
    page.goto(f"{url}/referrals/")
    pages.check("journey-referrals-queue")
    # Followed from the keyboard: Playwright aims its click at the link's first box, which is
    # the visually hidden "Referral " text (1px), and hits the table cell instead.
    page.locator(link).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    assert page.get_by_text(CHALLENGES).is_visible()
    pages.check("journey-referral-for-cc")

    # --- Triage booked ----------------------------------------------------------------------
    assert page.get_by_text("No triage booked yet.").is_visible()
    page.get_by_role("link", name="Book triage").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/triage/book/")
    assert page.locator("#suggestion").is_visible()
    pages.check("journey-triage-book")
    # The form comes filled in with the suggested slot and the default attendees.
    assert page.input_value("#id_start_time") != ""
    page.get_by_role("button", name="Book and send invitations").click()
    page.wait_for_url("**/triage/*/")
    meeting = TriageMeeting.objects.get(referral=referral)
    assert page.url == f"{url}/triage/{meeting.pk}/"
    assert page.locator("#status").inner_text() == "Booked"
    attendees = set(meeting.attendees.values_list("user__username", "role"))
    assert {("cc_eoe", "programme_manager"), ("manager", "practitioner"), ("spo_a1", "spo")} <= (
        attendees
    )
    pages.check("journey-triage-booked")

    # --- Outcome recorded: for panel ----------------------------------------------------------
    due = timezone.localdate() + dt.timedelta(days=14)
    page.select_option("#id_blocker-0-theme", "accommodation")
    page.fill("#id_blocker-0-description", BLOCKER)
    page.fill("#id_guidance", GUIDANCE)
    page.fill("#id_action-0-description", ACTION)
    page.select_option("#id_action-0-owner", label="cc_eoe (Programme Manager)")
    page.fill("#id_action-0-due_day_input", str(due.day))
    page.fill("#id_action-0-due_month", str(due.month))
    page.fill("#id_action-0-due_year", str(due.year))
    page.get_by_label("For panel", exact=True).check()
    page.get_by_label("What is the question for the panel?").fill(QUESTION)
    page.get_by_role("button", name="Record the triage").click()
    page.wait_for_url(f"**/triage/{meeting.pk}/")
    assert page.get_by_text("Triage outcome recorded").first.is_visible()
    assert page.locator("#status").inner_text() == "Held"
    record = page.locator("#record")
    for text in ("For panel", QUESTION, "Accommodation", BLOCKER, GUIDANCE):
        assert text in record.inner_text(), text
    assert ACTION in page.locator("#actions").inner_text()
    pages.check("journey-triage-recorded")

    page.goto(f"{url}/triage/")
    pages.check("journey-triage-calendar")

    # --- The referral's timeline --------------------------------------------------------------
    page.goto(f"{url}/referrals/{referral.pk}/")
    assert page.locator("#status").inner_text() == "Awaiting panel"
    assert page.get_by_text(QUESTION).is_visible()  # the referral page's triage section
    events = _timeline(page)
    finished = timezone.now()
    assert [(title, by) for title, by, _ in events] == [
        ("Reflective conversation recorded — Refer to Complex Cases", "by spo_a1"),
        ("Referral made", "by spo_a1"),
        ("Received → Triage booked", "by cc_eoe"),
        ("Triage booked → Awaiting panel", "by cc_eoe"),
    ]
    times = [when for _, _, when in events]
    assert times == sorted(times)
    assert all(started <= when <= finished for when in times), times
    pages.check("journey-referral-awaiting-panel")
    _sign_out(page)
    assert pages.problems == [], "\n\n".join(pages.problems)
