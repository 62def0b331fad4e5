"""Reflective conversations, referrals, their history, and the SPO reminders already sent.

No workflow in save() and no signals: every write is in services.py, every status change through
services.referral_transition (core.transitions), which writes a ReferralTransition row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from complexcases.accounts.models import Pdu, Staff, Team
from complexcases.people.models import Person
from complexcases.referrals.states import (
    ClosureReason,
    ConversationOutcome,
    ReferralStatus,
    Route,
    RouteReason,
)


class ReflectiveConversation(models.Model):
    """The PP and SPO's reflective practice conversation about a listed case (DESIGN.md 1, step 2).

    `month` is the screening month (YYYY-MM) the conversation answers; the list shows a listed
    person as awaiting a conversation until one exists for the list's month.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="conversations")
    month = models.CharField(max_length=7, help_text="The screening month answered, YYYY-MM")
    outcome = models.CharField(max_length=30, choices=ConversationOutcome.choices)
    supported_elsewhere = models.CharField(
        max_length=200, blank=True, help_text="Where the person is already supported, e.g. MAPPA"
    )
    held_on = models.DateField()
    note = models.TextField(blank=True, help_text="Sensitive: shown only on the case pages")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["person", "month"], name="conversation_person_month")]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=ConversationOutcome.values), name="conversation_outcome"
            ),
            models.CheckConstraint(
                condition=~Q(outcome=ConversationOutcome.SUPPORTED_ELSEWHERE)
                | ~Q(supported_elsewhere=""),
                name="conversation_supported_elsewhere_says_where",
            ),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk} ({self.month})"


class Referral(models.Model):
    """A request for Complex Cases support for one person (DESIGN.md section 5).

    At most one open (not closed) referral per person: a partial unique index, so two requests
    racing cannot both create one. What the service knew at referral (manager, SPO, PDU, team,
    criteria) is copied in, so the referral keeps its context when the next extract changes it.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    route = models.CharField(max_length=30, choices=Route.choices)
    route_reason = models.CharField(max_length=30, choices=RouteReason.choices, blank=True)
    route_reason_other = models.CharField(max_length=200, blank=True)
    challenges = models.TextField(help_text="What is challenging (sensitive)")
    support_sought = models.TextField(help_text="What support is sought (sensitive)")
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.RECEIVED
    )
    closure_reason = models.CharField(max_length=30, choices=ClosureReason.choices, blank=True)
    closure_destination = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # What the service knew at referral.
    manager = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    spo_username = models.CharField(max_length=150, blank=True)
    pdu = models.ForeignKey(Pdu, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    screening_month = models.CharField(max_length=7, blank=True)
    criteria_count = models.PositiveSmallIntegerField(null=True, blank=True)
    criteria_met = models.JSONField(default=list, blank=True)
    eligible_at_referral = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="referral_status_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=~Q(status=ReferralStatus.CLOSED),
                name="referral_one_open_per_person",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(route=Route.MONTHLY_LIST, route_reason="")
                | Q(route=Route.PROFESSIONAL_JUDGEMENT, route_reason__in=RouteReason.values),
                name="referral_route_reason",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=ReferralStatus.CLOSED)
                    & Q(closure_reason__in=ClosureReason.values)
                    & Q(closed_at__isnull=False)
                )
                | (~Q(status=ReferralStatus.CLOSED) & Q(closure_reason="")),
                name="referral_closed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} ({self.status})"


class ReferralTransition(models.Model):
    """One event in a referral's history: made (from "" to received), or a move. Append only."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["referral", "occurred_at"], name="referral_history")]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


class ConversationReminder(models.Model):
    """An SPO was reminded about the month's listed cases awaiting a conversation: once a month."""

    spo = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    month = models.CharField(max_length=7)
    case_count = models.PositiveIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["spo", "month"], name="conversation_reminder_once")
        ]
