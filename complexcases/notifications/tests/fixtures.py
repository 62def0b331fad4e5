"""Fixtures for the notifications tests: a real SMTP server on loopback and a real Celery worker.

`smtp_server`: an aiosmtpd server on 127.0.0.1 and a free port, with Django's SMTP backend pointed
at it. It collects what it receives (parsed MIME), can be stopped and started again on the same
port to simulate the mail server going down and coming back, and can refuse chosen recipients.

`celery_worker`: a Celery worker thread consuming from Redis (redis://127.0.0.1:6379/15, a queue
of its own) with eager mode off, so a task goes through the broker exactly as in production.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from conftest import skip_or_fail

REDIS_URL = "redis://127.0.0.1:6379/15"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = _Handler()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        assert self._controller is None
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, address: str) -> None:
        self.handler.refuse.add(address)

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Wait until at least `count` messages have arrived (for the worker test)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.received
            if len(received) >= count:
                return received
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, received {len(self.received)}")


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.CC_MAIL_FROM = "Complex Cases <complex.cases@cc.example.invalid>"
    settings.CC_SERVICE_URL = "https://complexcases.example.invalid"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def celery_worker() -> Iterator[Any]:
    """A real worker thread on the Redis broker, eager mode off, on a queue of its own."""
    import redis
    from celery import Celery
    from celery import current_app as celery_current_app
    from celery.contrib.testing.worker import start_worker

    import complexcases.notifications.tasks  # noqa: F401 - registers the shared tasks

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not running on 127.0.0.1:6379 ({type(exc).__name__})")

    previous = celery_current_app._get_current_object()  # type: ignore[attr-defined]
    queue = f"cc-notify-test-{uuid.uuid4().hex}"
    app = Celery("complexcases-test", set_as_current=False)
    app.conf.update(
        broker_url=REDIS_URL,
        result_backend=None,
        task_always_eager=False,
        task_default_queue=queue,
        task_ignore_result=True,
        broker_connection_retry_on_startup=False,
        worker_hijack_root_logger=False,
        timezone="Europe/London",
    )
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            # start_worker made `app` current, so `send_outbox_message.delay()` publishes to Redis.
            yield app
    finally:
        previous.set_current()
        previous.set_default()
        with app.connection() as connection:
            connection.default_channel.queue_delete(queue)


def read_retrying(read: Any, *, attempts: int = 50) -> Any:
    """Run a read from the test's thread while a worker thread writes. On the in-memory SQLite
    test database both threads share one cache, whose table locks make a read that meets the
    worker's write fail at once with "database table is locked" (SQLITE_LOCKED; the busy timeout
    does not apply). That is a property of the test database, not of the service: retry briefly.
    Any other error, and the same error after `attempts` tries, is raised."""
    from django.db import OperationalError

    for attempt in range(attempts):
        try:
            return read()
        except OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")
