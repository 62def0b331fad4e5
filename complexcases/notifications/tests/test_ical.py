"""iCalendar invitations: parsed back with icalendar, checked field by field, across clock changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from complexcases.notifications.ical import build_invitation, london_vtimezone

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC

ORGANISER = ("programme.manager@cc.example.invalid", "Programme Manager")
ATTENDEES = [
    ("programme.manager@cc.example.invalid", "Programme Manager", "CHAIR"),
    ("practitioner@cc.example.invalid", "Alex Practitioner", "REQ-PARTICIPANT"),
    ("psychologist@cc.example.invalid", "Sam Psychologist", "OPT-PARTICIPANT"),
]


def _invitation(**overrides: object) -> Calendar:
    start = dt.datetime(2026, 3, 3, 10, 0, tzinfo=LONDON)
    arguments: dict[str, object] = {
        "uid": "complexcases-triage-42@cc.example.invalid",
        "sequence": 0,
        "method": "REQUEST",
        "start": start,
        "end": start + dt.timedelta(minutes=45),
        "summary": "Complex Cases triage",
        "description": "Sign in to see the details: https://service.invalid/triage/42",
        "organiser": ORGANISER,
        "attendees": ATTENDEES,
        "url": "https://service.invalid/triage/42",
    }
    arguments.update(overrides)
    ics = build_invitation(**arguments)  # type: ignore[arg-type]
    assert isinstance(ics, bytes)
    return Calendar.from_ical(ics)


def test_invitation_carries_uid_sequence_method_organiser_and_attendees() -> None:
    calendar = _invitation()
    assert calendar["METHOD"] == "REQUEST"
    assert calendar["VERSION"] == "2.0"
    [event] = calendar.events
    assert event["UID"] == "complexcases-triage-42@cc.example.invalid"
    assert event.sequence == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == "Complex Cases triage"
    assert str(event["ORGANIZER"]) == "mailto:programme.manager@cc.example.invalid"
    assert event["ORGANIZER"].params["CN"] == "Programme Manager"
    attendees = {
        str(a): (a.params["CN"], a.params["ROLE"], a.params["PARTSTAT"], a.params["RSVP"])
        for a in event.attendees
    }
    assert attendees == {
        f"mailto:{email}": (name, role, "NEEDS-ACTION", "TRUE") for email, name, role in ATTENDEES
    }
    assert event["URL"] == "https://service.invalid/triage/42"
    # DTSTAMP is a UTC time
    assert event.stamp.utcoffset() == dt.timedelta(0)


def test_times_are_written_with_the_london_tzid_and_a_vtimezone() -> None:
    ics = build_invitation(
        uid="u@x.invalid",
        sequence=1,
        method="REQUEST",
        start=dt.datetime(2026, 7, 7, 9, 0, tzinfo=UTC),  # 10:00 BST
        end=dt.datetime(2026, 7, 7, 9, 45, tzinfo=UTC),
        summary="Complex Cases triage",
        description="x",
        organiser=ORGANISER,
        attendees=ATTENDEES,
    ).decode()
    assert "DTSTART;TZID=Europe/London:20260707T100000" in ics
    assert "DTEND;TZID=Europe/London:20260707T104500" in ics
    calendar = Calendar.from_ical(ics)
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/London"]
    # VTIMEZONE comes before the event that uses it
    assert ics.index("BEGIN:VTIMEZONE") < ics.index("BEGIN:VEVENT")


@pytest.mark.parametrize(
    ("day", "utc_offset_hours"),
    [
        (dt.date(2026, 3, 23), 0),  # last Monday before the March change: GMT
        (dt.date(2026, 3, 30), 1),  # first Monday after it (29 March): BST
        (dt.date(2026, 10, 19), 1),  # last Monday before the October change: BST
        (dt.date(2026, 10, 26), 0),  # last Monday of October, after the change (25th): GMT
        (dt.date(2026, 11, 2), 0),  # first Monday of November: GMT
        (dt.date(2027, 3, 29), 1),  # Easter Monday 2027, the day after the change
    ],
)
def test_a_ten_oclock_meeting_stays_at_ten_london_time_across_clock_changes(
    day: dt.date, utc_offset_hours: int
) -> None:
    start = dt.datetime.combine(day, dt.time(10, 0), tzinfo=LONDON)
    [event] = _invitation(start=start, end=start + dt.timedelta(minutes=45)).events
    parsed_start, parsed_end = event.start, event.end
    assert isinstance(parsed_start, dt.datetime) and isinstance(parsed_end, dt.datetime)
    assert (parsed_start.hour, parsed_start.minute) == (10, 0)
    assert (parsed_end.hour, parsed_end.minute) == (10, 45)
    assert parsed_start.date() == day
    assert parsed_start.utcoffset() == dt.timedelta(hours=utc_offset_hours)
    assert parsed_start.astimezone(UTC).hour == 10 - utc_offset_hours


def test_the_vtimezone_agrees_with_tzdata_around_every_change_for_twenty_years() -> None:
    # The VTIMEZONE is what Outlook reads; it must give the same offsets as the tz database.
    tz_from_vtimezone = london_vtimezone().to_tz(lookup_tzid=False)  # not tzdata by name
    # Compared at UTC instants (every half hour through the change weeks), which avoids the
    # local times that do not exist or happen twice.
    for year in range(2020, 2041):
        for month in (3, 10):
            instant = dt.datetime(year, month, 24, tzinfo=UTC)
            while instant < dt.datetime(year, month + 1, 1, tzinfo=UTC):
                expected = instant.astimezone(LONDON)
                actual = instant.astimezone(tz_from_vtimezone)
                assert actual.utcoffset() == expected.utcoffset(), instant
                assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None), instant
                instant += dt.timedelta(minutes=30)


def test_cancellation_keeps_the_uid_raises_the_sequence_and_is_cancelled() -> None:
    request = _invitation(sequence=0)
    update = _invitation(sequence=1)
    cancel = _invitation(method="CANCEL", sequence=2)
    assert cancel["METHOD"] == "CANCEL"
    [request_event], [update_event], [cancel_event] = (
        request.events,
        update.events,
        cancel.events,
    )
    assert request_event["UID"] == update_event["UID"] == cancel_event["UID"]
    assert request_event.sequence < update_event.sequence < cancel_event.sequence
    assert cancel_event["STATUS"] == "CANCELLED"
    assert {a.params["RSVP"] for a in cancel_event.attendees} == {"FALSE"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"method": "PUBLISH"}, "method"),
        ({"uid": ""}, "uid"),
        ({"sequence": -1}, "sequence"),
        ({"start": dt.datetime(2026, 3, 3, 10, 0)}, "timezone-aware"),  # noqa: DTZ001
        (
            {
                "start": dt.datetime(2026, 3, 3, 10, 0, tzinfo=LONDON),
                "end": dt.datetime(2026, 3, 3, 10, 0, tzinfo=LONDON),
            },
            "end must be after start",
        ),
        ({"attendees": []}, "attendee"),
        ({"attendees": [("a@x.invalid", "A", "BOSS")]}, "role"),
    ],
)
def test_invalid_invitations_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _invitation(**overrides)
