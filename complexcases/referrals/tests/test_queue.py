"""The Complex Cases team's referrals page (/referrals/) and the moves on the referral page:
grouping and filtering by status, rows, working-day ages, audit, query bounds, the forms' errors,
the POST-redirect-GET and the timeline. The access matrices are in test_views.py."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from complexcases.core.models import AuditEvent
from complexcases.people.tests.factories import PersonFactory
from complexcases.referrals import services
from complexcases.referrals.models import Referral, ReferralTransition
from complexcases.referrals.tests.world import LISTED, build_world

pytestmark = pytest.mark.django_db

# The page's own queries (the counts, the paginator's count, the page of rows) plus what every
# page pays: session, user, idle-timeout stamp, the user's roles and the audit record (an INSERT
# inside a savepoint: three statements). A bound, not a measurement: see the test below.
QUEUE_MAX_QUERIES = 12


@pytest.fixture
def world(db: Any) -> Any:
    return build_world()


def client_for(world: Any, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def referred(world: Any, crn: str, *, pdu: str = "A", team: str = "A1") -> Referral:
    """A person referred on professional judgement (so no screening needed), in `pdu`."""
    person: Any = PersonFactory(
        crn=crn,
        team=world.teams[team],
        pdu=world.pdus[pdu],
        offender_manager=world.users["manager"].staff,
    )
    return services.referral_create(
        actor=world.users["manager"],
        person=person,
        challenges="c",
        support_sought="s",
        route_reason="practitioner_concern",
    )


def move(referral: Referral, *statuses: str, actor: Any) -> Referral:
    for status in statuses:
        referral = services.referral_transition(
            referral=referral, to=status, actor=actor, reason=f"to {status}"
        )
    return referral


def test_open_referrals_are_grouped_by_status_along_the_workflow(world: Any) -> None:
    cc = world.users["cc_eoe"]
    move(referred(world, "Y100001"), "triage_booked", "awaiting_panel", actor=cc)
    referred(world, "Y100002")
    move(referred(world, "Y100003", pdu="B", team="B1"), "triage_booked", actor=cc)
    referral = referred(world, "Y100004")
    services.referral_close(referral=referral, actor=cc, closure_reason="withdrawn")
    body = client_for(world, "cc_eoe").get("/referrals/").content.decode()
    headings = re.findall(r'<h2 class="govuk-heading-m" id="status-([a-z_]+)"', body)
    assert headings == ["received", "triage_booked", "awaiting_panel"]
    assert "Y100003" in body and "PDU B" in body  # every PDU of the region
    assert "Y100004" not in body  # closed: only on request
    assert "Professional judgement" in body
    closed = client_for(world, "cc_eoe").get("/referrals/", {"status": "closed"}).content.decode()
    assert "Y100004" in closed and "Withdrawn" in closed and "Y100002" not in closed
    one = client_for(world, "cc_eoe").get("/referrals/", {"status": "triage_booked"})
    assert "Y100003" in one.content.decode() and "Y100001" not in one.content.decode()


def test_other_region_team_sees_none_of_these_referrals(world: Any) -> None:
    referred(world, "Y100001")
    referred(world, "Y100005", pdu="C", team="C1")
    body = client_for(world, "cc_ldn").get("/referrals/").content.decode()
    assert "Y100001" not in body
    assert "Y100005" in body


def test_unknown_status_is_404(world: Any) -> None:
    response = client_for(world, "cc_eoe").get("/referrals/", {"status": "lost"})
    assert response.status_code == 404


def test_age_counts_working_days_since_received(world: Any) -> None:
    # Received on Thursday 24 December 2026; 25 and 28 December are bank holidays, the 26th and
    # 27th a weekend: by Thursday 31 December three working days have passed (29, 30, 31).
    with time_machine.travel(dt.datetime(2026, 12, 24, 10, tzinfo=dt.UTC)):
        referred(world, "Y100001")
    with time_machine.travel(dt.datetime(2026, 12, 31, 10, tzinfo=dt.UTC)):
        body = client_for(world, "cc_eoe").get("/referrals/").content.decode()
    row = body[body.index("Y100001") :]
    assert re.search(r"24 Dec 2026</td>\s*<td[^>]*>3</td>", row)


def test_the_page_is_audited_as_a_list(world: Any) -> None:
    client_for(world, "cc_eoe").get("/referrals/", {"status": "received"})
    event = AuditEvent.objects.get(action="list", object_type="referral_queue")
    assert event.actor_username == "cc_eoe" and (event.details or {})["status"] == "received"
    client_for(world, "spo_a1").get("/referrals/")
    assert AuditEvent.objects.filter(action="refused", object_type="referral_queue").exists()


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/referrals/")
    assert response.status_code == 200
    return len(captured)


def test_queue_queries_do_not_grow_with_rows(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(world, "cc_eoe")
    referred(world, "Y100001")
    few = _queries(client)
    for number in range(2, 30):
        referral = referred(world, f"Y1{number:05d}")
        if number % 3 == 0:
            move(referral, "triage_booked", actor=world.users["cc_eoe"])
    assert _queries(client) == few
    with django_assert_max_num_queries(QUEUE_MAX_QUERIES):
        client.get("/referrals/")


# --- moves on the referral page -----------------------------------------------------------


def test_a_move_redirects_and_shows_on_the_timeline(world: Any) -> None:
    referral = referred(world, "Y100001")
    client = client_for(world, "cc_eoe")
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert 'value="triage_booked"' in page and 'value="awaiting_panel"' not in page
    moved = client.post(
        f"/referrals/{referral.pk}/",
        {
            "action": "move",
            "move-to": "triage_booked",
            "move-reason": "Booked for 3 December",
            "move-from_status": "received",
        },
    )
    assert (moved.status_code, moved["Location"]) == (302, f"/referrals/{referral.pk}/")
    after = client.get(moved["Location"]).content.decode()
    assert "Referral moved to Triage booked" in after
    timeline = after[after.index('id="timeline"') :]
    assert "Received → Triage booked" in timeline and "Booked for 3 December" in timeline
    # The cancelled triage's move back is labelled as what it means.
    assert "Received (triage cancelled)" in after
    history = ReferralTransition.objects.filter(referral=referral).last()
    assert history is not None
    assert (history.to_status, history.actor, history.reason) == (
        "triage_booked",
        world.users["cc_eoe"],
        "Booked for 3 December",
    )


def test_a_move_needs_a_destination_and_a_reason(world: Any) -> None:
    referral = referred(world, "Y100001")
    response = client_for(world, "cc_eoe").post(
        f"/referrals/{referral.pk}/", {"action": "move", "move-reason": ""}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in body
    assert 'href="#id_move-to_0"' in body and "Select where to move the referral" in body
    assert 'href="#id_move-reason"' in body and "Enter why you are moving the referral" in body
    referral.refresh_from_db()
    assert referral.status == "received"


def test_a_move_outside_the_table_is_refused(world: Any) -> None:
    referral = referred(world, "Y100001")
    response = client_for(world, "cc_eoe").post(
        f"/referrals/{referral.pk}/",
        {"action": "move", "move-to": "heard_at_panel", "move-reason": "Skip ahead"},
    )
    assert response.status_code == 400
    assert "Select where to move the referral" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "received"


def test_a_move_from_a_stale_page_is_refused_with_the_current_status(world: Any) -> None:
    referral = move(referred(world, "Y100001"), "triage_booked", actor=world.users["cc_eoe"])
    # Another member of the team moved it on while this page was open at "received".
    response = client_for(world, "cc_eoe").post(
        f"/referrals/{referral.pk}/",
        {
            "action": "move",
            "move-to": "awaiting_panel",
            "move-reason": "Panel needed",
            "move-from_status": "received",
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "it is now Triage booked" in body
    # The page is shown as the referral is now, so the next try is checked against that.
    assert 'name="move-from_status" value="triage_booked"' in body
    assert 'value="awaiting_panel"' in body
    referral.refresh_from_db()
    assert referral.status == "triage_booked"


def test_closing_as_signposted_needs_where_to(world: Any) -> None:
    referral = referred(world, "Y100001")
    client = client_for(world, "cc_eoe")
    missing = client.post(
        f"/referrals/{referral.pk}/", {"action": "close", "close-closure_reason": "signposted"}
    )
    assert missing.status_code == 400
    body = missing.content.decode()
    assert "Enter where the case was signposted to" in body
    assert 'href="#id_close-closure_destination"' in body
    none = client.post(f"/referrals/{referral.pk}/", {"action": "close"})
    assert "Select why the referral is closed" in none.content.decode()
    closed = client.post(
        f"/referrals/{referral.pk}/",
        {
            "action": "close",
            "close-closure_reason": "signposted",
            "close-closure_destination": "Community mental health team",
            "close-reason": "Better placed there",
        },
    )
    assert closed.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.closure_reason, referral.closure_destination) == (
        "closed",
        "signposted",
        "Community mental health team",
    )
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Referral closed — Signposted elsewhere" in page
    assert "Community mental health team" in page
    assert "Move the referral" not in page and "Close the referral" not in page
    again = client.post(
        f"/referrals/{referral.pk}/", {"action": "close", "close-closure_reason": "withdrawn"}
    )
    assert again.status_code == 409


def test_listed_person_referral_row_links_to_the_referral(world: Any) -> None:
    referral = services.referral_create(
        actor=world.users["manager"], person=world.person, challenges="c", support_sought="s"
    )
    body = client_for(world, "cc_eoe").get("/referrals/").content.decode()
    assert f'href="/referrals/{referral.pk}/"' in body and LISTED in body
    assert "On the monthly list" in body
