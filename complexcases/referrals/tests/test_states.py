"""The referral table and the pure rules, without a database."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools

import pytest

from complexcases.referrals import rules
from complexcases.referrals.states import FLOW_FOR_MOVE, MOVES, ReferralStatus

S = ReferralStatus

# DESIGN.md section 5, written out again here so the test checks the table rather than repeating it.
ALLOWED = {
    ("received", "triage_booked"),
    ("received", "closed"),
    ("triage_booked", "received"),
    ("triage_booked", "awaiting_panel"),
    ("triage_booked", "closed"),
    ("awaiting_panel", "panel_booked"),
    ("awaiting_panel", "closed"),
    ("panel_booked", "awaiting_panel"),
    ("panel_booked", "heard_at_panel"),
    ("panel_booked", "closed"),
    ("heard_at_panel", "in_follow_up"),
    ("heard_at_panel", "closed"),
    ("in_follow_up", "awaiting_panel"),
    ("in_follow_up", "closed"),
}


def test_the_table_is_exactly_the_design() -> None:
    table = {(a, b) for a, targets in MOVES.items() for b in targets}
    assert table == ALLOWED
    assert set(MOVES) == set(S.values)


def test_closed_is_final() -> None:
    assert MOVES[S.CLOSED] == frozenset()


def test_every_move_but_closing_has_its_own_flow() -> None:
    # The referral page only closes: every other move must be made by a flow with its side
    # effects (invitations, contacts), named in FLOW_FOR_MOVE.
    moves = {(a, b) for a, targets in MOVES.items() for b in targets if b != S.CLOSED}
    assert set(FLOW_FOR_MOVE) == moves


@pytest.mark.parametrize("path", sorted(set(FLOW_FOR_MOVE.values())))
def test_each_flow_named_is_a_service(path: str) -> None:
    module, name = path.rsplit(".", 1)
    assert module.endswith(".services")
    assert callable(getattr(importlib.import_module(module), name))


@pytest.mark.parametrize(
    ("route", "reason", "other", "eligible", "errors"),
    [
        ("monthly_list", "", "", True, {}),
        ("monthly_list", "", "", False, {"route"}),
        ("monthly_list", "gender_identity", "", True, {"route_reason"}),
        ("professional_judgement", "gender_identity", "", False, {}),
        ("professional_judgement", "practitioner_concern", "", True, {}),
        ("professional_judgement", "", "", False, {"route_reason"}),
        ("professional_judgement", "nonsense", "", False, {"route_reason"}),
        ("professional_judgement", "other", "", False, {"route_reason_other"}),
        ("professional_judgement", "other", "   ", False, {"route_reason_other"}),
        ("professional_judgement", "other", "Immigration status", False, {}),
        ("professional_judgement", "gender_identity", "text", False, {"route_reason_other"}),
        ("by_email", "", "", False, {"route"}),
    ],
)
def test_route_rules(route: str, reason: str, other: str, eligible: bool, errors: set) -> None:
    found = rules.route_errors(
        route=route, route_reason=reason, route_reason_other=other, eligible=eligible
    )
    assert set(found) == set(errors)
    assert all(message and message[0].isupper() for message in found.values())


@pytest.mark.parametrize(
    ("reason", "destination", "errors"),
    [
        *[(r, "", set()) for r in rules.CLOSURE_REASONS if r != "signposted"],
        ("signposted", "Approved premises team", set()),
        ("signposted", "", {"closure_destination"}),
        ("signposted", "  ", {"closure_destination"}),
        ("completed", "Somewhere", {"closure_destination"}),
        ("", "", {"closure_reason"}),
        ("finished", "", {"closure_reason"}),
    ],
)
def test_closure_rules(reason: str, destination: str, errors: set) -> None:
    assert set(rules.closure_errors(reason=reason, destination=destination)) == errors


TODAY = dt.date(2026, 11, 16)


@pytest.mark.parametrize(
    ("outcome", "elsewhere", "held_on", "errors"),
    [
        ("no_further_support", "", TODAY, set()),
        ("refer_to_complex_cases", "", TODAY - dt.timedelta(days=3), set()),
        ("supported_elsewhere", "MAPPA level 2", TODAY, set()),
        ("supported_elsewhere", "", TODAY, {"supported_elsewhere"}),
        ("no_further_support", "MAPPA", TODAY, {"supported_elsewhere"}),
        ("maybe", "", TODAY, {"outcome"}),
        ("no_further_support", "", TODAY + dt.timedelta(days=1), {"held_on"}),
    ],
)
def test_conversation_rules(outcome: str, elsewhere: str, held_on: dt.date, errors: set) -> None:
    found = rules.conversation_errors(
        outcome=outcome, supported_elsewhere=elsewhere, held_on=held_on, today=TODAY
    )
    assert set(found) == set(errors)


@pytest.mark.parametrize(
    ("as_of", "due"),
    [
        (dt.date(2026, 11, 2), dt.date(2026, 11, 16)),  # Monday: two plain weeks
        # 1 Dec 2026 (Tue): Christmas Day (Fri 25) and Boxing Day substitute (Mon 28) skipped
        (dt.date(2026, 12, 14), dt.date(2026, 12, 30)),
        (dt.date(2027, 3, 22), dt.date(2027, 4, 7)),  # Good Friday 26 Mar, Easter Monday 29 Mar
    ],
)
def test_reminder_is_due_ten_working_days_after_the_run(as_of: dt.date, due: dt.date) -> None:
    assert rules.reminder_due_on(as_of) == due
    assert not rules.reminder_due(as_of=as_of, today=due - dt.timedelta(days=1))
    assert rules.reminder_due(as_of=as_of, today=due)


def test_reminder_subject_names_a_count_only() -> None:
    assert rules.reminder_subject(1) == (
        "Complex Cases: 1 listed case in your team awaits a reflective conversation"
    )
    assert rules.reminder_subject(3) == (
        "Complex Cases: 3 listed cases in your team await a reflective conversation"
    )


def test_every_pair_is_covered() -> None:
    pairs = list(itertools.product(S.values, S.values))
    assert len(pairs) == 49
