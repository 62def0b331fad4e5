"""Test data for the panel tests: the referral world, a roster, a series and a referral awaiting
panel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from complexcases.accounts.tests.cast import give
from complexcases.panels import services
from complexcases.panels.rules import PanelRole
from complexcases.people.tests.factories import UserFactory
from complexcases.referrals import services as referrals
from complexcases.referrals.states import ReferralStatus
from complexcases.referrals.tests.world import build_world

# A Monday well before the first meeting, in GMT.
BOOKED_AT = dt.datetime(2027, 1, 11, 9, 0, tzinfo=dt.UTC)
FIRST_MEETING = dt.date(2027, 2, 1)  # the first Monday of February 2027


def build_panel_world(*, mental_health_lead: bool = True) -> Any:
    world: Any = build_world()
    users = world.users
    region = world.regions["EOE"]
    cc = users["cc_eoe"]
    roster: dict[str, Any] = {}
    for role in (
        PanelRole.CHAIR,
        PanelRole.PROGRAMME_MANAGER,
        PanelRole.CASE_ADMIN,
        PanelRole.QDO,
        PanelRole.HEAD_PUBLIC_PROTECTION,
    ):
        if role == PanelRole.QDO:
            roster[role] = cc
        else:
            roster[role] = UserFactory(username=f"panel_{role}", email=f"{role}@justice.example")
            give(roster[role], "panel_member", region=region)
        services.roster_member_set(actor=cc, region=region, role=role, user=roster[role])
    if mental_health_lead:
        lead = UserFactory(username="panel_mh", email="mh.lead@justice.example")
        give(lead, "panel_member", region=region)
        services.roster_member_set(
            actor=cc, region=region, role=PanelRole.MENTAL_HEALTH_LEAD, user=lead
        )
        roster[PanelRole.MENTAL_HEALTH_LEAD] = lead
    deputy = users["panel_eoe"]
    deputy.email = "deputy.chair@justice.example"
    deputy.save(update_fields=["email"])
    services.roster_member_set(
        actor=cc, region=region, role=PanelRole.CHAIR, user=deputy, is_deputy=True
    )
    roster["deputy_chair"] = deputy
    for name in ("manager", "spo_a1", "hos_a"):
        users[name].email = f"{name}@justice.example"
        users[name].save(update_fields=["email"])
    world.roster = roster
    world.series = services.series_create(
        actor=cc,
        region=region,
        name="East of England panel",
        rrule="FREQ=MONTHLY;BYDAY=+1MO",
        first_date=dt.date(2027, 1, 4),
        start_time=dt.time(10, 0),
        end_time=dt.time(13, 0),
        holiday_policy="next_working_day",
    )
    services.meetings_schedule(
        series=world.series, start=dt.date(2027, 1, 1), until=dt.date(2027, 12, 31), actor=cc
    )
    world.referral = referral_awaiting_panel(world, world.person)
    return world


def referral_awaiting_panel(world: Any, person: Any, **route: Any) -> Any:
    cc = world.users["cc_eoe"]
    referral = referrals.referral_create(
        actor=world.users["manager"],
        person=person,
        challenges="Engagement has broken down.",
        support_sought="Psychology input.",
        **route,
    )
    for status in (ReferralStatus.TRIAGE_BOOKED, ReferralStatus.AWAITING_PANEL):
        referral = referrals.referral_transition(
            referral=referral, to=status, actor=cc, reason="test"
        )
    return referral
