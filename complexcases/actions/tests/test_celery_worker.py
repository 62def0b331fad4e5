"""Integration: the beat task `actions.send_reminders` runs on a real Celery worker through the
Redis broker, and the reminder it queues arrives at a real SMTP server."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from celery.signals import task_prerun

import complexcases.actions.tasks  # noqa: F401 - registers the task with the worker's app
from complexcases.actions.models import ActionReminder
from complexcases.actions.tasks import send_reminders
from complexcases.actions.tests.world import build_actions_world, make_action
from complexcases.notifications.tests.fixtures import read_retrying


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_due_soon_reminder(celery_worker: Any, smtp_server: Any) -> None:
    ran: list[dict[str, Any]] = []

    def record(task: Any, **kwargs: Any) -> None:
        ran.append({"name": task.name, "eager": task.request.is_eager})

    # Monday 23 November 2026, 07:00 UTC; the clock ticks so the worker and broker keep time.
    with time_machine.travel(dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC), tick=True):
        world = build_actions_world()
        action = make_action(world, due=dt.date(2026, 11, 24))  # due tomorrow
        task_prerun.connect(record, weak=False)
        try:
            send_reminders.delay()
            [received] = smtp_server.wait_for(1)
        finally:
            task_prerun.disconnect(record)
    assert received.rcpt_tos == ["manager@example.justice.invalid"]
    assert received.message["Subject"] == "Complex Cases: an action you own is due soon"
    body = received.message.get_body(preferencelist=("plain",)).get_content()
    assert f"https://complexcases.example.invalid/actions/{action.pk}/" in body
    assert world.person.crn not in body and world.person.surname not in body
    assert read_retrying(lambda: ActionReminder.objects.get(action=action).kind) == "due_soon"
    # The reminder task and the email task both went through the broker to the worker.
    names = {(r["name"], r["eager"]) for r in ran}
    assert ("actions.send_reminders", False) in names
    assert ("notifications.send_outbox_message", False) in names
