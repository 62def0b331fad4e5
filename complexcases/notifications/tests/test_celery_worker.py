"""Integration: a real Celery worker on the Redis broker delivers a queued message over SMTP."""

from __future__ import annotations

import time
from typing import Any

import pytest
from celery.signals import task_prerun
from django.db import transaction

from complexcases.notifications import services
from complexcases.notifications.models import OutboxMessage, OutboxStatus
from complexcases.notifications.tests.fixtures import read_retrying


def _wait_for_status(message_id: int, status: str, timeout: float = 20.0) -> OutboxMessage:
    deadline = time.monotonic() + timeout
    while True:
        row = read_retrying(lambda: OutboxMessage.objects.get(pk=message_id))
        if row.status == status or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_delivers_a_queued_message(
    celery_worker: Any, smtp_server: Any
) -> None:
    ran: list[dict[str, Any]] = []

    def record(task: Any, **kwargs: Any) -> None:
        ran.append({"eager": task.request.is_eager, **(task.request.delivery_info or {})})

    task_prerun.connect(record, weak=False)
    with transaction.atomic():
        row = services.outbox_enqueue(
            to=["practitioner@cc.example.invalid"],
            subject="Complex Cases triage: Tuesday 3 March, 10:00",
            body="A triage meeting has been booked.\n",
            kind="triage_invitation",
        )
        # Nothing leaves before the commit.
        time.sleep(0.3)
        assert smtp_server.received == []

    [received] = smtp_server.wait_for(1)
    assert received.message["Message-ID"] == row.message_id
    assert received.rcpt_tos == ["practitioner@cc.example.invalid"]
    row = _wait_for_status(row.pk, OutboxStatus.SENT)
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 1
    task_prerun.disconnect(record)
    # It went through the broker, on the worker's queue, not eagerly in this thread.
    assert ran and ran[0]["eager"] is False
    assert ran[0]["routing_key"] == celery_worker.conf.task_default_queue


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_after_the_mail_server_returns(
    celery_worker: Any, smtp_server: Any, settings: Any
) -> None:
    # A short back-off so the worker's own retry (eta = the row's next attempt) comes quickly.
    settings.CC_OUTBOX_RETRY_BASE_SECONDS = 1
    smtp_server.stop()
    with transaction.atomic():
        row = services.outbox_enqueue(
            to=["practitioner@cc.example.invalid"],
            subject="Complex Cases panel: Monday 2 November, 10:00",
            body="Panel papers are ready.\n",
            kind="panel_papers",
        )
    deadline = time.monotonic() + 20
    # attempts counts from the claim, last_error is written once the attempt has failed
    while (
        not read_retrying(lambda: OutboxMessage.objects.get(pk=row.pk).last_error)
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert OutboxMessage.objects.get(pk=row.pk).last_error == "ConnectionRefusedError"
    smtp_server.start()

    [received] = smtp_server.wait_for(1)
    assert received.message["Message-ID"] == row.message_id
    row = _wait_for_status(row.pk, OutboxStatus.SENT)
    assert row.status == OutboxStatus.SENT
    assert row.attempts >= 2
