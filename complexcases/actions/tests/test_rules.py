"""The pure action rules, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from complexcases.actions import rules

TODAY = dt.date(2026, 11, 18)


@pytest.mark.parametrize(
    ("description", "owner", "due", "source", "past_ok", "fields"),
    [
        ("Refer to housing", True, TODAY, "triage", False, set()),
        ("Refer to housing", True, TODAY + dt.timedelta(days=30), "panel", False, set()),
        ("Refer to housing", True, TODAY, "follow_up", False, set()),
        ("  ", True, TODAY, "triage", False, {"description"}),
        ("x" * 1001, True, TODAY, "triage", False, {"description"}),
        ("Refer", False, TODAY, "triage", False, {"owner"}),
        ("Refer", True, None, "triage", False, {"due_date"}),
        ("Refer", True, TODAY - dt.timedelta(days=1), "triage", False, {"due_date"}),
        ("Refer", True, TODAY - dt.timedelta(days=1), "triage", True, set()),
        ("Refer", True, TODAY, "email", False, {"source"}),
        ("", False, None, "", False, {"description", "owner", "due_date", "source"}),
    ],
)
def test_action_errors(
    description: str, owner: bool, due: dt.date | None, source: str, past_ok: bool, fields: set
) -> None:
    errors = rules.action_errors(
        description=description,
        has_owner=owner,
        due_date=due,
        source=source,
        today=TODAY,
        allow_past_due=past_ok,
    )
    assert set(errors) == fields


@pytest.mark.parametrize(
    ("to", "reason", "fields"),
    [
        ("cancelled", "No longer needed", set()),
        ("cancelled", "  ", {"cancellation_reason"}),
        ("cancelled", "x" * 501, {"cancellation_reason"}),
        ("done", "", set()),
        ("done", "because", {"cancellation_reason"}),
        ("archived", "", {"status"}),
    ],
)
def test_transition_errors(to: str, reason: str, fields: set) -> None:
    assert set(rules.transition_errors(to=to, cancellation_reason=reason)) == fields
