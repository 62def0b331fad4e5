"""Celery tasks of the referrals app: thin, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from complexcases.core import clock
from complexcases.referrals import services


@shared_task(name="referrals.send_conversation_reminders", ignore_result=True)
def send_conversation_reminders() -> int:
    """Daily under beat: remind SPOs of listed cases still awaiting a reflective conversation."""
    return services.conversation_reminders_send(today=clock.today())
