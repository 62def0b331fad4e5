"""Triage services: booking (defaults, the referral's move, double-booking), rescheduling and
cancelling (SEQUENCE and METHOD), every outcome, nDelius contacts queued once, concurrency."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections

from complexcases.actions.models import Action
from complexcases.core.models import AuditEvent
from complexcases.core.transitions import TransitionNotAllowed
from complexcases.notifications.models import DeliusContact, OutboxMessage
from complexcases.notifications.services import meeting_uid
from complexcases.referrals.models import Referral, ReferralTransition
from complexcases.triage import selectors, services
from complexcases.triage.models import TriageAttendee, TriageMeeting, TriageRecord
from complexcases.triage.services import ActionInput, AttendeesBusy, Invitee
from complexcases.triage.tests.world import (
    NOW,
    WEDNESDAY_10,
    build_triage_world,
    default_invitees,
    second_referral,
)

pytestmark = pytest.mark.django_db

ROLES = {
    "pm_eoe": "programme_manager",
    "ca_eoe": "case_admin",
    "cc_eoe": "qdo",
    "psych_eoe": "senior_forensic_psychologist",
    "manager": "practitioner",
    "spo_a1": "spo",
}


def book(world: Any, referral: Any = None, start: dt.datetime = WEDNESDAY_10, **kw: Any) -> Any:
    referral = referral or world.referral
    return services.triage_book(
        actor=world.users["cc_eoe"],
        referral=referral,
        start=start,
        invitees=kw.pop("invitees", None) or default_invitees(referral),
        **kw,
    )


def messages() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.order_by("id"))


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_are_the_team_the_practitioner_and_the_spo(world: Any) -> None:
    defaults = selectors.booking_defaults(world.referral)
    assert {p.user.username: p.role for p in defaults.proposed} == ROLES
    assert defaults.missing == []


def test_a_custody_case_invites_the_pom_or_says_one_is_needed(world: Any) -> None:
    world.person.in_custody = True
    world.person.save(update_fields=["in_custody"])
    defaults = selectors.booking_defaults(world.referral)
    assert any("POM" in text for text in defaults.missing)
    manager_staff = world.users["manager"].staff
    manager_staff.grade = "POM"
    manager_staff.save(update_fields=["grade"])
    world.referral.refresh_from_db()
    defaults = selectors.booking_defaults(world.referral)
    assert {p.user.username: p.role for p in defaults.proposed}["manager"] == "pom"
    assert defaults.missing == []


# --- booking ----------------------------------------------------------------------------------


def test_booking_moves_the_referral_invites_everyone_and_queues_one_contact(world: Any) -> None:
    meeting = book(world)
    assert Referral.objects.get(pk=world.referral.pk).status == "triage_booked"
    assert (meeting.status, meeting.sequence) == ("booked", 0)
    assert meeting.end - meeting.start == dt.timedelta(minutes=45)
    assert meeting.region == world.regions["EOE"]
    attendees = {a.user.username: a.role for a in meeting.attendees.all()}
    assert attendees == ROLES
    [message] = messages()
    assert (message.ics_method, message.kind) == ("REQUEST", "triage_invitation")
    assert sorted(message.to) == sorted(world.users[u].email for u in ROLES)
    assert message.subject == "Complex Cases triage: Wednesday 18 November, 10:00"
    assert f"/triage/{meeting.pk}/" in message.body
    [contact] = DeliusContact.objects.all()
    assert (contact.event, contact.contact_type, contact.sensitive) == (
        "triage_booked",
        "CCTB",
        True,
    )
    assert contact.staff_code == world.users["cc_eoe"].staff.staff_code
    assert contact.contact_date == dt.date(2026, 11, 16)
    assert contact.person == world.person
    assert "18 November" in contact.notes and world.person.surname not in contact.notes
    assert AuditEvent.objects.filter(action="create", object_type="triage_meeting").count() == 1
    send = AuditEvent.objects.get(action="send", object_type="triage_meeting")
    assert sorted(send.recipients or []) == sorted(message.to)


def test_the_booker_without_a_staff_record_uses_the_case_managers_code(world: Any) -> None:
    world.users["cc_eoe"].staff = None
    world.users["cc_eoe"].save(update_fields=["staff"])
    book(world)
    assert DeliusContact.objects.get().staff_code == world.users["manager"].staff.staff_code


def test_a_referral_not_received_cannot_be_booked(world: Any) -> None:
    book(world)
    with pytest.raises(TransitionNotAllowed):
        book(world, start=WEDNESDAY_10 + dt.timedelta(days=1))
    assert TriageMeeting.objects.count() == 1
    assert DeliusContact.objects.count() == 1


@pytest.mark.parametrize(
    "start",
    [
        NOW - dt.timedelta(hours=1),  # past
        dt.datetime(2026, 11, 21, 10, tzinfo=WEDNESDAY_10.tzinfo),  # Saturday
        WEDNESDAY_10.replace(hour=16, minute=30),  # ends after 17:00
    ],
)
def test_a_bad_time_is_refused(world: Any, start: dt.datetime) -> None:
    with pytest.raises(ValidationError) as refused:
        book(world, start=start)
    assert set(refused.value.message_dict) == {"start"}
    assert not TriageMeeting.objects.exists()
    assert Referral.objects.get(pk=world.referral.pk).status == "received"


def test_attendees_without_email_or_twice_are_refused(world: Any) -> None:
    spo = world.users["spo_a1"]
    spo.email = ""
    spo.save(update_fields=["email"])
    spo.staff.email = ""
    spo.staff.save(update_fields=["email"])
    pm = world.users["pm_eoe"]
    with pytest.raises(ValidationError) as refused:
        book(world, invitees=[Invitee(spo, "spo"), Invitee(pm, "qdo"), Invitee(pm, "qdo")])
    problems = refused.value.message_dict["attendees"]
    assert any("no email" in p for p in problems) and any("twice" in p for p in problems)


def test_nobody_is_double_booked(world: Any) -> None:
    book(world)
    other = second_referral(world)
    pm = world.users["pm_eoe"]
    with pytest.raises(AttendeesBusy) as refused:
        book(world, other, start=WEDNESDAY_10 + dt.timedelta(minutes=30))
    assert any("already booked" in p for p in refused.value.message_dict["attendees"])
    assert Referral.objects.get(pk=other.pk).status == "received"
    assert TriageMeeting.objects.count() == 1
    assert OutboxMessage.objects.count() == 1 and DeliusContact.objects.count() == 1
    # Someone else entirely at the same time is fine; back to back is fine for everyone.
    book(world, other, start=WEDNESDAY_10, invitees=[Invitee(world.users["hos_a"], "invited")])
    TriageMeeting.objects.filter(referral=other).update(status="cancelled")
    Referral.objects.filter(pk=other.pk).update(status="received")
    meeting = book(world, other, start=WEDNESDAY_10 + dt.timedelta(minutes=45))
    assert meeting.attendees.filter(user=pm).exists()


# --- reschedule and cancel --------------------------------------------------------------------


def test_a_new_time_sends_a_request_with_the_next_sequence_to_everyone(world: Any) -> None:
    meeting = book(world)
    moved = services.triage_reschedule(
        actor=world.users["cc_eoe"], meeting=meeting, start=WEDNESDAY_10 + dt.timedelta(days=1)
    )
    assert moved.sequence == 1
    first, update = messages()
    assert (update.ics_method, sorted(update.to)) == ("REQUEST", sorted(first.to))
    assert "SEQUENCE:1" in update.ics and meeting_uid("triage", meeting.pk) in update.ics.replace(
        "\r\n ", ""
    )
    assert update.subject == "Complex Cases triage: Thursday 19 November, 10:00"
    assert AuditEvent.objects.filter(action="update", object_type="triage_meeting").count() == 1


def test_removing_an_attendee_cancels_for_them_and_updates_the_others(world: Any) -> None:
    meeting = book(world)
    keep = [i for i in default_invitees(world.referral) if i.user.username != "psych_eoe"]
    services.triage_reschedule(actor=world.users["cc_eoe"], meeting=meeting, invitees=keep)
    _, update, cancel = messages()
    psych = world.users["psych_eoe"].email
    assert update.ics_method == "REQUEST" and psych not in update.to
    assert (cancel.ics_method, cancel.to) == ("CANCEL", [psych])
    assert "SEQUENCE:1" in update.ics and "SEQUENCE:1" in cancel.ics
    assert not TriageAttendee.objects.filter(meeting=meeting, user__username="psych_eoe").exists()


def test_adding_an_attendee_and_changing_nothing(world: Any) -> None:
    meeting = book(world)
    services.triage_reschedule(
        actor=world.users["cc_eoe"], meeting=meeting, invitees=default_invitees(world.referral)
    )
    assert len(messages()) == 1  # nothing changed, nothing sent
    added = [*default_invitees(world.referral), Invitee(world.users["hos_a"], "invited")]
    services.triage_reschedule(actor=world.users["cc_eoe"], meeting=meeting, invitees=added)
    update = messages()[-1]
    assert world.users["hos_a"].email in update.to
    assert TriageMeeting.objects.get(pk=meeting.pk).sequence == 1


def test_rescheduling_into_a_clash_is_refused(world: Any) -> None:
    meeting = book(world)
    other = book(world, second_referral(world), start=WEDNESDAY_10 + dt.timedelta(days=1))
    with pytest.raises(AttendeesBusy):
        services.triage_reschedule(
            actor=world.users["cc_eoe"],
            meeting=other,
            start=WEDNESDAY_10 + dt.timedelta(minutes=15),
        )
    assert TriageMeeting.objects.get(pk=other.pk).sequence == 0
    # Moving a meeting within its own time is not a clash with itself.
    services.triage_reschedule(
        actor=world.users["cc_eoe"], meeting=meeting, start=WEDNESDAY_10 + dt.timedelta(minutes=15)
    )


def test_cancel_sends_cancel_to_all_and_puts_the_referral_back(world: Any) -> None:
    meeting = book(world)
    with pytest.raises(ValidationError):
        services.triage_cancel(actor=world.users["cc_eoe"], meeting=meeting, reason=" ")
    cancelled = services.triage_cancel(
        actor=world.users["cc_eoe"], meeting=meeting, reason="Practitioner on leave"
    )
    assert (cancelled.status, cancelled.sequence) == ("cancelled", 1)
    request, cancel = messages()
    assert cancel.ics_method == "CANCEL" and sorted(cancel.to) == sorted(request.to)
    assert "SEQUENCE:1" in cancel.ics and "STATUS:CANCELLED" in cancel.ics
    assert cancel.subject.startswith("Cancelled: Complex Cases triage")
    assert Referral.objects.get(pk=world.referral.pk).status == "received"
    back = ReferralTransition.objects.filter(referral=world.referral).last()
    assert back is not None and "Practitioner on leave" in back.reason
    with pytest.raises(TransitionNotAllowed):
        services.triage_cancel(actor=world.users["cc_eoe"], meeting=meeting, reason="again")
    with pytest.raises(ValidationError):
        services.triage_reschedule(
            actor=world.users["cc_eoe"], meeting=meeting, start=WEDNESDAY_10 + dt.timedelta(days=1)
        )
    # The slot is free again and the referral can be booked again.
    again = book(world)
    assert again.pk != meeting.pk
    assert DeliusContact.objects.filter(event="triage_booked").count() == 2


# --- the outcome ------------------------------------------------------------------------------

BLOCKERS = [("accommodation", "No move-on address"), ("engagement", "Missed four appointments")]


def record(world: Any, meeting: Any, outcome: str, **kw: Any) -> TriageRecord:
    return services.triage_outcome_record(
        actor=world.users["pm_eoe"],
        meeting=meeting,
        outcome=outcome,
        blockers=kw.pop("blockers", BLOCKERS),
        guidance="Keep contact predictable",
        sensitive_notes="Disclosed a family matter",
        **kw,
    )


@pytest.mark.parametrize(
    ("outcome", "extra", "status", "closure", "destination"),
    [
        ("resolved_at_triage", {}, "closed", "resolved_at_triage", ""),
        ("for_panel", {"panel_question": "How can partners help?"}, "awaiting_panel", "", ""),
        (
            "signposted",
            {"signpost_destination": "Adult social care"},
            "closed",
            "signposted",
            "Adult social care",
        ),
        ("withdrawn", {"blockers": []}, "closed", "withdrawn", ""),
    ],
)
def test_each_outcome_moves_the_referral(
    world: Any, outcome: str, extra: dict, status: str, closure: str, destination: str
) -> None:
    meeting = book(world)
    saved = record(world, meeting, outcome, **extra)
    referral = Referral.objects.get(pk=world.referral.pk)
    assert (referral.status, referral.closure_reason, referral.closure_destination) == (
        status,
        closure,
        destination,
    )
    assert TriageMeeting.objects.get(pk=meeting.pk).status == "held"
    assert saved.blockers.count() == len(extra.get("blockers", BLOCKERS))
    contact = DeliusContact.objects.get(event="triage_outcome")
    assert (contact.contact_type, contact.sensitive, contact.source_id) == (
        "CCTO",
        True,
        str(saved.pk),
    )
    assert contact.contact_date == dt.date(2026, 11, 18)
    assert "Disclosed a family matter" not in contact.notes
    if outcome == "for_panel":
        move = ReferralTransition.objects.filter(referral=referral).last()
        assert move is not None and move.details["panel_question"] == "How can partners help?"
        assert "How can partners help?" in contact.notes
    assert AuditEvent.objects.filter(action="create", object_type="triage_record").count() == 1


@pytest.mark.parametrize(
    ("outcome", "extra", "field"),
    [
        ("for_panel", {}, "panel_question"),
        ("signposted", {}, "signpost_destination"),
        ("resolved_at_triage", {"blockers": []}, "blockers"),
        ("nonsense", {}, "outcome"),
    ],
)
def test_an_outcome_without_what_it_needs_is_refused(
    world: Any, outcome: str, extra: dict, field: str
) -> None:
    meeting = book(world)
    with pytest.raises(ValidationError) as refused:
        record(world, meeting, outcome, **extra)
    assert field in refused.value.message_dict
    assert TriageMeeting.objects.get(pk=meeting.pk).status == "booked"
    assert not TriageRecord.objects.exists()
    assert not DeliusContact.objects.filter(event="triage_outcome").exists()


def test_actions_are_created_through_the_actions_app(world: Any) -> None:
    meeting = book(world)
    owner = world.users["manager"]
    saved = record(
        world,
        meeting,
        "resolved_at_triage",
        actions_agreed=[
            ActionInput("Duty to refer to housing", owner, dt.date(2026, 12, 1)),
            ActionInput("Book a joint visit", world.users["cc_eoe"], dt.date(2026, 11, 30)),
        ],
    )
    actions = list(Action.objects.order_by("due_date"))
    assert [a.description for a in actions] == ["Book a joint visit", "Duty to refer to housing"]
    assert {(a.source, a.source_id, a.referral_id) for a in actions} == {
        ("triage", str(saved.pk), world.referral.pk)
    }
    assert "Duty to refer to housing" in DeliusContact.objects.get(event="triage_outcome").notes
    with pytest.raises(ValidationError) as refused:
        record(
            world,
            book(world, second_referral(world), start=WEDNESDAY_10 + dt.timedelta(days=1)),
            "resolved_at_triage",
            actions_agreed=[ActionInput("", None, None)],
        )
    assert {"action-0-description", "action-0-owner", "action-0-due_date"} <= set(
        refused.value.message_dict
    )


def test_an_outcome_is_recorded_once_and_contacts_are_queued_once(world: Any) -> None:
    meeting = book(world)
    record(world, meeting, "resolved_at_triage")
    with pytest.raises(TransitionNotAllowed):
        record(world, meeting, "withdrawn", blockers=[])
    assert TriageRecord.objects.count() == 1
    assert DeliusContact.objects.filter(event="triage_booked").count() == 1
    assert DeliusContact.objects.filter(event="triage_outcome").count() == 1
    with pytest.raises(TransitionNotAllowed):
        services.triage_cancel(actor=world.users["cc_eoe"], meeting=meeting, reason="late")


# --- reads for other pages --------------------------------------------------------------------


def test_triage_for_referral_and_upcoming_triage_for(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    summary = selectors.triage_for_referral(world.referral, user=world.users["cc_eoe"])
    assert summary["may_book"] and summary["booked"] is None
    assert not selectors.triage_for_referral(world.referral, user=world.users["manager"])[
        "may_book"
    ]
    meeting = book(world)
    world.referral.refresh_from_db()
    summary = selectors.triage_for_referral(world.referral, user=world.users["cc_eoe"])
    assert summary["booked"] == meeting and not summary["may_book"] and summary["may_reschedule"]
    with django_assert_max_num_queries(1):
        upcoming = selectors.upcoming_triage_for(
            world.users["manager"], today=dt.date(2026, 11, 16)
        )
    assert [(u.meeting_id, u.role) for u in upcoming] == [(meeting.pk, "Practitioner")]
    assert (
        selectors.upcoming_triage_for(world.users["colleague"], today=dt.date(2026, 11, 16)) == []
    )
    assert selectors.upcoming_triage_for(world.users["manager"], today=dt.date(2026, 11, 19)) == []
    record(world, meeting, "for_panel", panel_question="Q?")
    with django_assert_max_num_queries(2):
        summary = selectors.triage_for_referral(world.referral)
    assert summary["record"].outcome == "for_panel" and len(summary["blockers"]) == 2


# --- concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_of_the_same_attendee_cannot_both_succeed() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (row locks); runs in the PostgreSQL pass")
    with time_machine.travel(NOW, tick=False):
        world = build_triage_world()
        referrals = [world.referral, second_referral(world)]
        pm = world.users["pm_eoe"]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def attempt(referral: Any, offset: int) -> None:
            try:
                barrier.wait()
                services.triage_book(
                    actor=world.users["cc_eoe"],
                    referral=referral,
                    start=WEDNESDAY_10 + dt.timedelta(minutes=offset),
                    invitees=[Invitee(pm, "programme_manager")],
                )
                outcomes.append("booked")
            except AttendeesBusy:
                outcomes.append("busy")
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=attempt, args=(r, offset))
            for r, offset in zip(referrals, (0, 15), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["booked", "busy"]
        assert TriageAttendee.objects.filter(user=pm, meeting__status="booked").count() == 1
        assert Referral.objects.filter(status="triage_booked").count() == 1
