"""A real email through a real SMTP server: the invitation arrives with its .ics and carries no
personal data about the person (no name, no CRN) in the subject, body or invitation."""

from __future__ import annotations

from typing import Any

import pytest
from icalendar import Calendar

from complexcases.triage import services
from complexcases.triage.tests.world import WEDNESDAY_10, default_invitees

pytestmark = pytest.mark.django_db


def test_the_invitation_arrives_by_smtp_without_personal_data(
    world: Any, smtp_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        meeting = services.triage_book(
            actor=world.users["cc_eoe"],
            referral=world.referral,
            start=WEDNESDAY_10,
            invitees=default_invitees(world.referral),
        )
    [received] = smtp_server.wait_for(1)
    message = received.message
    assert message["Subject"] == "Complex Cases triage: Wednesday 18 November, 10:00"
    assert sorted(received.rcpt_tos) == sorted(a.email for a in meeting.attendees.all())
    parts = {part.get_content_type(): part for part in message.walk()}
    body = parts["text/plain"].get_content()
    calendar_part = parts["text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    ics = calendar_part.get_content()
    attachment = parts["application/ics"]
    assert attachment.get_filename() == "invite.ics"
    assert Calendar.from_ical(ics)["METHOD"] == "REQUEST"
    assert f"https://complexcases.example.invalid/triage/{meeting.pk}/" in body
    assert "Programme Manager" in body and "Practitioner" in body
    person = world.person
    for text in (message["Subject"], body, ics, attachment.get_content().decode()):
        for secret in (person.crn, person.forename, person.surname, "Hostile to staff"):
            assert secret not in text
