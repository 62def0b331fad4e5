"""Test data for the action pages and reminders: the triage world (the standard cast, a November
run, the East of England Complex Cases team with `pm_eoe` as Programme Manager, and a received
referral of the cast's person), plus a helper to make actions.

The clock: `NOW` is Monday 16 November 2026, 09:00 UTC (the triage tests' clock).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from complexcases.actions import services
from complexcases.actions.models import Action
from complexcases.triage.tests.world import NOW, build_triage_world

TODAY = dt.date(2026, 11, 16)  # NOW's date, a Monday

__all__ = ["NOW", "TODAY", "build_actions_world", "make_action"]


def build_actions_world() -> Any:
    return build_triage_world()


def make_action(world: Any, *, due: dt.date, owner: str = "manager", **extra: Any) -> Action:
    """An open action on the world's referral, agreed at triage by cc_eoe (past due allowed)."""
    arguments: dict[str, Any] = {
        "actor": world.users["cc_eoe"],
        "referral": world.referral,
        "source": "triage",
        "source_id": 1,
        "description": "Refer to the housing team",
        "owner": world.users[owner],
        "due_date": due,
        "today": TODAY,
        "allow_past_due": True,
    }
    arguments.update(extra)
    return services.action_create(**arguments)
