"""Triage: the region's Complex Cases team by function, meetings, attendees, records and blockers.

No workflow in save(): every write is in services.py; every change of a meeting's status goes
through services (core.transitions), which writes a TriageMeetingTransition row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from complexcases.accounts.models import Region
from complexcases.referrals.models import Referral
from complexcases.triage.states import (
    AttendeeRole,
    BlockerTheme,
    MeetingStatus,
    TeamFunction,
    TriageOutcome,
)


class TriageTeamMember(models.Model):
    """Who does what in a region's Complex Cases team; defaults are invited to every triage.

    Configuration, kept by administrators in the admin pages (audited through services).
    """

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    function = models.CharField(max_length=40, choices=TeamFunction.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_default = models.BooleanField(
        default=True, help_text="Invited to every triage of the region by default"
    )

    class Meta:
        ordering = ["region", "function", "user_id"]
        verbose_name = "triage team member"
        constraints = [
            models.UniqueConstraint(
                fields=["region", "function", "user"], name="triage_team_member_once"
            ),
            models.CheckConstraint(
                condition=Q(function__in=TeamFunction.values), name="triage_team_function_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_function_display()} ({self.user})"


class TriageMeeting(models.Model):
    """A 45-minute triage of one referral. `sequence` is the iCalendar SEQUENCE last sent: every
    change to the invitation (new time, attendees, cancellation) sends it again, one higher."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="triages")
    # The referral's region, copied so the calendar reads one table.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.BOOKED
    )
    sequence = models.PositiveIntegerField(default=0)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["region", "status", "start"], name="triage_calendar"),
            models.Index(fields=["status", "start", "end"], name="triage_busy"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MeetingStatus.values), name="triage_status_valid"
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="triage_ends_after_start"),
            # One booked triage per referral at a time (the referral's own move also guards this).
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(status=MeetingStatus.BOOKED),
                name="triage_one_booked_per_referral",
            ),
        ]

    def __str__(self) -> str:
        return f"triage {self.pk} ({self.status})"


class TriageAttendee(models.Model):
    """Someone invited to a triage, and why (their role at it)."""

    meeting = models.ForeignKey(TriageMeeting, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="triage_invitations"
    )
    role = models.CharField(max_length=40, choices=AttendeeRole.choices)
    email = models.CharField(max_length=254, help_text="The address the invitation went to")

    class Meta:
        ordering = ["meeting", "id"]
        indexes = [models.Index(fields=["user", "meeting"], name="triage_attendee_user")]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="triage_attendee_once"),
            models.CheckConstraint(
                condition=Q(role__in=AttendeeRole.values), name="triage_attendee_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} at triage {self.meeting_id}"


class TriageMeetingTransition(models.Model):
    """One event in a meeting's history (booked, held, cancelled). Append only."""

    meeting = models.ForeignKey(TriageMeeting, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=MeetingStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]


class TriageRecord(models.Model):
    """What the triage found and decided. One per held meeting."""

    meeting = models.OneToOneField(TriageMeeting, on_delete=models.PROTECT, related_name="record")
    guidance = models.TextField(blank=True, help_text="Guidance given at triage")
    sensitive_notes = models.TextField(
        blank=True, help_text="Sensitive: shown only on the case pages, not sent to nDelius"
    )
    outcome = models.CharField(max_length=30, choices=TriageOutcome.choices)
    panel_question = models.TextField(blank=True)
    signpost_destination = models.CharField(max_length=1000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=TriageOutcome.values), name="triage_outcome_valid"
            ),
            models.CheckConstraint(
                condition=(Q(outcome=TriageOutcome.FOR_PANEL) & ~Q(panel_question=""))
                | (~Q(outcome=TriageOutcome.FOR_PANEL) & Q(panel_question="")),
                name="triage_for_panel_has_question",
            ),
            models.CheckConstraint(
                condition=(Q(outcome=TriageOutcome.SIGNPOSTED) & ~Q(signpost_destination=""))
                | (~Q(outcome=TriageOutcome.SIGNPOSTED) & Q(signpost_destination="")),
                name="triage_signposted_has_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"triage record {self.pk} ({self.outcome})"


class Blocker(models.Model):
    """A specific blocker found at triage, under one theme (DESIGN.md section 5)."""

    record = models.ForeignKey(TriageRecord, on_delete=models.CASCADE, related_name="blockers")
    theme = models.CharField(max_length=40, choices=BlockerTheme.choices)
    description = models.TextField()

    class Meta:
        ordering = ["record", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(theme__in=BlockerTheme.values), name="blocker_theme_valid"
            ),
            models.CheckConstraint(condition=~Q(description=""), name="blocker_is_described"),
        ]

    def __str__(self) -> str:
        return self.get_theme_display()
