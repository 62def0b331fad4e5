"""Celery tasks for the outbox: thin, take ids, call a service, safe to retry or run twice.

`send_outbox_message` is the fast path, scheduled on commit by services.outbox_enqueue.
`send_due_outbox` is the safety net, run by beat every minute (CELERY_BEAT_SCHEDULE): it sends
whatever is due, including messages queued while the broker or the mail server was down, and rows
whose worker died while sending. The row in the database, not the Celery message, is the source of
truth, so a lost, duplicated or early Celery message cannot lose or double a send (see the
services module docstring for the one SMTP crash window).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from complexcases.notifications import services


@shared_task(
    bind=True,
    name="notifications.send_outbox_message",
    acks_late=True,
    # The database being briefly unavailable: let Celery retry with its own back-off. Mail
    # failures are recorded in the row and retried below on the schedule from rules.py.
    autoretry_for=(DatabaseError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    max_retries=None,
)
def send_outbox_message(self: Any, message_id: int) -> str:
    result = services.outbox_send(message_id)
    if result.outcome == "retry" and result.retry_at is not None and not self.request.is_eager:
        # Come back exactly when the row says the next attempt is due; the row counts attempts
        # and turns to "failed" after the last one, so no Celery max_retries is needed here.
        # (Eager mode, the embedded default, does not wait: the sweep or send_outbox retries.)
        raise self.retry(eta=result.retry_at, max_retries=None)
    return result.outcome


@shared_task(name="notifications.send_due_outbox", ignore_result=True)
def send_due_outbox(limit: int = 100) -> dict[str, int]:
    return services.outbox_send_due(limit=limit)
