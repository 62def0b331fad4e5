"""Pages: the access matrix (cast × booking page, meeting page, calendar), limited access, the
booking, record and cancel journeys, errors, the audit of views and the calendar's query bound."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from complexcases.accounts.tests.cast import CAST_SCOPE
from complexcases.actions.models import Action
from complexcases.core.models import AuditEvent
from complexcases.people.models import LimitedAccess
from complexcases.people.tests.factories import PersonFactory
from complexcases.referrals import services as referrals
from complexcases.referrals.models import Referral
from complexcases.triage import services
from complexcases.triage.models import TriageMeeting
from complexcases.triage.services import Invitee
from complexcases.triage.tests.world import WEDNESDAY_10, default_invitees, second_referral

pytestmark = pytest.mark.django_db

CAST = list(CAST_SCOPE)
# Written out from the issue, not derived from the code.
MANAGES = {"cc_eoe"}
ATTENDS = {"manager", "spo_a1"}  # the practitioner and SPO invited by default
CALENDAR = {"cc_eoe", "cc_ldn"}


def expected(username: str, allowed: set[str]) -> int:
    if username == "inactive_spo":
        return 302  # an inactive account is not signed in
    return 200 if username in allowed else 404


def client_for(world: Any, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


@pytest.fixture
def meeting(world: Any) -> TriageMeeting:
    return services.triage_book(
        actor=world.users["cc_eoe"],
        referral=world.referral,
        start=WEDNESDAY_10,
        invitees=default_invitees(world.referral),
    )


@pytest.mark.parametrize("username", CAST)
def test_access_matrix(world: Any, username: str) -> None:
    client = client_for(world, username)
    book_page = client.get(f"/referrals/{world.referral.pk}/triage/book/")
    assert book_page.status_code == expected(username, MANAGES)
    meeting = services.triage_book(
        actor=world.users["cc_eoe"],
        referral=world.referral,
        start=WEDNESDAY_10,
        invitees=default_invitees(world.referral),
    )
    page = client.get(f"/triage/{meeting.pk}/")
    assert page.status_code == expected(username, MANAGES | ATTENDS)
    if page.status_code == 200:
        body = page.content.decode()
        assert "no-store" in page["Cache-Control"]
        assert "Wednesday 18 November 2026, 10:00 to 10:45" in body
        assert world.person.crn in body  # these users may all see the person
        assert ("Record the triage" in body) is (username in MANAGES)
    calendar = client.get("/triage/")
    assert calendar.status_code == expected(username, CALENDAR)
    if username == "cc_eoe":
        assert f'href="/triage/{meeting.pk}/"' in calendar.content.decode()
    if username == "cc_ldn":
        assert f'href="/triage/{meeting.pk}/"' not in calendar.content.decode()
    for url in (f"/triage/{meeting.pk}/", f"/triage/{meeting.pk}/cancel/"):
        post = client.post(url, {"outcome": "withdrawn", "reason": "x"})
        if username in MANAGES:
            assert post.status_code in {302, 400}
        else:
            assert post.status_code == expected(username, set())


def test_unknown_meeting_is_404_and_audited(world: Any) -> None:
    assert client_for(world, "cc_eoe").get("/triage/999999/").status_code == 404
    assert AuditEvent.objects.filter(action="refused", object_type="triage_meeting").exists()


def test_limited_access_refuses_with_403_and_shows_nothing(world: Any, meeting: Any) -> None:
    LimitedAccess.objects.create(person=world.person, username="cc_eoe", kind="EXCLUSION")
    LimitedAccess.objects.create(person=world.person, username="manager", kind="EXCLUSION")
    for username, url in (
        ("cc_eoe", f"/triage/{meeting.pk}/"),
        ("cc_eoe", f"/referrals/{world.referral.pk}/triage/book/"),
        ("manager", f"/triage/{meeting.pk}/"),
    ):
        response = client_for(world, username).get(url)
        body = response.content.decode()
        assert response.status_code == 403
        assert "limited access" in body
        assert world.person.surname not in body and "10:45" not in body
    calendar = client_for(world, "cc_eoe").get("/triage/").content.decode()
    assert world.person.crn in calendar and world.person.surname not in calendar
    assert "Limited access" in calendar


def test_an_attendee_who_may_not_see_the_person_sees_only_the_meeting(
    world: Any, meeting: Any
) -> None:
    hos_b = world.users["hos_b"]
    services.triage_reschedule(
        actor=world.users["cc_eoe"],
        meeting=meeting,
        invitees=[*default_invitees(world.referral), Invitee(hos_b, "invited")],
    )
    response = client_for(world, "hos_b").get(f"/triage/{meeting.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "10:00 to 10:45" in body and "Invited" in body
    assert world.person.crn not in body and world.person.surname not in body
    assert "Record the triage" not in body
    event = AuditEvent.objects.filter(action="view", object_type="triage_meeting").last()
    assert event is not None and event.details == {"person_shown": False}


def booking_post(world: Any, referral: Any = None, **overrides: Any) -> dict[str, Any]:
    referral = referral or world.referral
    data: dict[str, Any] = {
        "start_day": "18",
        "start_month": "11",
        "start_year": "2026",
        "start_time": "10:00",
        "attendees": [str(i.user.pk) for i in default_invitees(referral)],
        "add_attendees": "",
    }
    data.update(overrides)
    return data


def test_booking_page_shows_defaults_and_books(world: Any) -> None:
    client = client_for(world, "cc_eoe")
    url = f"/referrals/{world.referral.pk}/triage/book/"
    page = client.get(url).content.decode()
    for label in ("(Programme Manager)", "(Practitioner)", "(SPO)", "(QDO)"):
        assert label in page
    assert "Monday 16 November 2026, 09:45" in page  # the next free slot after now
    response = client.post(url, booking_post(world, add_attendees="hos_a"))
    meeting = TriageMeeting.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/triage/{meeting.pk}/")
    assert meeting.attendees.count() == 7
    assert meeting.attendees.get(user__username="hos_a").role == "invited"
    assert Referral.objects.get(pk=world.referral.pk).status == "triage_booked"
    # The page now reschedules: untick the psychologist.
    psych = world.users["psych_eoe"].pk
    ids = [a.user_id for a in meeting.attendees.all() if a.user_id != psych]
    moved = client.post(
        url, booking_post(world, attendees=[str(i) for i in ids], start_time="11:00")
    )
    assert moved.status_code == 302
    meeting.refresh_from_db()
    assert meeting.sequence == 1 and meeting.attendees.count() == 6
    assert meeting.start == WEDNESDAY_10 + dt.timedelta(hours=1)


def test_booking_errors_are_summarised_and_clashes_named(world: Any, meeting: Any) -> None:
    other = second_referral(world)
    client = client_for(world, "cc_eoe")
    url = f"/referrals/{other.pk}/triage/book/"
    bad = client.post(
        url, booking_post(world, other, start_day="31", start_month="2", start_time="ten")
    )
    body = bad.content.decode()
    assert bad.status_code == 400 and "There is a problem" in body
    assert "Enter the date of the triage as a real date" in body
    assert "Enter the time of the triage, for example 10:00" in body
    clash = client.post(url, booking_post(world, other, start_time="10:30"))
    body = clash.content.decode()
    assert (
        clash.status_code == 400 and "already booked for a triage on Wednesday 18 November" in body
    )
    assert 'href="#attendees"' in body
    stranger = client.post(
        url, booking_post(world, other, start_time="11:00", add_attendees="cc_ldn, nobody")
    )
    body = stranger.content.decode()
    assert (
        "cc_ldn is not in the region" in body
        and "No active user of the service is called nobody" in body
    )
    assert TriageMeeting.objects.filter(referral=other).count() == 0


def record_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "outcome": "for_panel",
        "panel_question": "How can partners help rebuild engagement?",
        "guidance": "Keep contact predictable",
        "blocker-0-theme": "engagement",
        "blocker-0-description": "Missed four appointments",
    }
    data.update(overrides)
    return data


def test_recording_the_triage(world: Any, meeting: Any) -> None:
    client = client_for(world, "cc_eoe")
    url = f"/triage/{meeting.pk}/"
    missing = client.post(
        url,
        record_post(
            panel_question="",
            **{"blocker-0-theme": "", "blocker-2-theme": "weather", "blocker-2-description": "x"},
        ),
    )
    body = missing.content.decode()
    assert missing.status_code == 400
    assert "Enter the question for the panel" in body
    assert "Select a theme for blocker" in body
    assert missing.context["record_form"].errors.get("blocker-2-theme")
    owner = world.users["manager"].pk
    action = {
        "action-1-description": "Share the psychiatric report",
        "action-1-owner": str(owner),
        "action-1-due_day": "1",
        "action-1-due_month": "12",
        "action-1-due_year": "2026",
    }
    half = client.post(
        url, record_post(**{"action-1-description": "Something", "action-1-owner": ""})
    )
    assert half.status_code == 400
    assert half.context["record_form"].errors.get("action-1-owner")
    done = client.post(url, record_post(**action))
    assert (done.status_code, done["Location"]) == (302, url)
    assert Referral.objects.get(pk=world.referral.pk).status == "awaiting_panel"
    assert Action.objects.get().description == "Share the psychiatric report"
    page = client_for(world, "manager").get(url).content.decode()
    assert (
        "How can partners help rebuild engagement?" in page and "Missed four appointments" in page
    )
    assert "Share the psychiatric report" in page and "Record the triage" not in page
    again = client.post(url, record_post())
    assert again.status_code == 302  # already recorded: told so, nothing written
    assert Action.objects.count() == 1


def test_cancelling_from_the_meeting_page(world: Any, meeting: Any) -> None:
    client = client_for(world, "cc_eoe")
    empty = client.post(f"/triage/{meeting.pk}/cancel/", {"reason": ""})
    assert (
        empty.status_code == 400 and "Enter why the triage is cancelled" in empty.content.decode()
    )
    response = client.post(f"/triage/{meeting.pk}/cancel/", {"reason": "Practitioner unwell"})
    assert response.status_code == 302
    assert TriageMeeting.objects.get(pk=meeting.pk).status == "cancelled"
    assert Referral.objects.get(pk=world.referral.pk).status == "received"
    assert client.get(f"/triage/{meeting.pk}/cancel/").status_code == 405


def test_views_of_the_meeting_are_audited(world: Any, meeting: Any) -> None:
    client_for(world, "manager").get(f"/triage/{meeting.pk}/")
    event = AuditEvent.objects.filter(action="view", object_type="triage_meeting").last()
    assert event is not None
    assert (event.actor_username, event.person_crn, event.object_id) == (
        "manager",
        world.person.crn,
        str(meeting.pk),
    )


def _meetings(world: Any, count: int, first: int = 0) -> None:
    for i in range(first, first + count):
        person: Any = PersonFactory(team=world.teams["A1"], pdu=world.pdus["A"])
        referral = referrals.referral_create(
            actor=world.users["cc_eoe"],
            person=person,
            challenges="c",
            support_sought="s",
            route_reason="practitioner_concern",
        )
        services.triage_book(
            actor=world.users["cc_eoe"],
            referral=referral,
            start=WEDNESDAY_10 + dt.timedelta(days=i // 8, minutes=45 * (i % 8)),
            invitees=[Invitee(world.users["cc_eoe"], "qdo")],
        )


def test_the_calendar_costs_the_same_queries_for_one_meeting_or_many(world: Any) -> None:
    client = client_for(world, "cc_eoe")
    _meetings(world, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/triage/").status_code == 200
    _meetings(world, 12, first=1)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/triage/")
    assert response.content.decode().count("View triage") == 13
    assert len(many) == len(one) <= 10
    assert "Free slots:" in response.content.decode()


def test_the_referral_page_include_renders_each_state(world: Any) -> None:
    from django.template.loader import render_to_string

    from complexcases.triage import selectors

    def html(user: str) -> str:
        referral = Referral.objects.get(pk=world.referral.pk)
        context = selectors.triage_for_referral(referral, user=world.users[user])
        return render_to_string("triage/_referral_triage.html", {"triage": context})

    book_href = f"/referrals/{world.referral.pk}/triage/book/"
    assert "No triage booked yet" in html("cc_eoe") and f'href="{book_href}"' in html("cc_eoe")
    assert book_href not in html("manager")
    meeting = services.triage_book(
        actor=world.users["cc_eoe"],
        referral=world.referral,
        start=WEDNESDAY_10,
        invitees=default_invitees(world.referral),
    )
    booked = html("cc_eoe")
    assert "Wednesday 18 November 2026, 10:00" in booked and f"/triage/{meeting.pk}/" in booked
    assert "change it" in booked and "change it" not in html("manager")
    services.triage_outcome_record(
        actor=world.users["cc_eoe"],
        meeting=meeting,
        outcome="signposted",
        signpost_destination="Adult social care",
        blockers=[("adult_social_care", "No assessment since release")],
    )
    held = html("manager")
    assert "Signposted elsewhere: Adult social care" in held
    assert "No assessment since release" in held and "Book triage" not in held
