"""Celery application. Eager in the embedded default; Redis broker in production."""

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("complexcases")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

OUTBOX_SWEEP_TASK = "notifications.send_due_outbox"


@app.on_after_configure.connect
def _add_default_periodic_tasks(sender: Celery, **kwargs: Any) -> None:
    """Run the outbox sweep every minute under beat, unless CELERY_BEAT_SCHEDULE already has it.

    The sweep is what guarantees that a message queued while the broker or the mail server was
    down is still sent, so it must not depend on someone remembering to configure it.
    """
    from django.conf import settings

    schedule = sender.conf.beat_schedule or {}
    if any(entry.get("task") == OUTBOX_SWEEP_TASK for entry in schedule.values()):
        return
    sender.add_periodic_task(
        float(getattr(settings, "CC_OUTBOX_SWEEP_SECONDS", 60)),
        sender.signature(OUTBOX_SWEEP_TASK),
        name="notifications: send due outbox messages",
    )
