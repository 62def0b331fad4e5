"""A whole panel in a real browser (Debian's Chromium through Playwright), axe-core on every page.

The Complex Cases team books a referral into a panel from the referral page; the papers go out (the
daily task, run here with the papers date as `now`); a panel member opens the papers and sends
apologies; the chair records attendance, saves notes, agrees an action owned by the practitioner
and concludes; the outcome email reaches the practitioner, the SPO and the Head of PDU through a
real SMTP server on loopback, with no identifiers in it; the practitioner finds the action on
their list; the QDO records the follow-up and the referral shows closed.

Set-up uses services (with an explicit `now` where dates matter); the browser runs at real time,
because the session middleware expires sessions by the real clock in the live server's thread.
Every page: no script errors, GOV.UK styles and scripts loaded, no axe-core violations (WCAG 2.2
AA tags); screenshots in /tmp/cc-panel-*.png.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from complexcases.core.tests import test_browser as browser
from complexcases.notifications import services as notifications
from complexcases.notifications.models import OutboxMessage
from complexcases.panels import services
from complexcases.panels.models import FollowUp, PanelCase, PapersOpening
from complexcases.panels.rules import LONDON, PanelRole
from complexcases.panels.states import Attendance, CaseStatus, FollowUpStatus, InvitationStatus
from complexcases.panels.tests.world import build_panel_world
from complexcases.referrals.models import Referral

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The browser fixture of the main journey test: Chromium with axe-core as an init script, script
# errors and console errors collected on `page.errors`.
page = browser.page
check_page = browser.check_page


PASSWORD = "panel journey passphrase 2027"
OUTCOME_SUBJECT = "Complex Cases panel: outcome and actions"


def _with_password(user: Any) -> Any:
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def sign_in(page: Any, base: str, user: Any, path: str) -> None:
    """Sign in through the form, landing on `path`."""
    page.goto(f"{base}/sign-in/?next={path}")
    check_page(page, "panel-sign-in")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{path}")


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")


def _text_parts(message: Any) -> str:
    """Every text part of a received email (plain and HTML), and its headers."""
    parts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def test_a_whole_panel_runs_in_the_browser_and_every_page_is_accessible(
    page: Any, live_server: Any, smtp_server: Any
) -> None:
    world = build_panel_world()
    base = live_server.url
    cc = _with_password(world.users["cc_eoe"])
    chair = _with_password(world.roster[PanelRole.CHAIR])
    member = _with_password(world.roster[PanelRole.MENTAL_HEALTH_LEAD])
    practitioner = _with_password(world.users["manager"])
    referral = world.referral
    person = world.person

    # 1. The Complex Cases team books the referral from the referral page.
    sign_in(page, base, cc, f"/referrals/{referral.pk}/")
    check_page(page, "panel-referral-awaiting")
    page.get_by_role("link", name="Book into a panel").click()
    page.wait_for_url(f"**/panels/book/{referral.pk}/")
    expect(page.get_by_role("checkbox", name=member.username)).to_be_checked()
    expect(page.get_by_role("checkbox", name=chair.username)).to_be_checked()
    check_page(page, "panel-book")
    page.fill("#id_question", "How can the panel help rebuild engagement?")
    page.get_by_role("button", name="Book and send invitations").click()
    page.wait_for_url("**/panels/cases/*/")
    case = PanelCase.objects.get(referral=referral)
    assert page.url == f"{base}/panels/cases/{case.pk}/"
    expect(page.get_by_text("Booked into the panel. Invitations have been sent.")).to_be_visible()
    check_page(page, "panel-case-booked")
    sign_out(page)

    # 2. The papers go out on the meeting's papers date (the daily task).
    papers_day = dt.datetime.combine(case.meeting.papers_due, dt.time(7, 0), tzinfo=LONDON)
    assert services.papers_issue_due(now=papers_day) == 1

    # 3. A member finds the case, opens the papers and sends apologies.
    sign_in(page, base, member, "/panels/")
    check_page(page, "panel-home-member")
    page.get_by_role("link", name=f"Read the papers for {person.crn}").click()
    page.wait_for_url(f"**/panels/cases/{case.pk}/papers/")
    expect(page.locator("#question")).to_have_text("How can the panel help rebuild engagement?")
    check_page(page, "panel-papers")
    assert PapersOpening.objects.filter(case=case, user=member).exists()
    page.get_by_role("link", name="Back to the panel case").click()
    page.wait_for_url(f"**/panels/cases/{case.pk}/")
    check_page(page, "panel-case-member")
    page.get_by_label("I send my apologies").check()
    page.fill("#respond-note", "On leave that week")
    page.get_by_role("button", name="Send my reply").click()
    expect(page.get_by_text("Your reply is recorded and the invitation updated.")).to_be_visible()
    check_page(page, "panel-case-member-replied")
    sign_out(page)
    member_invitation = case.invitations.get(user=member)
    assert member_invitation.status == InvitationStatus.APOLOGIES

    # 4. The chair runs the case: attendance, notes, an action for the practitioner, conclusion.
    sign_in(page, base, chair, f"/panels/cases/{case.pk}/")
    check_page(page, "panel-case-chair")
    attendance = {
        invitation.pk: Attendance.APOLOGIES
        if invitation.user_id == member.pk
        else Attendance.ATTENDED
        for invitation in case.invitations.all()
    }
    for invitation_id, value in attendance.items():
        page.select_option(f"#attendance-{invitation_id}", value)
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_text("Attendance recorded.")).to_be_visible()
    assert dict(case.invitations.values_list("pk", "attendance")) == attendance

    page.fill("#note-text-2", "The practitioner described the breakdown in engagement.")
    page.get_by_role("button", name="Save notes for step 2").click()
    expect(page.get_by_text("Notes for step 2 saved.")).to_be_visible()
    expect(page.locator("#note-text-2")).to_have_value(
        "The practitioner described the breakdown in engagement."
    )

    page.fill("#action-description", "Arrange a joint visit with the mental health team")
    page.select_option("#action-owner", str(practitioner.pk))
    page.fill("#action-due", "26/3/2027")
    page.get_by_role("button", name="Agree the action").click()
    expect(page.get_by_text("Action agreed.")).to_be_visible()
    expect(
        page.get_by_role("cell", name="Arrange a joint visit with the mental health team")
    ).to_be_visible()
    check_page(page, "panel-case-running")

    page.fill("#conclude-summary", "Joint visit agreed; the practitioner is supported by the SPO.")
    page.get_by_role("button", name="Conclude the case").click()
    expect(page.locator("#case-status")).to_have_text("Concluded")
    expect(page.locator("#summary-text")).to_have_text(
        "Joint visit agreed; the practitioner is supported by the SPO."
    )
    check_page(page, "panel-case-concluded")
    sign_out(page)
    case.refresh_from_db()
    assert case.status == CaseStatus.CONCLUDED

    # 5. The outcome email goes out through the outbox to the SMTP server on loopback.
    notifications.outbox_send_due()
    outcome = OutboxMessage.objects.get(kind="panel_outcome", ref_id=case.pk)
    assert outcome.status == "sent"
    received = [r for r in smtp_server.received if r.message["Subject"] == OUTCOME_SUBJECT]
    assert len(received) == 1, [r.message["Subject"] for r in smtp_server.received]
    assert {"spo_a1@justice.example", "hos_a@justice.example"} <= set(received[0].rcpt_tos)
    text = _text_parts(received[0].message)
    assert f"/panels/cases/{case.pk}/" in text
    for identifier in (person.crn, person.forename, person.surname):
        assert identifier.lower() not in text.lower(), f"{identifier!r} is in the outcome email"

    # 6. The practitioner finds the action on their list.
    sign_in(page, base, practitioner, "/my-actions/")
    check_page(page, "panel-my-actions")
    page.get_by_role("link", name="Arrange a joint visit with the mental health team").click()
    page.wait_for_url("**/actions/*/")
    check_page(page, "panel-action")
    sign_out(page)

    # 7. The QDO records the follow-up and closes the referral.
    follow_up = FollowUp.objects.get(referral=referral, case=case)
    sign_in(page, base, cc, f"/panels/follow-ups/{follow_up.pk}/")
    expect(
        page.locator("#follow-up-actions").get_by_text(
            "Arrange a joint visit with the mental health team"
        )
    ).to_be_visible()
    check_page(page, "panel-follow-up")
    page.fill("#id_progress_notes", "The joint visit took place.")
    page.fill("#id_remaining_blockers", "None.")
    page.locator("#id_wellbeing_3").check()  # 4 of 5
    page.locator("#id_confidence_3").check()
    page.get_by_label("Close the referral").check()
    page.get_by_role("button", name="Record the follow-up").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    expect(page.get_by_text("Follow-up recorded.")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Closed")
    expect(page.locator("#follow-ups")).to_contain_text("Close the referral")
    check_page(page, "panel-referral-closed")
    sign_out(page)

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome) == (FollowUpStatus.DONE, "close")
    referral = Referral.objects.get(pk=referral.pk)
    assert (referral.status, referral.closure_reason) == ("closed", "completed")
    assert page.errors == []
