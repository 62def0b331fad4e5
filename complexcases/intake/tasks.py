"""Celery task of the intake app: thin, safe to run twice or at once (the dedupe key)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from complexcases.intake import services


@shared_task(name="intake.poll_mailbox", ignore_result=True)
def poll_mailbox() -> dict[str, Any]:
    """Under beat, every CC_IMAP_POLL_SECONDS: read the Complex Cases mailbox once.

    A mail server that is down is reported in the result and the log; the messages wait on the
    server for the next poll, so there is nothing to retry here.
    """
    return services.mailbox_poll().as_dict()
