"""The embedded demo (`make run`) builds the whole process from synthetic data, through the same
services the pages use, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db.models import Count

from complexcases.actions.models import Action
from complexcases.core import clock
from complexcases.demo.services import demo_setup
from complexcases.intake.models import InboundEmail
from complexcases.notifications.models import DeliusContact
from complexcases.panels.models import FollowUp, PanelCase
from complexcases.panels.selectors import papers_late
from complexcases.referrals.models import Referral
from complexcases.triage.models import TriageMeeting, TriageRecord

# The demo is built relative to the day it runs: a working day, Christmas Day on a Saturday (bank
# holidays around it), and a leap day. The clock ticks, as it does while `make run` builds.
BUILT_ON = [
    dt.datetime(2026, 11, 26, 8, 30, tzinfo=clock.LONDON),
    dt.datetime(2027, 12, 25, 18, 0, tzinfo=clock.LONDON),
    dt.datetime(2028, 2, 29, 23, 50, tzinfo=clock.LONDON),
]


@pytest.mark.django_db
@pytest.mark.parametrize("built_on", BUILT_ON, ids=lambda d: d.date().isoformat())
def test_demo_has_every_stage_and_is_built_once(
    settings: Any, tmp_path: Any, built_on: dt.datetime
) -> None:
    settings.VAR_DIR = tmp_path
    said: list[str] = []
    with time_machine.travel(built_on, tick=True):
        _check_demo(said)


def _check_demo(said: list[str]) -> None:
    first = demo_setup(people=4000, say=said.append)
    assert first.created
    statuses = dict(Referral.objects.values_list("status").annotate(n=Count("id")))
    for status in (
        "received",
        "triage_booked",
        "awaiting_panel",
        "panel_booked",
        "heard_at_panel",
        "in_follow_up",
        "closed",
    ):
        assert statuses.get(status), f"no referral {status}: {statuses}"
    assert set(TriageRecord.objects.values_list("outcome", flat=True)) == {
        "resolved_at_triage",
        "for_panel",
        "signposted",
        "withdrawn",
    }
    now, today = clock.now(), clock.today()
    assert TriageMeeting.objects.filter(status="booked", start__gt=now).exists()
    assert PanelCase.objects.filter(status="booked", meeting__date__gt=today).exists()
    live = Action.objects.filter(status__in=["open", "in_progress"])
    assert live.filter(due_date__lt=today).exists(), "no overdue action"
    assert live.filter(due_date__gte=today).exists(), "no action due (not yet overdue)"
    cases = list(PanelCase.objects.select_related("meeting__series"))
    assert {case.status for case in cases} == {"concluded", "booked"}
    assert any(papers_late(case) for case in cases if case.papers_issued_at)
    assert any(not papers_late(case) for case in cases if case.papers_issued_at)
    assert set(FollowUp.objects.values_list("status", flat=True)) == {"done", "scheduled"}
    assert set(Action.objects.values_list("status", flat=True)) == {
        "open",
        "in_progress",
        "done",
        "blocked",
        "cancelled",
    }
    assert InboundEmail.objects.filter(status="needs_attention").count() == 1
    assert DeliusContact.objects.filter(exported_at__isnull=True).exists()
    counts = (Referral.objects.count(), PanelCase.objects.count(), Action.objects.count())
    second = demo_setup(people=4000, say=said.append)
    assert not second.created
    assert (Referral.objects.count(), PanelCase.objects.count(), Action.objects.count()) == counts
    assert {account.role for account in second.accounts} == {
        "practitioner",
        "spo",
        "head_of_service",
        "cc_team",
        "panel_member",
        "analyst",
        "admin",
    }
