"""Pure decisions for actions: plain values in, {field: message} out (empty means valid).

No Django imports, so every edge is tested with tables of cases (tests/test_rules.py).
"""

from __future__ import annotations

import datetime as dt

DESCRIPTION_MAX = 1000
REASON_MAX = 500
STATUSES = ("open", "in_progress", "done", "blocked", "cancelled")
SOURCES = ("triage", "panel", "follow_up")


def action_errors(
    *,
    description: str,
    has_owner: bool,
    due_date: dt.date | None,
    source: str,
    today: dt.date,
    allow_past_due: bool = False,
) -> dict[str, str]:
    """An action is specific (a description), owned (an owner) and dated (a due date, not in the
    past unless `allow_past_due`, which only imports and the demo use)."""
    errors: dict[str, str] = {}
    text = description.strip()
    if not text:
        errors["description"] = "Enter what the action is"
    elif len(text) > DESCRIPTION_MAX:
        errors["description"] = f"The action must be {DESCRIPTION_MAX} characters or fewer"
    if not has_owner:
        errors["owner"] = "Select who owns the action"
    if due_date is None:
        errors["due_date"] = "Enter the date the action is due"
    elif due_date < today and not allow_past_due:
        errors["due_date"] = "The due date must be today or in the future"
    if source not in SOURCES:
        errors["source"] = "The action's source must be triage, panel or follow-up"
    return errors


def transition_errors(*, to: str, cancellation_reason: str) -> dict[str, str]:
    """Cancelling needs a reason; no other move takes one."""
    if to not in STATUSES:
        return {"status": "Select a status"}
    reason = cancellation_reason.strip()
    if to == "cancelled" and not reason:
        return {"cancellation_reason": "Enter why the action is cancelled"}
    if to == "cancelled" and len(reason) > REASON_MAX:
        return {"cancellation_reason": f"The reason must be {REASON_MAX} characters or fewer"}
    if to != "cancelled" and reason:
        return {"cancellation_reason": "Only give a reason when the action is cancelled"}
    return {}
