"""Statuses and choices of the panel work, and the allowed moves of a panel case, as plain data."""

from __future__ import annotations

from django.db import models

from complexcases.panels.rules import (
    HOLIDAY_POLICY_LABELS,
    PANEL_ROLE_LABELS,
    HolidayPolicy,
    PanelRole,
)

PANEL_ROLE_CHOICES: list[tuple[str, str]] = [
    (role.value, PANEL_ROLE_LABELS[role]) for role in PanelRole
]
HOLIDAY_POLICY_CHOICES: list[tuple[str, str]] = [
    (policy.value, HOLIDAY_POLICY_LABELS[policy]) for policy in HolidayPolicy
]


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class CaseStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CONCLUDED = "concluded", "Concluded"
    CANCELLED = "cancelled", "Slot cancelled"


S = CaseStatus

CASE_MOVES: dict[str, frozenset[str]] = {
    S.BOOKED: frozenset({S.CONCLUDED, S.CANCELLED}),
    S.CONCLUDED: frozenset(),  # locked: later corrections are addenda
    S.CANCELLED: frozenset(),
}


class PartyRole(models.TextChoices):
    """Who attends a slot beyond the panel roles: the people working the case."""

    PRACTITIONER = "practitioner", "Probation practitioner"
    SPO = "spo", "Senior Probation Officer"
    POM = "pom", "Prison Offender Manager"


class InvitationStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    APOLOGIES = "apologies", "Apologies sent"
    DELEGATED = "delegated", "Delegated to a deputy"
    WITHDRAWN = "withdrawn", "Invitation withdrawn"


class Attendance(models.TextChoices):
    NOT_RECORDED = "", "Not recorded"
    ATTENDED = "attended", "Attended"
    APOLOGIES = "apologies", "Apologies"
    DELEGATED = "delegated", "Delegated"
    ABSENT = "absent", "Did not attend"


AGENDA_STEPS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "Welcome and introductions",
        "Confidentiality; the panel does not replace statutory panels such as MAPPA.",
    ),
    (2, "Case overview", "From the practitioner and the POM, with additions from the SPO."),
    (3, "Questions and reflections", "From panel members."),
    (4, "How each member will support", "Agreement on what each member will do."),
    (5, "Chair's summary of actions", "The actions agreed, with owners and due dates."),
    (6, "Final questions", "From the practitioner and the SPO."),
    (7, "Close", ""),
)


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class FollowUpOutcome(models.TextChoices):
    CLOSE = "close", "Close the referral"
    FURTHER_FOLLOW_UP = "further_follow_up", "Further follow-up"
    BACK_TO_PANEL = "back_to_panel", "Back to panel"
