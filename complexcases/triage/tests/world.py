"""Test data for the triage tests: the referral world (the standard cast and a November run),
the East of England triage team, and a received referral of the cast's person.

Times: tests run with the clock at Monday 16 November 2026, 09:00 UTC (`NOW`), and book
Wednesday 18 November 2026 at 10:00 London time (`WEDNESDAY_10`) unless they say otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from complexcases.accounts.tests.cast import give, staff_user
from complexcases.referrals import services as referrals
from complexcases.referrals.tests.world import build_world
from complexcases.triage import selectors
from complexcases.triage.models import TriageTeamMember
from complexcases.triage.services import Invitee

LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
WEDNESDAY_10 = dt.datetime(2026, 11, 18, 10, 0, tzinfo=LONDON)
TEAM = {
    "pm_eoe": ("programme_manager", "MANAGER"),
    "ca_eoe": ("case_admin", "ADMIN"),
    "cc_eoe": ("qdo", "QDO"),
    "psych_eoe": ("senior_forensic_psychologist", "PSYCH"),
}


def build_triage_world() -> Any:
    world: Any = build_world()
    eoe = world.regions["EOE"]
    for username, (function, grade) in TEAM.items():
        user = world.users.get(username)
        if user is None:
            user = staff_user(username, world.teams["B1"], grade=grade)
            give(user, "cc_team", region=eoe)
            world.users[username] = user
        TriageTeamMember.objects.create(region=eoe, function=function, user=user)
    world.referral = referrals.referral_create(
        actor=world.users["manager"],
        person=world.person,
        challenges="Hostile to staff",
        support_sought="Ideas",
    )
    return world


def second_referral(world: Any) -> Any:
    """A received referral of the second person (same team and manager)."""
    return referrals.referral_create(
        actor=world.users["manager"],
        person=world.not_listed,
        challenges="c",
        support_sought="s",
        route_reason="practitioner_concern",
    )


def default_invitees(referral: Any) -> list[Invitee]:
    return [Invitee(p.user, p.role) for p in selectors.booking_defaults(referral).proposed]
