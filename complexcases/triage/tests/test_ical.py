"""The triage invitations parsed back with the icalendar library: UID, SEQUENCE, METHOD,
ORGANIZER, ATTENDEEs and Europe/London times on either side of the clock changes."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from icalendar import Calendar

from complexcases.notifications.models import OutboxMessage
from complexcases.notifications.services import meeting_uid
from complexcases.triage import services
from complexcases.triage.tests.world import build_triage_world, default_invitees, second_referral

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def parsed(message: OutboxMessage) -> tuple[Calendar, Any]:
    calendar = Calendar.from_ical(message.ics)
    [event] = calendar.events
    return calendar, event


@pytest.fixture
def autumn(db: Any) -> Any:
    with time_machine.travel(dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC), tick=False):
        yield build_triage_world()


@pytest.fixture
def spring(db: Any) -> Any:
    with time_machine.travel(dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC), tick=False):
        yield build_triage_world()


def test_the_invitation_carries_uid_sequence_method_organiser_and_attendees(autumn: Any) -> None:
    start = dt.datetime(2026, 10, 21, 10, tzinfo=LONDON)
    meeting = services.triage_book(
        actor=autumn.users["cc_eoe"],
        referral=autumn.referral,
        start=start,
        invitees=default_invitees(autumn.referral),
    )
    calendar, event = parsed(OutboxMessage.objects.get())
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == meeting_uid("triage", meeting.pk)
    assert event.sequence == 0
    assert str(event["ORGANIZER"]) == "mailto:complex.cases@justice.example"
    attendees = {str(a): (a.params["CN"], a.params["ROLE"]) for a in event.attendees}
    users = autumn.users
    assert attendees == {
        f"mailto:{users['pm_eoe'].email}": ("Programme Manager", "CHAIR"),
        f"mailto:{users['ca_eoe'].email}": ("Case administrator", "REQ-PARTICIPANT"),
        f"mailto:{users['cc_eoe'].email}": ("QDO", "REQ-PARTICIPANT"),
        f"mailto:{users['psych_eoe'].email}": ("Senior Forensic Psychologist", "REQ-PARTICIPANT"),
        f"mailto:{users['manager'].email}": ("Practitioner", "REQ-PARTICIPANT"),
        f"mailto:{users['spo_a1'].email}": ("SPO", "REQ-PARTICIPANT"),
    }
    assert event.start == start and event.end == start + dt.timedelta(minutes=45)
    assert str(event.start.tzinfo) == "Europe/London"
    assert event["URL"].endswith(f"/triage/{meeting.pk}/")


@pytest.mark.parametrize(
    ("world_name", "before", "after"),
    [
        # Autumn: clocks go back on Sunday 25 October 2026 (BST -> GMT).
        ("autumn", dt.date(2026, 10, 23), dt.date(2026, 10, 26)),
        # Spring: clocks go forward on Sunday 28 March 2027 (GMT -> BST); Good Friday and Easter
        # Monday are bank holidays, so the working days either side are Thursday and Tuesday.
        ("spring", dt.date(2027, 3, 25), dt.date(2027, 3, 30)),
    ],
)
def test_london_times_either_side_of_a_clock_change(
    request: Any, world_name: str, before: dt.date, after: dt.date
) -> None:
    world = request.getfixturevalue(world_name)
    actor = world.users["cc_eoe"]
    first = services.triage_book(
        actor=actor,
        referral=world.referral,
        start=dt.datetime.combine(before, dt.time(10), tzinfo=LONDON),
        invitees=default_invitees(world.referral),
    )
    other = second_referral(world)
    services.triage_book(
        actor=actor,
        referral=other,
        start=dt.datetime.combine(after, dt.time(10), tzinfo=LONDON),
        invitees=default_invitees(other),
    )
    # The first meeting moves across the clock change: still 10:00 in London, a new SEQUENCE.
    services.triage_reschedule(
        actor=actor, meeting=first, start=dt.datetime.combine(after, dt.time(11), tzinfo=LONDON)
    )
    sent = list(OutboxMessage.objects.order_by("id"))
    events = [parsed(message)[1] for message in sent]
    offsets = []
    for event, day, hour in zip(events, (before, after, after), (10, 10, 11), strict=True):
        local = event.start
        assert str(local.tzinfo) == "Europe/London"
        assert (local.date(), local.hour, local.minute) == (day, hour, 0)
        assert event.end - event.start == dt.timedelta(minutes=45)
        offsets.append(local.utcoffset())
        raw = f"DTSTART;TZID=Europe/London:{day:%Y%m%d}T{hour:02d}0000"
    assert raw in sent[-1].ics
    assert offsets[1] == offsets[2] != offsets[0]
    assert {o.total_seconds() for o in offsets} == {0, 3600}
    assert [e.sequence for e in events] == [0, 0, 1]
    assert events[0]["UID"] == events[2]["UID"] != events[1]["UID"]
    # The VTIMEZONE each client builds the zone from is the UK rule.
    calendar = Calendar.from_ical(sent[-1].ics)
    [timezone] = calendar.walk("VTIMEZONE")
    assert timezone["TZID"] == "Europe/London"


def test_the_cancellation_parses_with_method_cancel_and_the_next_sequence(autumn: Any) -> None:
    meeting = services.triage_book(
        actor=autumn.users["cc_eoe"],
        referral=autumn.referral,
        start=dt.datetime(2026, 10, 21, 10, tzinfo=LONDON),
        invitees=default_invitees(autumn.referral),
    )
    services.triage_cancel(actor=autumn.users["cc_eoe"], meeting=meeting, reason="Unwell")
    calendar, event = parsed(OutboxMessage.objects.order_by("id").last())  # type: ignore[arg-type]
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED" and event.sequence == 1
    assert event["UID"] == meeting_uid("triage", meeting.pk)
