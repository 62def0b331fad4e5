"""A small synthetic organisation and a cast of users for the access tests.

Two regions (EOE, LDN); PDUs A and B in EOE, C in LDN; teams A1 and A2 in A, B1 in B, C1 in C.
The person under test is managed in team A1 by the `manager`. Roles are given directly (not by
provisioning) so each user holds exactly the role the test names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from complexcases.accounts.models import Team, User, UserRole
from complexcases.people.tests.factories import (
    PduFactory,
    PersonFactory,
    RegionFactory,
    StaffFactory,
    TeamFactory,
    UserFactory,
)

TODAY = dt.date(2026, 11, 15)


@dataclass
class World:
    # Factory-built rows, typed Any because factory_boy's stubs type them as factories.
    regions: dict[str, Any] = field(default_factory=dict)
    pdus: dict[str, Any] = field(default_factory=dict)
    teams: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    person: Any = None


def give(user: Any, role: str, **scope: Any) -> UserRole:
    """Give a role directly (test set-up only; the application grants through services)."""
    return UserRole.objects.create(
        user=user, role=role, granted_by="test", granted_at=timezone.now(), source="manual", **scope
    )


def build_org() -> World:
    world = World()
    world.regions["EOE"] = RegionFactory(code="EOE", name="East of England")
    world.regions["LDN"] = RegionFactory(code="LDN", name="London")
    for code, region in (("A", "EOE"), ("B", "EOE"), ("C", "LDN")):
        world.pdus[code] = PduFactory(
            code=f"PDU{code}", name=f"PDU {code}", region=world.regions[region]
        )
    for code, pdu in (("A1", "A"), ("A2", "A"), ("B1", "B"), ("C1", "C")):
        world.teams[code] = TeamFactory(code=f"T{code}", name=f"Team {code}", pdu=world.pdus[pdu])
    return world


def staff_user(username: str, team: Team, grade: str = "PO", **user_fields: Any) -> Any:
    staff = StaffFactory(username=username, team=team, grade=grade)
    return UserFactory(username=username, staff=staff, **user_fields)


# The standard cast: username -> how to make them. Each is in or out of scope as CAST_SCOPE says.
def build_cast(world: World) -> World:
    t, p, r = world.teams, world.pdus, world.regions
    u = world.users
    u["manager"] = staff_user("manager", t["A1"])
    give(u["manager"], "practitioner")
    u["colleague"] = staff_user("colleague", t["A1"])
    give(u["colleague"], "practitioner")
    u["cover_a1"] = staff_user("cover_a1", t["A2"])
    give(u["cover_a1"], "practitioner", team=t["A1"])
    u["other_region_pp"] = staff_user("other_region_pp", t["C1"])
    give(u["other_region_pp"], "practitioner")
    u["spo_a1"] = staff_user("spo_a1", t["A1"], grade="SPO")
    give(u["spo_a1"], "spo", team=t["A1"])
    u["spo_a2"] = staff_user("spo_a2", t["A2"], grade="SPO")
    give(u["spo_a2"], "spo", team=t["A2"])
    u["hos_a"] = staff_user("hos_a", t["A2"], grade="HOPDU")
    give(u["hos_a"], "head_of_service", pdu=p["A"])
    u["hos_b"] = staff_user("hos_b", t["B1"], grade="HOPDU")
    give(u["hos_b"], "head_of_service", pdu=p["B"])
    u["cc_eoe"] = staff_user("cc_eoe", t["B1"], grade="QDO")
    give(u["cc_eoe"], "cc_team", region=r["EOE"])
    u["cc_ldn"] = staff_user("cc_ldn", t["C1"], grade="QDO")
    give(u["cc_ldn"], "cc_team", region=r["LDN"])
    u["panel_eoe"] = UserFactory(username="panel_eoe")
    give(u["panel_eoe"], "panel_member", region=r["EOE"])
    u["analyst_eoe"] = UserFactory(username="analyst_eoe")
    give(u["analyst_eoe"], "analyst", region=r["EOE"])
    u["analyst_national"] = UserFactory(username="analyst_national")
    give(u["analyst_national"], "analyst")
    u["admin"] = UserFactory(username="admin", is_staff=True, is_superuser=True)
    give(u["admin"], "admin")
    u["no_roles"] = staff_user("no_roles", t["A1"], grade="OTHER")
    # An SPO of the person's team whose account is deactivated: holds nothing.
    u["inactive_spo"] = staff_user("inactive_spo", t["A1"], grade="SPO", is_active=False)
    give(u["inactive_spo"], "spo", team=t["A1"])
    world.person = PersonFactory(
        team=t["A1"], pdu=p["A"], offender_manager=u["manager"].staff, crn="Y000001"
    )
    return world


# Is the person in each user's scope? (when listed in the latest run, when not listed)
CAST_SCOPE: dict[str, tuple[bool, bool]] = {
    "manager": (True, True),
    "colleague": (False, False),
    "cover_a1": (True, True),
    "other_region_pp": (False, False),
    "spo_a1": (True, True),
    "spo_a2": (False, False),
    "hos_a": (True, False),
    "hos_b": (False, False),
    "cc_eoe": (True, False),
    "cc_ldn": (False, False),
    "panel_eoe": (False, False),
    "analyst_eoe": (False, False),
    "analyst_national": (False, False),
    "admin": (False, False),
    "no_roles": (False, False),
    "inactive_spo": (False, False),
}


def fresh(user: Any) -> User:
    """The user re-read from the database, without roles cached on the object."""
    return User.objects.get(pk=user.pk)
