"""Test data for the referral tests: the standard cast and a finished November run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from complexcases.accounts.tests.cast import build_cast, build_org
from complexcases.people.tests.factories import (
    PersonFactory,
    ScreeningResultFactory,
    ScreeningRunFactory,
)
from complexcases.screening.criteria import ids_to_mask

MONTH = "2026-11"
AS_OF = dt.date(2026, 11, 2)
SIX = ["rosh", "mental_health", "self_harm", "mappa", "substance_misuse", "ipp"]
LISTED, NOT_LISTED = "Y000001", "Y000009"


def build_world() -> Any:
    """The cast; LISTED (the cast's person) eligible in November's run; NOT_LISTED in the same
    team with four criteria."""
    world: Any = build_cast(build_org())
    run = ScreeningRunFactory(as_of=AS_OF, finished_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC))
    ScreeningResultFactory(
        run=run, person=world.person, criteria_count=6, criteria_mask=ids_to_mask(SIX)
    )
    world.not_listed = PersonFactory(
        crn=NOT_LISTED,
        team=world.teams["A1"],
        pdu=world.pdus["A"],
        offender_manager=world.users["manager"].staff,
    )
    ScreeningResultFactory(
        run=run,
        person=world.not_listed,
        criteria_count=4,
        criteria_mask=ids_to_mask(SIX[:4]),
        eligible=False,
        change="",
    )
    world.run = run
    return world
