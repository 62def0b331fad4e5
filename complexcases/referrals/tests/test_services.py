"""Services: conversations, referrals, every move of the table, closure, concurrency, reminders."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction

from complexcases.core.models import AuditEvent
from complexcases.core.transitions import TransitionNotAllowed
from complexcases.notifications.models import DeliusContact, OutboxMessage
from complexcases.referrals import services
from complexcases.referrals.models import (
    ConversationReminder,
    Referral,
    ReferralTransition,
    ReflectiveConversation,
)
from complexcases.referrals.states import MOVES, ReferralStatus
from complexcases.referrals.tests.world import MONTH, SIX, build_world

pytestmark = pytest.mark.django_db

S = ReferralStatus


@pytest.fixture
def world(db: Any) -> Any:
    return build_world()


def refer(world: Any, person: Any = None, **kwargs: Any) -> Referral:
    return services.referral_create(
        actor=world.users["manager"],
        person=person or world.person,
        challenges="Will not engage with accommodation services",
        support_sought="Advice from a psychologist",
        **kwargs,
    )


# --- reflective conversations -----------------------------------------------------------------


def test_conversation_is_recorded_audited_and_queues_one_sensitive_delius_contact(world):
    spo = world.users["spo_a1"]
    conversation = services.conversation_record(
        actor=spo,
        person=world.person,
        outcome="supported_elsewhere",
        supported_elsewhere="MAPPA level 2",
        held_on=dt.date(2026, 11, 5),
        note="Discussed at length",
    )
    assert conversation.month == MONTH
    contact = DeliusContact.objects.get()
    assert contact.event == "reflective_conversation" and contact.sensitive
    assert contact.person == world.person and contact.staff_code == spo.staff.staff_code
    assert "MAPPA level 2" in contact.notes and "Discussed at length" in contact.notes
    event = AuditEvent.objects.get(action="create", object_type="reflective_conversation")
    assert event.person_crn == world.person.crn and event.actor_username == "spo_a1"


def test_conversation_outcome_supported_elsewhere_needs_where(world):
    with pytest.raises(ValidationError) as refused:
        services.conversation_record(
            actor=world.users["manager"],
            person=world.person,
            outcome="supported_elsewhere",
            held_on=dt.date(2026, 11, 5),
        )
    assert "supported_elsewhere" in refused.value.message_dict
    assert not ReflectiveConversation.objects.exists()
    assert not DeliusContact.objects.exists()


# --- referral creation ------------------------------------------------------------------------


def test_referral_of_a_listed_person_is_monthly_list_and_keeps_what_the_service_knew(world):
    referral = refer(world)
    assert referral.route == "monthly_list" and referral.route_reason == ""
    assert referral.status == S.RECEIVED
    assert referral.manager == world.users["manager"].staff
    assert referral.spo_username == "spo_a1"
    assert (referral.pdu, referral.team) == (world.pdus["A"], world.teams["A1"])
    assert referral.screening_month == MONTH and referral.criteria_count == 6
    assert set(referral.criteria_met) == set(SIX) and referral.eligible_at_referral
    made = ReferralTransition.objects.get(referral=referral)
    assert (made.from_status, made.to_status, made.actor) == ("", S.RECEIVED, referral.referred_by)
    assert AuditEvent.objects.filter(action="create", object_type="referral").count() == 1


def test_person_not_listed_needs_professional_judgement_with_a_reason(world):
    with pytest.raises(ValidationError) as no_reason:
        refer(world, world.not_listed)
    assert no_reason.value.message_dict == {
        "route_reason": ["Select why you are referring this person"]
    }
    with pytest.raises(ValidationError) as wrong_route:
        refer(world, world.not_listed, route="monthly_list")
    assert "not on the latest monthly list" in wrong_route.value.message_dict["route"][0]
    referral = refer(
        world, world.not_listed, route_reason="other", route_reason_other="Gang affiliation"
    )
    assert referral.route == "professional_judgement"
    assert referral.route_reason_other == "Gang affiliation"
    assert not referral.eligible_at_referral


def test_empty_texts_are_refused_in_plain_english(world):
    with pytest.raises(ValidationError) as refused:
        services.referral_create(
            actor=world.users["manager"], person=world.person, challenges=" ", support_sought=""
        )
    assert refused.value.message_dict == {
        "challenges": ["Enter what is challenging about this case"],
        "support_sought": ["Enter what support you are looking for"],
    }


def test_a_second_open_referral_is_refused_with_the_open_one(world):
    first = refer(world)
    with pytest.raises(services.OpenReferralExists) as second:
        refer(world)
    assert second.value.referral == first
    services.referral_close(referral=first, actor=world.users["cc_eoe"], closure_reason="withdrawn")
    assert refer(world).pk != first.pk  # closed: a new referral may be made


def test_the_database_refuses_two_open_referrals_for_one_person(world):
    first = refer(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.create(
            person=world.person,
            route="monthly_list",
            challenges="x",
            support_sought="y",
            referred_by=first.referred_by,
            pdu=first.pdu,
            team=first.team,
        )


# --- every move of the table ------------------------------------------------------------------

PATHS: dict[str, list[str]] = {
    S.RECEIVED: [],
    S.TRIAGE_BOOKED: [S.TRIAGE_BOOKED],
    S.AWAITING_PANEL: [S.TRIAGE_BOOKED, S.AWAITING_PANEL],
    S.PANEL_BOOKED: [S.TRIAGE_BOOKED, S.AWAITING_PANEL, S.PANEL_BOOKED],
    S.HEARD_AT_PANEL: [S.TRIAGE_BOOKED, S.AWAITING_PANEL, S.PANEL_BOOKED, S.HEARD_AT_PANEL],
    S.IN_FOLLOW_UP: [
        S.TRIAGE_BOOKED,
        S.AWAITING_PANEL,
        S.PANEL_BOOKED,
        S.HEARD_AT_PANEL,
        S.IN_FOLLOW_UP,
    ],
}


def _referral_at(world: Any, status: str) -> Referral:
    referral = refer(world)
    actor = world.users["cc_eoe"]
    if status == S.CLOSED:
        return services.referral_close(referral=referral, actor=actor, closure_reason="completed")
    for step in PATHS[status]:
        referral = services.referral_transition(
            referral=referral, to=step, actor=actor, reason="set-up"
        )
    return referral


@pytest.mark.parametrize(("start", "to"), list(itertools.product(S.values, S.values)))
def test_every_move_is_allowed_exactly_when_the_table_says(world, start: str, to: str) -> None:
    referral = _referral_at(world, start)
    before = ReferralTransition.objects.filter(referral=referral).count()
    details = {"closure_reason": "completed"} if to == S.CLOSED else {}
    actor = world.users["cc_eoe"]
    if to in MOVES[start]:
        moved = services.referral_transition(
            referral=referral, to=to, actor=actor, reason="Because", **details
        )
        assert moved.status == to
        assert Referral.objects.get(pk=referral.pk).status == to
        last = ReferralTransition.objects.filter(referral=referral).order_by("id").last()
        assert last is not None
        assert (last.from_status, last.to_status, last.actor, last.reason) == (
            start,
            to,
            actor,
            "Because",
        )
        event = AuditEvent.objects.filter(action="transition").order_by("id").last()
        assert event is not None and event.before == {"status": start}
    else:
        with pytest.raises(TransitionNotAllowed):
            services.referral_transition(
                referral=referral, to=to, actor=actor, reason="Because", **details
            )
        assert Referral.objects.get(pk=referral.pk).status == start
        assert ReferralTransition.objects.filter(referral=referral).count() == before


@pytest.mark.parametrize(
    ("reason", "destination", "ok"),
    [
        ("resolved_at_triage", "", True),
        ("signposted", "Local authority adult social care", True),
        ("signposted", "", False),
        ("withdrawn", "", True),
        ("completed", "", True),
        ("left_caseload", "", True),
        ("", "", False),
        ("bored", "", False),
    ],
)
def test_closure_needs_a_valid_reason(world, reason: str, destination: str, ok: bool) -> None:
    referral = refer(world)
    actor = world.users["cc_eoe"]
    if ok:
        closed = services.referral_close(
            referral=referral,
            actor=actor,
            closure_reason=reason,
            closure_destination=destination,
        )
        assert (closed.status, closed.closure_reason) == (S.CLOSED, reason)
        assert closed.closure_destination == destination and closed.closed_at is not None
    else:
        with pytest.raises(ValidationError):
            services.referral_close(
                referral=referral,
                actor=actor,
                closure_reason=reason,
                closure_destination=destination,
            )
        assert Referral.objects.get(pk=referral.pk).status == S.RECEIVED


def test_a_move_to_closed_without_a_reason_is_refused(world):
    referral = refer(world)
    with pytest.raises(ValidationError):
        services.referral_transition(
            referral=referral, to=S.CLOSED, actor=world.users["cc_eoe"], reason=""
        )


def test_a_stale_referral_object_is_checked_against_the_current_status(world):
    referral = refer(world)
    stale = Referral.objects.get(pk=referral.pk)
    services.referral_transition(
        referral=referral, to=S.TRIAGE_BOOKED, actor=world.users["cc_eoe"], reason=""
    )
    with pytest.raises(TransitionNotAllowed):
        services.referral_transition(
            referral=stale, to=S.TRIAGE_BOOKED, actor=world.users["cc_eoe"], reason=""
        )


def test_a_close_expecting_another_status_is_refused_and_changes_nothing(world):
    # The referral page closes "from received"; a triage booked meanwhile must not be closed over.
    referral = refer(world)
    services.referral_transition(
        referral=referral, to=S.TRIAGE_BOOKED, actor=world.users["cc_eoe"], reason=""
    )
    with pytest.raises(TransitionNotAllowed) as refused:
        services.referral_close(
            referral=referral,
            actor=world.users["cc_eoe"],
            closure_reason="withdrawn",
            expected_status=S.RECEIVED,
        )
    assert refused.value.from_status == S.TRIAGE_BOOKED
    assert Referral.objects.get(pk=referral.pk).status == S.TRIAGE_BOOKED
    closed = services.referral_close(
        referral=referral,
        actor=world.users["cc_eoe"],
        closure_reason="withdrawn",
        expected_status=S.TRIAGE_BOOKED,
    )
    assert closed.status == S.CLOSED


# --- concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_moves_of_one_referral_cannot_both_succeed() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (row locks); runs in the PostgreSQL pass")
    world = build_world()
    referral = refer(world)
    actor = world.users["cc_eoe"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def move() -> None:
        try:
            barrier.wait()
            services.referral_transition(
                referral=referral, to=S.TRIAGE_BOOKED, actor=actor, reason="race"
            )
            outcomes.append("moved")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["moved", "refused"]
    history = ReferralTransition.objects.filter(referral=referral, to_status=S.TRIAGE_BOOKED)
    assert history.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_referrals_of_one_person_make_one() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (concurrent transactions); runs in the PostgreSQL pass")
    world = build_world()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create() -> None:
        try:
            barrier.wait()
            refer(world)
            outcomes.append("created")
        except services.OpenReferralExists:
            outcomes.append("exists")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "exists"]
    assert Referral.objects.count() == 1


# --- SPO reminders ----------------------------------------------------------------------------


def test_spo_reminder_waits_ten_working_days_then_goes_once_without_personal_data(world):
    # The run is as of Monday 2 November 2026: ten working days later is Monday 16 November.
    with time_machine.travel(dt.datetime(2026, 11, 13, 12, tzinfo=dt.UTC)):
        assert services.conversation_reminders_send(today=dt.date(2026, 11, 13)) == 0
    assert not OutboxMessage.objects.exists()
    with time_machine.travel(dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC)):
        assert services.conversation_reminders_send(today=dt.date(2026, 11, 16)) == 1
        assert services.conversation_reminders_send(today=dt.date(2026, 11, 17)) == 0
    message = OutboxMessage.objects.get()
    assert message.to == [world.users["spo_a1"].email]
    assert message.subject == (
        "Complex Cases: 1 listed case in your team awaits a reflective conversation"
    )
    person = world.person
    for text in (message.subject, message.body):
        assert person.crn not in text and person.surname not in text
    assert "http" in message.body
    assert ConversationReminder.objects.get().spo == world.users["spo_a1"]


def test_no_reminder_once_every_listed_case_has_a_conversation(world):
    services.conversation_record(
        actor=world.users["manager"],
        person=world.person,
        outcome="no_further_support",
        held_on=dt.date(2026, 11, 3),
    )
    assert services.conversation_reminders_send(today=dt.date(2026, 11, 30)) == 0


def test_reminder_skips_bank_holidays(db: Any) -> None:
    world = build_world()
    world.run.as_of = dt.date(2026, 12, 14)
    world.run.month = "2026-12"
    world.run.save(update_fields=["as_of", "month"])
    # 25 and 28 December are bank holidays: ten working days after 14 December is 30 December.
    with time_machine.travel(dt.datetime(2026, 12, 29, 12, tzinfo=dt.UTC)):
        assert services.conversation_reminders_send(today=dt.date(2026, 12, 29)) == 0
    with time_machine.travel(dt.datetime(2026, 12, 30, 12, tzinfo=dt.UTC)):
        assert services.conversation_reminders_send(today=dt.date(2026, 12, 30)) == 1
