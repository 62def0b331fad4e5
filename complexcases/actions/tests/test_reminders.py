"""Reminders and escalation with frozen time: the daily task run day by day over weeks (with
weekends and the Christmas bank holidays), each email at most once, to the right people, generic."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from complexcases.actions import services, tasks
from complexcases.actions.models import Action, ActionReminder, ActionUpdate
from complexcases.actions.tests.world import make_action
from complexcases.core.models import AuditEvent
from complexcases.notifications.models import OutboxMessage
from complexcases.notifications.rules import contains_crn_shaped_token
from complexcases.triage.models import TriageTeamMember

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
D = dt.date
OWNER = "manager@example.justice.invalid"
PM = "pm_eoe@example.justice.invalid"


def run_daily(clock: Any, first: dt.date, last: dt.date) -> dict[dt.date, list[tuple[str, list]]]:
    """Run the beat task once each morning from `first` to `last`; what each run queued."""
    sent: dict[dt.date, list[tuple[str, list]]] = {}
    day = first
    while day <= last:
        clock.move_to(dt.datetime.combine(day, dt.time(7, 0), tzinfo=LONDON))
        before = set(OutboxMessage.objects.values_list("pk", flat=True))
        tasks.send_reminders()
        new = OutboxMessage.objects.exclude(pk__in=before).order_by("pk")
        if new:
            sent[day] = [(m.kind, m.to) for m in new]
        day += dt.timedelta(days=1)
    return sent


def test_an_action_is_reminded_before_due_when_overdue_and_escalated_once_each(
    world: Any, clock: Any
) -> None:
    action = make_action(world, due=D(2026, 11, 20))  # a Friday
    sent = run_daily(clock, D(2026, 11, 16), D(2026, 12, 31))
    assert sent == {
        D(2026, 11, 18): [("action_due_soon", [OWNER])],  # 2 working days before
        D(2026, 11, 23): [("action_overdue", [OWNER])],  # the first working day after
        D(2026, 11, 27): [("action_escalation", [PM])],  # 5 working days overdue
    }
    assert sorted(ActionReminder.objects.filter(action=action).values_list("kind", "sent_on")) == [
        ("due_soon", D(2026, 11, 18)),
        ("escalation", D(2026, 11, 27)),
        ("overdue", D(2026, 11, 23)),
    ]
    # Each is in the action's history and the audit trail (a disclosure: who it went to).
    reminders = ActionUpdate.objects.filter(action=action, details__has_key="reminder")
    assert reminders.count() == 3
    events = AuditEvent.objects.filter(action="send", object_type="action_reminder")
    assert sorted(tuple(e.recipients or ()) for e in events) == [(OWNER,), (OWNER,), (PM,)]
    assert {e.person_crn for e in events} == {world.person.crn}


def test_reminders_skip_weekends_and_the_christmas_bank_holidays(world: Any, clock: Any) -> None:
    make_action(world, due=D(2026, 12, 29))  # the Tuesday after Christmas
    sent = run_daily(clock, D(2026, 12, 14), D(2027, 1, 15))
    assert {day: [kind for kind, _to in rows] for day, rows in sent.items()} == {
        # 24 and 29 December are the two working days before (25 and 28 are bank holidays)
        D(2026, 12, 23): ["action_due_soon"],
        D(2026, 12, 30): ["action_overdue"],
        # 30, 31 December, (1 January a bank holiday), 4, 5, 6 January
        D(2027, 1, 6): ["action_escalation"],
    }


def test_running_the_task_again_the_same_day_sends_nothing_twice(world: Any, clock: Any) -> None:
    make_action(world, due=D(2026, 11, 20))
    clock.move_to(dt.datetime(2026, 11, 27, 7, tzinfo=LONDON))  # overdue and escalation due
    assert tasks.send_reminders() == {"due_soon": 0, "overdue": 1, "escalation": 1}
    assert tasks.send_reminders() == {"due_soon": 0, "overdue": 0, "escalation": 0}
    assert services.action_reminders_send(today=D(2026, 11, 27))["escalation"] == 0
    assert OutboxMessage.objects.count() == 2


def test_the_unique_constraint_stops_a_racing_second_send(world: Any, clock: Any) -> None:
    action = make_action(world, due=D(2026, 11, 20))
    assert services._reminder_queue(
        action=action, kind="overdue", today=D(2026, 11, 23), recipients=[OWNER]
    )
    # A second run that read before the first committed: its insert fails, its email vanishes.
    assert not services._reminder_queue(
        action=action, kind="overdue", today=D(2026, 11, 23), recipients=[OWNER]
    )
    assert OutboxMessage.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        ActionReminder.objects.create(action=action, kind="overdue", sent_on=D(2026, 11, 24))


def test_done_and_cancelled_actions_are_never_reminded(world: Any, clock: Any) -> None:
    actor = world.users["cc_eoe"]
    done = make_action(world, due=D(2026, 11, 20))
    services.action_transition(action=done, to="done", actor=actor)
    cancelled = make_action(world, due=D(2026, 11, 18))
    services.action_transition(
        action=cancelled, to="cancelled", actor=actor, cancellation_reason="Moved area"
    )
    blocked = make_action(world, due=D(2026, 11, 20), owner="cc_eoe")
    services.action_transition(action=blocked, to="blocked", actor=actor)
    sent = run_daily(clock, D(2026, 11, 16), D(2026, 12, 4))
    recipients = {tuple(to) for rows in sent.values() for _kind, to in rows}
    assert recipients == {("cc_eoe@example.justice.invalid",), (PM,)}  # the blocked one only
    assert not ActionReminder.objects.filter(action__in=[done, cancelled]).exists()


def test_an_action_finished_after_a_reminder_gets_no_more(world: Any, clock: Any) -> None:
    action = make_action(world, due=D(2026, 11, 20))
    run_daily(clock, D(2026, 11, 16), D(2026, 11, 23))
    services.action_transition(action=action, to="done", actor=world.users["manager"])
    assert run_daily(clock, D(2026, 11, 24), D(2026, 12, 31)) == {}
    assert set(ActionReminder.objects.values_list("kind", flat=True)) == {"due_soon", "overdue"}


def test_the_working_days_come_from_settings(world: Any, clock: Any, settings: Any) -> None:
    settings.CC_ACTION_REMINDER_WORKING_DAYS = 0
    settings.CC_ACTION_ESCALATION_WORKING_DAYS = 2
    make_action(world, due=D(2026, 11, 20))
    sent = run_daily(clock, D(2026, 11, 16), D(2026, 11, 30))
    assert {day: [kind for kind, _to in rows] for day, rows in sent.items()} == {
        D(2026, 11, 20): ["action_due_soon"],
        D(2026, 11, 23): ["action_overdue"],
        D(2026, 11, 24): ["action_escalation"],
    }


def test_without_a_programme_manager_the_regions_team_is_told(world: Any, clock: Any) -> None:
    TriageTeamMember.objects.filter(function="programme_manager").delete()
    make_action(world, due=D(2026, 11, 20))
    clock.move_to(dt.datetime(2026, 11, 27, 7, tzinfo=LONDON))
    services.action_reminders_send(today=D(2026, 11, 27))
    escalation = OutboxMessage.objects.get(kind="action_escalation")
    # The East of England cc_team (not London's).
    assert escalation.to == sorted(
        f"{u}@example.justice.invalid" for u in ("cc_eoe", "pm_eoe", "ca_eoe", "psych_eoe")
    )


def test_the_emails_are_generic_with_a_link_and_no_personal_data(world: Any, clock: Any) -> None:
    action = make_action(world, due=D(2026, 11, 20))
    clock.move_to(dt.datetime(2026, 11, 27, 7, tzinfo=LONDON))
    services.action_reminders_send(today=D(2026, 11, 27))
    for message in OutboxMessage.objects.all():
        text = message.subject + message.body
        assert f"/actions/{action.pk}/" in message.body
        assert "Friday 20 November 2026" in message.body
        assert not contains_crn_shaped_token(text)
        for personal in (world.person.crn, world.person.surname, world.person.forename, "housing"):
            assert personal not in text


def test_an_owner_without_an_address_is_reminded_once_they_have_one(world: Any, clock: Any) -> None:
    owner = world.users["manager"]
    owner.email = ""
    owner.save(update_fields=["email"])
    owner.staff.email = ""
    owner.staff.save(update_fields=["email"])
    make_action(world, due=D(2026, 11, 20))
    assert services.action_reminders_send(today=D(2026, 11, 18))["due_soon"] == 0
    assert not ActionReminder.objects.exists()
    owner.email = "manager.new@example.justice.invalid"
    owner.save(update_fields=["email"])
    assert services.action_reminders_send(today=D(2026, 11, 19))["due_soon"] == 1
    assert OutboxMessage.objects.get().to == ["manager.new@example.justice.invalid"]


def test_reminders_wait_for_a_working_day(world: Any, clock: Any) -> None:
    make_action(world, due=D(2026, 11, 23))
    assert services.action_reminders_send(today=D(2026, 11, 21)) == {
        "due_soon": 0,
        "overdue": 0,
        "escalation": 0,
    }
    assert Action.objects.count() == 1 and not OutboxMessage.objects.exists()
