"""Triage statuses, choices and the meeting's allowed moves, as plain data (DESIGN.md section 5).

A triage meeting is booked, then held (its record written) or cancelled. Rescheduling changes its
time or attendees, not its status. `services.triage_meeting_transition` refuses anything not in
MOVES; the referral's own moves are in referrals.states.
"""

from __future__ import annotations

from django.db import models


class MeetingStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


MOVES: dict[str, frozenset[str]] = {
    MeetingStatus.BOOKED: frozenset({MeetingStatus.HELD, MeetingStatus.CANCELLED}),
    MeetingStatus.HELD: frozenset(),
    MeetingStatus.CANCELLED: frozenset(),
}


class TriageOutcome(models.TextChoices):
    RESOLVED_AT_TRIAGE = "resolved_at_triage", "Resolved at triage"
    FOR_PANEL = "for_panel", "For panel"
    SIGNPOSTED = "signposted", "Signposted elsewhere"
    WITHDRAWN = "withdrawn", "Withdrawn"


class BlockerTheme(models.TextChoices):
    """DESIGN.md section 5's themes: each blocker is recorded specifically under one of them."""

    ACCOMMODATION = "accommodation", "Accommodation"
    MENTAL_HEALTH_SERVICES = "mental_health_services", "Mental health services"
    ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
    SUBSTANCE_MISUSE_SERVICES = "substance_misuse_services", "Substance misuse services"
    HOSTILITY_TO_STAFF = "hostility_to_staff", "Hostility to staff"
    GENDER_IDENTITY = "gender_identity", "Gender identity"
    IMMIGRATION_STATUS = "immigration_status", "Immigration status"
    FAMILY_RELATIONSHIPS = "family_relationships", "Family relationships"
    CHILDHOOD_TRAUMA = "childhood_trauma", "Childhood trauma"
    CHILD_PROTECTION = "child_protection", "Child protection"
    YOUTH_OFFENDING_HISTORY = "youth_offending_history", "Youth offending history"
    ENGAGEMENT = "engagement", "Engagement"
    RELEASE_PLANNING = "release_planning", "Release planning"
    PRISON_LIAISON = "prison_liaison", "Prison liaison"
    RISK_MANAGEMENT = "risk_management", "Risk management"
    OTHER = "other", "Other"


class TeamFunction(models.TextChoices):
    """What a member of a region's Complex Cases team does at triage."""

    PROGRAMME_MANAGER = "programme_manager", "Programme Manager"
    CASE_ADMIN = "case_admin", "Case administrator"
    QDO = "qdo", "QDO"
    SENIOR_FORENSIC_PSYCHOLOGIST = "senior_forensic_psychologist", "Senior Forensic Psychologist"


class AttendeeRole(models.TextChoices):
    """Why someone is at a triage meeting: shown on the page and, as a role, in the invitation."""

    PROGRAMME_MANAGER = "programme_manager", "Programme Manager"
    CASE_ADMIN = "case_admin", "Case administrator"
    QDO = "qdo", "QDO"
    SENIOR_FORENSIC_PSYCHOLOGIST = "senior_forensic_psychologist", "Senior Forensic Psychologist"
    PRACTITIONER = "practitioner", "Practitioner"
    SPO = "spo", "SPO"
    POM = "pom", "POM"
    INVITED = "invited", "Invited"


ROLE_LABELS: dict[str, str] = dict(AttendeeRole.choices)
