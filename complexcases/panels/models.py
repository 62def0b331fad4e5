"""The Complex Cases panel: membership, the recurring series, meetings, cases booked into slots,
invitations with their reasons, papers, the meeting record, addenda and follow-up.

No workflow in save(): every write is in services.py; a panel case's status moves only through
services.panel_case_transition (core.transitions), which writes a PanelCaseTransition row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from complexcases.accounts.models import Region
from complexcases.panels.states import (
    HOLIDAY_POLICY_CHOICES,
    PANEL_ROLE_CHOICES,
    Attendance,
    CaseStatus,
    FollowUpOutcome,
    FollowUpStatus,
    InvitationStatus,
    MeetingStatus,
    PartyRole,
)
from complexcases.referrals.models import Referral

USER = settings.AUTH_USER_MODEL


class PanelMember(models.Model):
    """A region's roster: for each panel role a named member (is_deputy False) and deputies."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=40, choices=PANEL_ROLE_CHOICES)
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="panel_memberships")
    is_deputy = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["region", "role", "is_deputy", "id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "role", "user"], name="panel_member_once"),
            models.UniqueConstraint(
                fields=["region", "role"],
                condition=Q(is_deputy=False, active=True),
                name="panel_role_one_named_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} ({'deputy' if self.is_deputy else 'member'})"


class PanelSeries(models.Model):
    """A region's recurring panel: an RRULE (e.g. the first Monday of each month), London times,
    slot length, bank-holiday policy and how many working days ahead papers are issued."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    rrule = models.CharField(
        max_length=200, help_text="RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=+1MO"
    )
    first_date = models.DateField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=45)
    holiday_policy = models.CharField(max_length=30, choices=HOLIDAY_POLICY_CHOICES)
    papers_working_days = models.PositiveSmallIntegerField(default=5)
    location = models.CharField(max_length=200, blank=True, help_text="Room or online meeting")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["region", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="series_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(slot_minutes__gt=0), name="series_slot_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class PanelMeeting(models.Model):
    """One meeting of a series. `scheduled_date` is the rule's date; `date` where it is held."""

    series = models.ForeignKey(PanelSeries, on_delete=models.PROTECT, related_name="meetings")
    scheduled_date = models.DateField()
    date = models.DateField()
    date_note = models.CharField(max_length=200, blank=True, help_text="Why the date moved")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    papers_due = models.DateField(help_text="Papers go out on this date (working days before)")
    # When the members were prompted to take reflective time after the meeting (once).
    reflection_prompted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "scheduled_date"], name="meeting_once_per_date"
            ),
        ]
        indexes = [models.Index(fields=["status", "start"], name="meeting_status_start")]

    def __str__(self) -> str:
        return f"panel meeting {self.pk} ({self.date})"


class PanelCase(models.Model):
    """A referral booked into a slot of a meeting, and the meeting's record of it.

    One live booking per referral and one per slot (partial unique indexes), so two bookings racing
    cannot share a slot. Concluded cases are locked: corrections are addenda.
    """

    meeting = models.ForeignKey(PanelMeeting, on_delete=models.PROTECT, related_name="cases")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="panel_cases")
    slot_index = models.PositiveSmallIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.BOOKED)
    question = models.TextField(help_text="The question for the panel (from triage)")
    summary = models.TextField(blank=True, help_text="The chair's summary (sensitive)")
    concluded_at = models.DateTimeField(null=True, blank=True)
    concluded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    booked_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField(default=timezone.now)
    # Papers go out with the slot's invitation on the meeting's papers_due date, or at booking
    # when booked later than that (late papers, flagged on the meeting page).
    papers_issued_at = models.DateTimeField(null=True, blank=True)
    # iCalendar SEQUENCE of this slot's invitation (everyone invited to the slot); bumped on changes.
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "slot_index"],
                condition=~Q(status=CaseStatus.CANCELLED),
                name="panel_slot_one_case",
            ),
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(status=CaseStatus.BOOKED),
                name="panel_referral_one_booking",
            ),
            models.CheckConstraint(
                condition=~Q(status=CaseStatus.CONCLUDED) | Q(concluded_at__isnull=False),
                name="panel_case_concluded_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"panel case {self.pk} ({self.status})"


class PanelCaseTransition(models.Model):
    """One event in a panel case's history. Append only."""

    case = models.ForeignKey(PanelCase, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=CaseStatus.choices)
    actor = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]


class PanelInvitation(models.Model):
    """Someone invited to a case's slot: a panel role (core or recommended, with the reason) or a
    party to the case (practitioner, SPO, POM). A member may send apologies or delegate to a
    deputy; attendance is recorded at the meeting."""

    case = models.ForeignKey(PanelCase, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="panel_invitations")
    panel_role = models.CharField(max_length=40, choices=PANEL_ROLE_CHOICES, blank=True)
    party_role = models.CharField(max_length=20, choices=PartyRole.choices, blank=True)
    core = models.BooleanField(default=False)
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=20, choices=InvitationStatus.choices, default=InvitationStatus.INVITED
    )
    delegate = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status_note = models.CharField(max_length=300, blank=True)
    attendance = models.CharField(max_length=20, choices=Attendance.choices, blank=True)
    invited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "-core", "panel_role", "party_role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="invitation_once_per_case"),
            models.CheckConstraint(
                condition=(Q(panel_role="") & ~Q(party_role=""))
                | (~Q(panel_role="") & Q(party_role="")),
                name="invitation_panel_or_party_role",
            ),
            models.CheckConstraint(
                condition=~Q(status=InvitationStatus.DELEGATED) | Q(delegate__isnull=False),
                name="invitation_delegated_names_deputy",
            ),
        ]


class PapersOpening(models.Model):
    """A member's first opening of a case's papers (every opening is also in the audit trail)."""

    case = models.ForeignKey(PanelCase, on_delete=models.CASCADE, related_name="papers_openings")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="papers_opened_once")]


class AgendaNote(models.Model):
    """Notes for one step of the seven-step agenda of a case (sensitive). Editable until the case
    is concluded."""

    case = models.ForeignKey(PanelCase, on_delete=models.CASCADE, related_name="notes")
    step = models.PositiveSmallIntegerField()
    text = models.TextField(blank=True)
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["step"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step"], name="agenda_note_once_per_step"),
            models.CheckConstraint(
                condition=Q(step__gte=1, step__lte=7), name="agenda_step_1_to_7"
            ),
        ]


class Addendum(models.Model):
    """A correction or addition to a concluded case's record, with its author and time."""

    case = models.ForeignKey(PanelCase, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class FollowUp(models.Model):
    """The QDO's check-in after the panel: progress of each action, remaining blockers, the
    practitioner's wellbeing and confidence (1-5), and the outcome, which moves the referral."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="follow_ups")
    case = models.ForeignKey(PanelCase, on_delete=models.PROTECT, related_name="follow_ups")
    qdo = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    due = models.DateField()
    status = models.CharField(
        max_length=20, choices=FollowUpStatus.choices, default=FollowUpStatus.SCHEDULED
    )
    remaining_blockers = models.TextField(blank=True)
    progress_notes = models.TextField(blank=True)
    wellbeing = models.PositiveSmallIntegerField(null=True, blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=30, choices=FollowUpOutcome.choices, blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    # When the QDO was reminded that the check-in is due (once).
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(wellbeing__isnull=True) | Q(wellbeing__gte=1, wellbeing__lte=5),
                name="follow_up_wellbeing_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=1, confidence__lte=5),
                name="follow_up_confidence_1_to_5",
            ),
            models.CheckConstraint(
                condition=~Q(status=FollowUpStatus.DONE) | ~Q(outcome=""),
                name="follow_up_done_has_outcome",
            ),
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(status=FollowUpStatus.SCHEDULED),
                name="follow_up_one_scheduled",
            ),
        ]


class Reflection(models.Model):
    """After a meeting, each member is prompted to take reflective time; they may ask for a debrief."""

    meeting = models.ForeignKey(PanelMeeting, on_delete=models.CASCADE, related_name="reflections")
    user = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    wants_debrief = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="reflection_once")]
