"""The demo's triage seed: the region's team by function, a booked triage and each outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from complexcases.accounts.models import User
from complexcases.accounts.tests.cast import build_cast, build_org
from complexcases.people.tests.factories import PersonFactory
from complexcases.referrals import services as referrals
from complexcases.referrals.models import Referral
from complexcases.triage.demo import demo_seed
from complexcases.triage.models import TriageMeeting, TriageRecord, TriageTeamMember

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 16)


def test_demo_seed_builds_the_team_and_triages_at_each_stage_and_is_idempotent(clock: Any) -> None:
    world: Any = build_cast(build_org())
    cc = world.users["cc_eoe"]
    people: list[Any] = [
        PersonFactory(
            team=world.teams["A1"],
            pdu=world.pdus["A"],
            offender_manager=world.users["manager"].staff,
        )
        for _ in range(6)
    ]
    received = [
        referrals.referral_create(
            actor=cc,
            person=person,
            challenges="c",
            support_sought="s",
            route_reason="practitioner_concern",
        )
        for person in people
    ]
    demo_seed(region_code="EOE", cc_team_user=cc, referrals_received=received, today=TODAY)
    functions = {
        m.function: m.user.username for m in TriageTeamMember.objects.select_related("user")
    }
    assert functions == {
        "programme_manager": "demo.pm",
        "case_admin": "demo.caseadmin",
        "qdo": "cc_eoe",
        "senior_forensic_psychologist": "demo.psychologist",
    }
    assert User.objects.get(username="demo.pm").roles.filter(role="cc_team").exists()
    statuses = {r.pk: r.status for r in Referral.objects.all()}
    assert statuses[received[0].pk] == "triage_booked"
    booked = TriageMeeting.objects.get(status="booked")
    assert booked.start.date() > TODAY
    outcomes = sorted(TriageRecord.objects.values_list("outcome", flat=True))
    assert outcomes == ["for_panel", "resolved_at_triage", "signposted", "withdrawn"]
    assert all(m.start.date() < TODAY for m in TriageMeeting.objects.filter(status="held"))
    assert statuses[received[5].pk] == "received"
    counts = (TriageMeeting.objects.count(), TriageTeamMember.objects.count())
    demo_seed(
        region_code="EOE",
        cc_team_user=cc,
        referrals_received=list(Referral.objects.filter(pk__in=[r.pk for r in received[:5]])),
        today=TODAY,
    )
    assert (TriageMeeting.objects.count(), TriageTeamMember.objects.count()) == counts
