"""The Complex Cases team's referrals page (/referrals/) and what the referral page changes:
grouping and filtering by status, rows, working-day ages, audit, query bounds; on the referral page
no generic move (only the links to the next step's flow) and closing, which cancels a booked
triage or panel slot first, with the form's errors, the stale-page check, the POST-redirect-GET and
the timeline. The access matrices are in test_views.py."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from complexcases.core.models import AuditEvent
from complexcases.notifications.models import OutboxMessage
from complexcases.panels import services as panel_services
from complexcases.panels.tests.world import BOOKED_AT, build_panel_world
from complexcases.people.tests.factories import PersonFactory
from complexcases.referrals import services
from complexcases.referrals.models import Referral, ReferralTransition
from complexcases.referrals.tests.world import LISTED, build_world
from complexcases.triage import services as triage_services
from complexcases.triage.tests.world import NOW as TRIAGE_NOW
from complexcases.triage.tests.world import WEDNESDAY_10, build_triage_world, default_invitees

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


# --- the referral page: no generic move, the next step's links, closing -----------------------


def _page(client: Client, referral: Referral) -> str:
    response = client.get(f"/referrals/{referral.pk}/")
    assert response.status_code == 200
    return str(response.content.decode())


def _no_generic_move(page: str) -> None:
    assert 'name="action" value="move"' not in page and "Move the referral" not in page
    assert 'name="action" value="close"' in page and "Close the referral" in page


def test_a_received_referral_offers_booking_a_triage_and_closing_only(world: Any) -> None:
    referral = referred(world, "Y100001")
    page = _page(client_for(world, "cc_eoe"), referral)
    _no_generic_move(page)
    assert f'href="/referrals/{referral.pk}/triage/book/"' in page and "Book triage" in page
    assert "Book into a panel" not in page
    assert 'id="closing-cancels"' not in page  # nothing booked to cancel


def test_a_referral_awaiting_panel_offers_booking_a_panel_and_closing_only(world: Any) -> None:
    referral = move(
        referred(world, "Y100001"), "triage_booked", "awaiting_panel", actor=world.users["cc_eoe"]
    )
    page = _page(client_for(world, "cc_eoe"), referral)
    _no_generic_move(page)
    assert f'href="/panels/book/{referral.pk}/"' in page and "Book into a panel" in page
    assert "Book triage" not in page


def test_the_page_has_its_headings_in_order_and_no_empty_section(world: Any) -> None:
    referral = referred(world, "Y100001")
    page = _page(client_for(world, "cc_eoe"), referral)
    levels = [int(level) for level in re.findall(r"<h([1-6])[ >]", page)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(after - before <= 1 for before, after in itertools.pairwise(levels))
    # Each h2 is followed by content before the next heading.
    for section in re.split(r"<h2[^>]*>", page)[1:]:
        body = re.sub(r"<[^>]+>|\s", "", section.split("</h2>", 1)[1].split("<h2", 1)[0])
        assert body, section[:80]


def test_a_posted_move_is_refused_and_changes_nothing(world: Any) -> None:
    referral = referred(world, "Y100001")
    history = ReferralTransition.objects.filter(referral=referral).count()
    response = client_for(world, "cc_eoe").post(
        f"/referrals/{referral.pk}/",
        {
            "action": "move",
            "move-to": "triage_booked",
            "move-reason": "Booked for 3 December",
            "move-from_status": "received",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "There is a problem" in body
    assert "A referral is not moved on from this page" in body
    referral.refresh_from_db()
    assert referral.status == "received"
    assert ReferralTransition.objects.filter(referral=referral).count() == history


def test_a_close_from_a_stale_page_is_refused_with_the_current_status(world: Any) -> None:
    referral = move(referred(world, "Y100001"), "triage_booked", actor=world.users["cc_eoe"])
    # Another member of the team moved it on while this page was open at "received".
    response = client_for(world, "cc_eoe").post(
        f"/referrals/{referral.pk}/",
        {
            "action": "close",
            "close-closure_reason": "withdrawn",
            "close-from_status": "received",
        },
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "it is now Triage booked" in body
    # The page is shown as the referral is now, so the next try is checked against that.
    assert 'name="close-from_status" value="triage_booked"' in body
    referral.refresh_from_db()
    assert referral.status == "triage_booked"


def _ics_sequence(message: OutboxMessage) -> int:
    found = re.search(r"^SEQUENCE:(\d+)", message.ics, re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def test_closing_a_referral_with_a_booked_triage_cancels_it_first(db: Any) -> None:
    with time_machine.travel(TRIAGE_NOW, tick=False):
        world = build_triage_world()
        referral = world.referral
        meeting = triage_services.triage_book(
            actor=world.users["cc_eoe"],
            referral=referral,
            start=WEDNESDAY_10,
            invitees=default_invitees(referral),
        )
        client = client_for(world, "cc_eoe")
        page = _page(client, referral)
        _no_generic_move(page)
        assert "also cancels its triage on 18 November 2026" in page
        closed = client.post(
            f"/referrals/{referral.pk}/",
            {
                "action": "close",
                "close-closure_reason": "withdrawn",
                "close-reason": "Practitioner withdrew the referral",
                "close-from_status": "triage_booked",
            },
        )
        # Read inside the frozen clock, or the session's idle timeout signs the user out.
        after = client.get(closed["Location"]).content.decode()
    assert (closed.status_code, closed["Location"]) == (302, f"/referrals/{referral.pk}/")
    meeting.refresh_from_db()
    referral.refresh_from_db()
    assert (meeting.status, meeting.sequence) == ("cancelled", 1)
    assert (referral.status, referral.closure_reason) == ("closed", "withdrawn")
    invitation = OutboxMessage.objects.get(kind="triage_invitation")
    cancel = OutboxMessage.objects.get(kind="triage_cancellation")
    assert cancel.ics_method == "CANCEL" and sorted(cancel.to) == sorted(invitation.to)
    assert _ics_sequence(cancel) > _ics_sequence(invitation)
    moves = list(
        ReferralTransition.objects.filter(referral=referral)
        .order_by("occurred_at", "id")
        .values_list("from_status", "to_status")
    )
    assert moves[-2:] == [("triage_booked", "received"), ("received", "closed")]
    assert "Its triage was cancelled" in after
    assert "Referral closed — Withdrawn" in after


def test_closing_a_referral_with_a_booked_panel_slot_cancels_it_first(db: Any) -> None:
    world = build_panel_world()
    referral = world.referral
    case = panel_services.panel_case_book(
        actor=world.users["cc_eoe"],
        referral=referral,
        question="How can the panel help rebuild engagement?",
        now=BOOKED_AT,
    )
    client = client_for(world, "cc_eoe")
    page = _page(client, referral)
    _no_generic_move(page)
    assert "also cancels its panel slot" in page
    closed = client.post(
        f"/referrals/{referral.pk}/",
        {
            "action": "close",
            "close-closure_reason": "left_caseload",
            "close-from_status": "panel_booked",
        },
    )
    assert (closed.status_code, closed["Location"]) == (302, f"/referrals/{referral.pk}/")
    case.refresh_from_db()
    referral.refresh_from_db()
    assert case.status == "cancelled"
    assert (referral.status, referral.closure_reason) == ("closed", "left_caseload")
    invitation = OutboxMessage.objects.filter(kind="panel_invitation").latest("id")
    cancel = OutboxMessage.objects.get(kind="panel_cancellation")
    assert cancel.ics_method == "CANCEL" and sorted(cancel.to) == sorted(invitation.to)
    assert _ics_sequence(cancel) > _ics_sequence(invitation)
    moves = list(
        ReferralTransition.objects.filter(referral=referral)
        .order_by("occurred_at", "id")
        .values_list("from_status", "to_status")
    )
    assert moves[-2:] == [("panel_booked", "awaiting_panel"), ("awaiting_panel", "closed")]
    assert "Its panel slot was cancelled" in client.get(closed["Location"]).content.decode()


def test_a_refused_close_cancels_nothing(db: Any) -> None:
    with time_machine.travel(TRIAGE_NOW, tick=False):
        world = build_triage_world()
        meeting = triage_services.triage_book(
            actor=world.users["cc_eoe"],
            referral=world.referral,
            start=WEDNESDAY_10,
            invitees=default_invitees(world.referral),
        )
        # Signposted without where to: refused before anything is cancelled.
        response = client_for(world, "cc_eoe").post(
            f"/referrals/{world.referral.pk}/",
            {"action": "close", "close-closure_reason": "signposted"},
        )
    assert response.status_code == 400
    meeting.refresh_from_db()
    assert (meeting.status, meeting.sequence) == ("booked", 0)
    assert not OutboxMessage.objects.filter(kind="triage_cancellation").exists()
    assert Referral.objects.get(pk=world.referral.pk).status == "triage_booked"


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
    assert 'id="closing"' not in page  # no empty "Closing the referral" section
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
