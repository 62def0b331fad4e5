"""Two polls reading the same message at once, and two team members completing the same email at
once: one referral each time (PostgreSQL, where requests really run in parallel)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from complexcases.accounts.models import Region
from complexcases.intake import services
from complexcases.intake.models import InboundEmail
from complexcases.intake.tests.mail import STRANGER_ADDRESS, make_email, stored
from complexcases.notifications.models import OutboxMessage
from complexcases.referrals.models import Referral
from complexcases.referrals.tests.world import LISTED, build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        # Not a missing part: CI runs the suite on PostgreSQL too, where this runs.
        pytest.skip("PostgreSQL only (parallel transactions); runs in the PostgreSQL pass")


def _in_parallel(work: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        from django.db import connections

        try:
            results.append(work())
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


def test_two_polls_reading_one_message_make_one_referral(monkeypatch: pytest.MonkeyPatch) -> None:
    _postgres_only()
    build_world()
    region = Region.objects.get(code="EOE")
    raw = make_email()
    # Both readers pass the "already stored?" check before either stores: the race itself.
    barrier = threading.Barrier(2, timeout=10)
    real = services._staff_user_for

    def staff_user_for(address: str) -> Any:
        barrier.wait()
        return real(address)

    monkeypatch.setattr(services, "_staff_user_for", staff_user_for)

    results, errors = _in_parallel(lambda: services.ingest_message(raw=raw, region=region))

    assert errors == []
    assert sorted(result.outcome for result in results) == ["duplicate", "referred"]
    assert (InboundEmail.objects.count(), Referral.objects.count()) == (1, 1)
    assert OutboxMessage.objects.count() == 1


def test_two_team_members_completing_one_email_make_one_referral() -> None:
    _postgres_only()
    world = build_world()
    email = stored(
        services.ingest_message(
            raw=make_email(sender=STRANGER_ADDRESS), region=Region.objects.get(code="EOE")
        )
    )
    barrier = threading.Barrier(2, timeout=10)

    def complete() -> Any:
        from complexcases.accounts.models import User

        actor = User.objects.get(pk=world.users["cc_eoe"].pk)
        barrier.wait()
        return services.inbound_email_complete(
            actor=actor, inbound_email=email, crn=LISTED, challenges="a", support_sought="b"
        )

    results, errors = _in_parallel(complete)

    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], services.TransitionNotAllowed | services.ValidationError)
    assert Referral.objects.count() == 1
    email.refresh_from_db()
    assert (email.status, email.referral) == ("completed", results[0])
