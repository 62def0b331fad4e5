"""Actions agreed at triage, panel or follow-up, and their history of updates.

No workflow in save(): every write is in services.py; every status change goes through
services.action_transition (core.transitions), which writes an ActionUpdate row. A note without a
move is an ActionUpdate whose from and to statuses are the same. ActionReminder records each
reminder or escalation email, so the daily task sends each kind at most once per action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from complexcases.actions.states import ActionSource, ActionStatus, ReminderKind
from complexcases.people.models import Person
from complexcases.referrals.models import Referral


class Action(models.Model):
    """Something someone agreed to do for a referred case: description, owner, due date, status."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="actions")
    # Copied from the referral so lists by person need no join through referrals.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="actions")
    source = models.CharField(max_length=20, choices=ActionSource.choices)
    source_id = models.CharField(
        max_length=64, blank=True, help_text="The record the action came from"
    )
    description = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="actions_owned"
    )
    due_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    cancellation_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"], name="action_owner_due"),
            models.Index(fields=["referral", "due_date"], name="action_referral_due"),
            models.Index(fields=["source", "source_id"], name="action_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ActionStatus.values), name="action_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=ActionSource.values), name="action_source_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status=ActionStatus.CANCELLED) & ~Q(cancellation_reason=""))
                | (~Q(status=ActionStatus.CANCELLED) & Q(cancellation_reason="")),
                name="action_cancelled_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"action {self.pk} ({self.status})"


class ActionUpdate(models.Model):
    """One event in an action's history: created (from "" to open), a move, or a note. Append only.

    `reason` is the note the person gave with the update (core.transitions names it reason).
    """

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="updates")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=ActionStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["action", "occurred_at"], name="action_history")]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


class ActionReminder(models.Model):
    """A reminder or escalation email queued about an action. Append only.

    The unique (action, kind) constraint is what makes the daily task safe to run twice, or twice
    at once: the second insert fails and its email, queued in the same transaction, vanishes.
    """

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    sent_on = models.DateField(help_text="The day (Europe/London) the email was queued")
    recipient_count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["action", "sent_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["action", "kind"], name="action_reminder_once"),
            models.CheckConstraint(
                condition=Q(kind__in=ReminderKind.values), name="action_reminder_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder of action {self.action_id}"
