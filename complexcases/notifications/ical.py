"""iCalendar (RFC 5545 / iTIP RFC 5546) meeting invitations, updates and cancellations.

One meeting keeps one UID for life; every change is sent again with a higher SEQUENCE (METHOD
REQUEST updates the meeting in the attendees' calendars, METHOD CANCEL with STATUS CANCELLED removes
it). Times are written in Europe/London (DTSTART;TZID=Europe/London:...) so the meeting stays at
10:00 local time on either side of a clock change; DTSTAMP is in UTC.

The VTIMEZONE is written with yearly RRULEs (last Sunday of March and of October, the UK rule since
1996) rather than icalendar's generated list of RDATEs: Outlook builds its own time zone from a
VTIMEZONE and is known to mishandle RDATE-only definitions, while the RRULE form is what Outlook,
Google and Exchange themselves emit. tests/test_ical.py checks this definition against tzdata.

Summaries and descriptions must be generic (no names, no CRNs): services.outbox_enqueue refuses a
message whose .ics holds a CRN-shaped token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress
from icalendar.enums import STATUS, TRANSP

from complexcases.core import clock
from complexcases.notifications.rules import LONDON

PRODID = "-//HM Prison and Probation Service//Complex Cases//EN"
METHODS = ("REQUEST", "CANCEL")
ATTENDEE_ROLES = ("REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT", "CHAIR")


def london_vtimezone() -> Timezone:
    """The Europe/London VTIMEZONE in the RRULE form that every calendar client accepts."""
    daylight = TimezoneDaylight()
    daylight.add("TZNAME", "BST")
    daylight.add("TZOFFSETFROM", dt.timedelta(0))
    daylight.add("TZOFFSETTO", dt.timedelta(hours=1))
    daylight.add("DTSTART", dt.datetime(1996, 3, 31, 1, 0, 0))  # noqa: DTZ001 - local by design
    daylight.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": 3, "BYDAY": "-1SU"})

    standard = TimezoneStandard()
    standard.add("TZNAME", "GMT")
    standard.add("TZOFFSETFROM", dt.timedelta(hours=1))
    standard.add("TZOFFSETTO", dt.timedelta(0))
    standard.add("DTSTART", dt.datetime(1996, 10, 27, 2, 0, 0))  # noqa: DTZ001 - local by design
    standard.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": 10, "BYDAY": "-1SU"})

    timezone = Timezone()
    timezone.add("TZID", "Europe/London")
    timezone.add("X-LIC-LOCATION", "Europe/London")
    timezone.add_component(daylight)
    timezone.add_component(standard)
    return timezone


def build_invitation(
    *,
    uid: str,
    sequence: int,
    method: str,
    start: dt.datetime,
    end: dt.datetime,
    summary: str,
    description: str,
    organiser: tuple[str, str],
    attendees: Sequence[tuple[str, str, str]],
    location: str = "",
    url: str = "",
    stamp: dt.datetime | None = None,
) -> bytes:
    """Build a one-event VCALENDAR for an invitation (REQUEST) or a cancellation (CANCEL).

    organiser is (email, name); attendees are (email, name, role) with role one of ATTENDEE_ROLES.
    start and end must be timezone-aware; they are written in Europe/London. `stamp` (DTSTAMP, when
    this version was made) defaults to now, in UTC. Raises ValueError on anything a client would
    reject.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    if not uid or "\n" in uid or "\r" in uid:
        raise ValueError("uid must be a non-empty single line")
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    for value in (start, end, stamp):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("times must be timezone-aware")
    if end <= start:
        raise ValueError("end must be after start")
    if not attendees:
        raise ValueError("an invitation needs at least one attendee")

    cancelled = method == "CANCEL"
    organiser_email, organiser_name = organiser
    attendee_addresses = []
    for email, name, role in attendees:
        if role not in ATTENDEE_ROLES:
            raise ValueError(f"attendee role must be one of {ATTENDEE_ROLES}")
        attendee_addresses.append(
            vCalAddress.new(
                email,
                cn=name or None,
                cutype="INDIVIDUAL",
                role=role,
                partstat="NEEDS-ACTION",
                rsvp=not cancelled,
            )
        )

    event = Event.new(
        uid=uid,
        sequence=sequence,
        stamp=(stamp or clock.now()).astimezone(dt.UTC),
        start=start.astimezone(LONDON),
        end=end.astimezone(LONDON),
        summary=summary,
        description=description,
        organizer=vCalAddress.new(organiser_email, cn=organiser_name or None),
        attendees=attendee_addresses,
        location=location or None,
        url=url or None,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.OPAQUE,
    )
    if cancelled:
        # Outlook looks for this to treat a cancellation as one, not as an update.
        event.add("PRIORITY", 1)

    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    calendar.add_component(london_vtimezone())
    calendar.add_component(event)
    return calendar.to_ical()
