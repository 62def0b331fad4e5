"""The embedded demo (`make run`) builds the whole process from synthetic data, through the same
services the pages use, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Count

from complexcases.actions.models import Action
from complexcases.demo.services import demo_setup
from complexcases.intake.models import InboundEmail
from complexcases.notifications.models import DeliusContact
from complexcases.panels.models import FollowUp, PanelCase
from complexcases.panels.selectors import papers_late
from complexcases.referrals.models import Referral
from complexcases.triage.models import TriageMeeting, TriageRecord

TODAY = dt.date(2026, 11, 26)


@pytest.mark.django_db
def test_demo_has_every_stage_and_is_built_once(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    said: list[str] = []
    first = demo_setup(people=4000, today=TODAY, say=said.append)
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
    assert TriageMeeting.objects.filter(status="booked").exists()
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
    second = demo_setup(people=4000, today=TODAY, say=said.append)
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
