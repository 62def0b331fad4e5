"""Celery tasks of the actions app: thin, safe to run twice (ActionReminder is unique per action
and kind, so a second run the same day sends nothing)."""

from __future__ import annotations

from celery import shared_task

from complexcases.actions import services
from complexcases.core import clock


@shared_task(name="actions.send_reminders", ignore_result=True)
def send_reminders() -> dict[str, int]:
    """Daily under beat: due-soon and overdue reminders to owners, escalations to the region's
    Programme Manager. Today is the Europe/London date."""
    return services.action_reminders_send(today=clock.today())
