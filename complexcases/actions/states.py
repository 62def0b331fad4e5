"""Action statuses, sources and the table of allowed moves, as plain data (DESIGN.md section 5).

`MOVES` is the whole workflow of an action: `services.action_transition` refuses anything not in it,
and tests/test_states.py walks every pair of statuses against it. Done and cancelled are final: a
finished action that turns out not to be finished is a new action, so the history stays readable.
"""

from __future__ import annotations

from django.db import models


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    BLOCKED = "blocked", "Blocked"
    CANCELLED = "cancelled", "Cancelled"


class ActionSource(models.TextChoices):
    """Where an action was agreed; `source_id` names the record (triage record, panel hearing...)."""

    TRIAGE = "triage", "Triage"
    PANEL = "panel", "Panel"
    FOLLOW_UP = "follow_up", "Follow-up"


S = ActionStatus

MOVES: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({S.IN_PROGRESS, S.DONE, S.BLOCKED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.DONE, S.BLOCKED, S.CANCELLED}),
    # unblocked: back to work, or finished/cancelled directly
    S.BLOCKED: frozenset({S.IN_PROGRESS, S.DONE, S.CANCELLED}),
    S.DONE: frozenset(),
    S.CANCELLED: frozenset(),
}

OPEN_STATUSES: frozenset[str] = frozenset({S.OPEN, S.IN_PROGRESS, S.BLOCKED})


class ReminderKind(models.TextChoices):
    """The emails the daily reminder task sends about an action, each at most once per action."""

    DUE_SOON = "due_soon", "Due soon (to the owner)"
    OVERDUE = "overdue", "Overdue (to the owner)"
    ESCALATION = "escalation", "Escalated (to the region's Programme Manager)"
