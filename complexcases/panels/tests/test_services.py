"""The panel services: schedule, booking with invitations and reasons, papers, delegation,
conclusion with outcome email and contact, follow-up moves, addenda, and panel members' access."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.core.exceptions import ValidationError

from complexcases.accounts import access
from complexcases.accounts.tests.cast import fresh
from complexcases.core.models import AuditEvent
from complexcases.notifications.models import DeliusContact, OutboxMessage
from complexcases.panels import selectors, services
from complexcases.panels.models import FollowUp, PanelCase, PanelMeeting
from complexcases.panels.rules import PanelRole
from complexcases.panels.states import CaseStatus, FollowUpOutcome, InvitationStatus
from complexcases.panels.tests.world import BOOKED_AT, FIRST_MEETING, build_panel_world
from complexcases.people.tests.factories import PersonFactory
from complexcases.referrals.models import Referral
from complexcases.referrals.states import ReferralStatus

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def world() -> Any:
    return build_panel_world()


def book(world: Any, **kwargs: Any) -> PanelCase:
    return services.panel_case_book(
        actor=world.users["cc_eoe"],
        referral=world.referral,
        question="How can the panel help rebuild engagement?",
        now=BOOKED_AT,
        **kwargs,
    )


def parse(message: OutboxMessage) -> Any:
    return icalendar.Calendar.from_ical(message.ics)


def test_schedule_creates_a_years_meetings_once_with_the_may_bank_holiday_moved(world: Any) -> None:
    meetings = list(PanelMeeting.objects.filter(series=world.series).order_by("date"))
    assert len(meetings) == 12
    may = [m for m in meetings if m.scheduled_date == dt.date(2027, 5, 3)][0]
    assert may.date == dt.date(2027, 5, 4) and "bank holiday" in may.date_note
    assert may.papers_due == dt.date(2027, 4, 26)
    again = services.meetings_schedule(
        series=world.series,
        start=dt.date(2027, 1, 1),
        until=dt.date(2027, 12, 31),
        actor=world.users["cc_eoe"],
    )
    assert again == 0


def test_series_refuses_a_bad_rule_and_times(world: Any) -> None:
    with pytest.raises(ValidationError) as error:
        services.series_create(
            actor=world.users["cc_eoe"],
            region=world.regions["EOE"],
            name="",
            rrule="FREQ=MONTHLY;COUNT=2",
            first_date=dt.date(2027, 1, 4),
            start_time=dt.time(13, 0),
            end_time=dt.time(10, 0),
            holiday_policy="sometimes",
        )
    assert set(error.value.message_dict) == {"name", "rrule", "end_time", "holiday_policy"}


def test_booking_takes_the_first_free_slot_of_the_first_meeting_and_moves_the_referral(
    world: Any,
) -> None:
    case = book(world)
    assert case.meeting.date == FIRST_MEETING
    assert case.slot_index == 0
    assert case.start == dt.datetime(2027, 2, 1, 10, 0, tzinfo=dt.UTC)  # GMT: 10:00 London
    assert Referral.objects.get(pk=world.referral.pk).status == ReferralStatus.PANEL_BOOKED
    assert case.papers_issued_at is None


def test_core_roles_recommended_roles_and_parties_are_invited_each_with_a_reason(
    world: Any,
) -> None:
    case = book(world)
    invitations = {
        (i.panel_role or i.party_role): i for i in case.invitations.select_related("user")
    }
    # The referral's criteria include mental_health and mappa (referrals/tests/world.py SIX).
    assert set(invitations) == {
        PanelRole.CHAIR,
        PanelRole.PROGRAMME_MANAGER,
        PanelRole.HEAD_OF_PDU,
        PanelRole.CASE_ADMIN,
        PanelRole.MENTAL_HEALTH_LEAD,
        PanelRole.HEAD_PUBLIC_PROTECTION,
        "practitioner",
        "spo",
    }
    assert PanelRole.QDO not in invitations
    assert invitations[PanelRole.HEAD_OF_PDU].user == world.users["hos_a"]
    assert invitations[PanelRole.CHAIR].core and not invitations[PanelRole.MENTAL_HEALTH_LEAD].core
    assert "Mental health" in invitations[PanelRole.MENTAL_HEALTH_LEAD].reason
    assert all(i.reason for i in invitations.values())


def test_a_second_booking_of_the_same_slot_is_refused(world: Any) -> None:
    first = book(world)
    other = PersonFactory(
        crn="Y000002",
        team=world.teams["A1"],
        pdu=world.pdus["A"],
        offender_manager=world.users["manager"].staff,
    )
    from complexcases.panels.tests.world import referral_awaiting_panel

    second_referral = referral_awaiting_panel(
        world, other, route="professional_judgement", route_reason="practitioner_concern"
    )
    with pytest.raises(services.SlotTaken):
        services.panel_case_book(
            actor=world.users["cc_eoe"],
            referral=second_referral,
            question="Q",
            meeting=first.meeting,
            slot_index=0,
            now=BOOKED_AT,
        )
    second = services.panel_case_book(
        actor=world.users["cc_eoe"], referral=second_referral, question="Q", now=BOOKED_AT
    )
    assert (second.meeting_id, second.slot_index) == (first.meeting_id, 1)


def test_booking_needs_a_question_and_a_referral_awaiting_panel(world: Any) -> None:
    with pytest.raises(ValidationError):
        services.panel_case_book(
            actor=world.users["cc_eoe"], referral=world.referral, question=" ", now=BOOKED_AT
        )
    book(world)
    with pytest.raises(ValidationError):
        book(world)  # now panel_booked


def test_the_invitation_is_a_request_for_the_slot_in_london_time_without_personal_data(
    world: Any,
) -> None:
    case = book(world)
    message = OutboxMessage.objects.get(kind="panel_invitation", ref_id=str(case.pk))
    calendar = parse(message)
    event = calendar.walk("VEVENT")[0]
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]).startswith(f"complexcases-panel-case-{case.pk}@")
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == dt.datetime(2027, 2, 1, 10, 0, tzinfo=dt.UTC)
    attendees = {str(a).removeprefix("mailto:").lower() for a in event.get("ATTENDEE")}
    assert "manager@justice.example" in attendees and "mh.lead@justice.example" in attendees
    for text in (message.subject, message.body, message.ics):
        assert "Y000001" not in text
        assert world.person.surname not in text


def test_papers_are_issued_on_their_date_once_with_an_updated_invitation(world: Any) -> None:
    case = book(world)
    before_due = dt.datetime(2027, 1, 22, 7, 0, tzinfo=dt.UTC)  # a Friday, papers due Monday 25th
    assert services.papers_issue_due(now=before_due) == 0
    on_due = dt.datetime(2027, 1, 25, 7, 0, tzinfo=dt.UTC)
    assert services.papers_issue_due(now=on_due) == 1
    assert services.papers_issue_due(now=on_due) == 0
    case.refresh_from_db()
    assert case.papers_issued_at == on_due
    assert not selectors.papers_late(case)
    requests = OutboxMessage.objects.filter(kind="panel_invitation", ref_id=str(case.pk))
    assert sorted(int(parse(m).walk("VEVENT")[0]["SEQUENCE"]) for m in requests) == [0, 1]


def test_a_late_booking_issues_papers_at_once_and_flags_them_late(world: Any) -> None:
    late = dt.datetime(2027, 1, 28, 9, 0, tzinfo=dt.UTC)  # after the 25 January papers date
    case = services.panel_case_book(
        actor=world.users["cc_eoe"], referral=world.referral, question="Q", now=late
    )
    assert case.papers_issued_at == late
    assert selectors.papers_late(case)


def test_panel_member_sees_the_case_only_from_papers_issue_until_the_follow_up_ends(
    world: Any,
) -> None:
    lead = world.roster[PanelRole.MENTAL_HEALTH_LEAD]
    case = book(world)

    def sees(user: Any) -> bool:
        return access.panel_case_visible(fresh(user), PanelCase.objects.get(pk=case.pk))

    assert not sees(lead)
    services.papers_issue_due(now=dt.datetime(2027, 1, 25, 7, 0, tzinfo=dt.UTC))
    assert sees(lead)
    # Case by case: the invitation opens this case, never the person's other pages.
    assert not access.people_visible_to(fresh(lead)).filter(pk=world.person.pk).exists()
    # A panel member not invited to the case never sees it.
    uninvited = world.roster[PanelRole.HEAD_PUBLIC_PROTECTION]
    case.invitations.filter(user=uninvited).delete()
    assert not sees(uninvited)
    conclude(world, case)
    assert sees(lead)  # until the follow-up ends
    follow_up = FollowUp.objects.get(referral=world.referral)
    record_follow_up(world, follow_up, FollowUpOutcome.BACK_TO_PANEL)
    assert not sees(lead)  # back to panel: a new booking, a new invitation


def test_delegating_to_a_deputy_resends_the_invitation_to_the_deputy(world: Any) -> None:
    case = book(world)
    chair = case.invitations.get(panel_role=PanelRole.CHAIR)
    with pytest.raises(ValidationError):
        services.invitation_respond(
            actor=chair.user,
            invitation=chair,
            status=InvitationStatus.DELEGATED,
            delegate=world.users["colleague"],
        )
    services.invitation_respond(
        actor=chair.user,
        invitation=chair,
        status=InvitationStatus.DELEGATED,
        delegate=world.roster["deputy_chair"],
        note="On leave",
    )
    latest = OutboxMessage.objects.filter(kind="panel_invitation").order_by("-id").first()
    assert latest is not None
    event = parse(latest).walk("VEVENT")[0]
    attendees = {str(a).removeprefix("mailto:").lower() for a in event.get("ATTENDEE")}
    assert "deputy.chair@justice.example" in attendees
    assert chair.user.email.lower() not in attendees
    assert int(event["SEQUENCE"]) == 1
    first = parse(OutboxMessage.objects.filter(kind="panel_invitation").order_by("id")[0])
    assert str(event["UID"]) == str(first.walk("VEVENT")[0]["UID"])


def test_apologies_from_the_only_mental_health_lead_show_missing_expertise(world: Any) -> None:
    case = book(world)
    assert selectors.missing_expertise(case) == []
    lead = case.invitations.get(panel_role=PanelRole.MENTAL_HEALTH_LEAD)
    services.invitation_respond(actor=lead.user, invitation=lead, status=InvitationStatus.APOLOGIES)
    assert selectors.missing_expertise(PanelCase.objects.get(pk=case.pk)) == ["Mental health lead"]


def conclude(world: Any, case: PanelCase) -> PanelCase:
    return services.panel_case_conclude(
        actor=world.roster[PanelRole.CHAIR],
        case=case,
        summary="Psychology consultation agreed; housing referral to be chased.",
        now=dt.datetime(2027, 2, 1, 12, 0, tzinfo=dt.UTC),
    )


def record_follow_up(world: Any, follow_up: FollowUp, outcome: str) -> FollowUp:
    return services.follow_up_record(
        actor=world.users["cc_eoe"],
        follow_up=follow_up,
        progress_notes="Consultation held.",
        remaining_blockers="",
        wellbeing=4,
        confidence=3,
        outcome=outcome,
    )


def test_conclusion_locks_the_case_moves_the_referral_emails_and_queues_a_contact(
    world: Any,
) -> None:
    case = conclude(world, book(world))
    assert case.status == CaseStatus.CONCLUDED
    assert Referral.objects.get(pk=world.referral.pk).status == ReferralStatus.HEARD_AT_PANEL
    outcome = OutboxMessage.objects.get(kind="panel_outcome")
    assert set(outcome.to) == {
        "manager@justice.example",
        "spo_a1@justice.example",
        "hos_a@justice.example",
    }
    assert "Y000001" not in outcome.body and f"/panels/cases/{case.pk}/" in outcome.body
    contact = DeliusContact.objects.get(event="panel_outcome")
    assert contact.sensitive and contact.person == world.person
    follow_up = FollowUp.objects.get(referral=world.referral)
    assert follow_up.due == dt.date(2027, 3, 1)  # 20 working days after 1 February
    assert follow_up.qdo == world.users["cc_eoe"]
    with pytest.raises(ValidationError):
        services.agenda_note_save(actor=world.users["cc_eoe"], case=case, step=3, text="late")
    addendum = services.addendum_add(actor=world.users["cc_eoe"], case=case, text="Correction.")
    assert addendum.author == world.users["cc_eoe"]
    assert AuditEvent.objects.filter(object_type="panel_addendum").count() == 1


@pytest.mark.parametrize(
    ("outcome", "status", "scheduled_after"),
    [
        (FollowUpOutcome.CLOSE, ReferralStatus.CLOSED, 0),
        (FollowUpOutcome.FURTHER_FOLLOW_UP, ReferralStatus.IN_FOLLOW_UP, 1),
        (FollowUpOutcome.BACK_TO_PANEL, ReferralStatus.AWAITING_PANEL, 0),
    ],
)
def test_follow_up_outcome_moves_the_referral(
    world: Any, outcome: str, status: str, scheduled_after: int
) -> None:
    conclude(world, book(world))
    follow_up = FollowUp.objects.get(referral=world.referral)
    record_follow_up(world, follow_up, outcome)
    referral = Referral.objects.get(pk=world.referral.pk)
    assert referral.status == status
    if status == ReferralStatus.CLOSED:
        assert referral.closure_reason == "completed"
    assert FollowUp.objects.filter(referral=referral, status="scheduled").count() == scheduled_after
    with pytest.raises(ValidationError):
        record_follow_up(world, FollowUp.objects.get(pk=follow_up.pk), outcome)


def test_follow_up_needs_wellbeing_and_confidence_from_1_to_5(world: Any) -> None:
    conclude(world, book(world))
    follow_up = FollowUp.objects.get(referral=world.referral)
    with pytest.raises(ValidationError) as error:
        services.follow_up_record(
            actor=world.users["cc_eoe"],
            follow_up=follow_up,
            progress_notes="",
            remaining_blockers="",
            wellbeing=0,
            confidence=None,
            outcome="maybe",
        )
    assert set(error.value.message_dict) == {"wellbeing", "confidence", "outcome"}


def test_cancelling_a_slot_sends_cancel_with_a_higher_sequence_and_frees_it(world: Any) -> None:
    case = book(world)
    services.panel_case_cancel(actor=world.users["cc_eoe"], case=case, reason="Practitioner ill")
    cancel = OutboxMessage.objects.get(kind="panel_cancellation")
    calendar = parse(cancel)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert int(calendar.walk("VEVENT")[0]["SEQUENCE"]) == 1
    request = parse(OutboxMessage.objects.get(kind="panel_invitation", ref_id=str(case.pk)))
    # The cancellation is of the same event: same UID, higher SEQUENCE.
    assert str(calendar.walk("VEVENT")[0]["UID"]) == str(request.walk("VEVENT")[0]["UID"])
    assert int(request.walk("VEVENT")[0]["SEQUENCE"]) == 0
    assert Referral.objects.get(pk=world.referral.pk).status == ReferralStatus.AWAITING_PANEL
    again = book(world)
    assert (again.meeting_id, again.slot_index) == (case.meeting_id, 0)


def test_a_needed_role_with_nobody_on_the_roster_shows_as_missing_expertise() -> None:
    world = build_panel_world(mental_health_lead=False)
    case = book(world)
    assert not case.invitations.filter(panel_role=PanelRole.MENTAL_HEALTH_LEAD).exists()
    assert selectors.missing_expertise(case) == ["Mental health lead"]
