"""Statuses, choices and the referral's allowed moves, as plain data (DESIGN.md section 5).

`MOVES` is the whole workflow: `services.referral_transition` refuses anything not in it, and the
tests walk every pair of statuses against it. `FLOW_FOR_MOVE` names the one service that makes each
move other than closing: each has side effects (invitations, nDelius contacts, meetings), so the
referral page offers no generic move, only links to those flows, and closing.
"""

from __future__ import annotations

from django.db import models


class ReferralStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    TRIAGE_BOOKED = "triage_booked", "Triage booked"
    AWAITING_PANEL = "awaiting_panel", "Awaiting panel"
    PANEL_BOOKED = "panel_booked", "Panel booked"
    HEARD_AT_PANEL = "heard_at_panel", "Heard at panel"
    IN_FOLLOW_UP = "in_follow_up", "In follow-up"
    CLOSED = "closed", "Closed"


S = ReferralStatus

MOVES: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.TRIAGE_BOOKED, S.CLOSED}),
    # back to received when the triage is cancelled
    S.TRIAGE_BOOKED: frozenset({S.RECEIVED, S.AWAITING_PANEL, S.CLOSED}),
    S.AWAITING_PANEL: frozenset({S.PANEL_BOOKED, S.CLOSED}),
    # back to awaiting_panel when the panel slot is cancelled
    S.PANEL_BOOKED: frozenset({S.AWAITING_PANEL, S.HEARD_AT_PANEL, S.CLOSED}),
    S.HEARD_AT_PANEL: frozenset({S.IN_FOLLOW_UP, S.CLOSED}),
    # back to a panel after follow-up
    S.IN_FOLLOW_UP: frozenset({S.AWAITING_PANEL, S.CLOSED}),
    S.CLOSED: frozenset(),
}

# Who makes each move, as data (tests/test_states.py checks it covers every move but closing and
# that each service exists). Closing (any open status -> closed) is made by the referral page
# (views.referral_detail, which first cancels a booked triage or panel slot), by
# triage.services.triage_outcome_record (resolved, signposted, withdrawn) and by
# panels.services.follow_up_record (outcome "close").
FLOW_FOR_MOVE: dict[tuple[str, str], str] = {
    (S.RECEIVED, S.TRIAGE_BOOKED): "complexcases.triage.services.triage_book",
    (S.TRIAGE_BOOKED, S.RECEIVED): "complexcases.triage.services.triage_cancel",
    (S.TRIAGE_BOOKED, S.AWAITING_PANEL): "complexcases.triage.services.triage_outcome_record",
    (S.AWAITING_PANEL, S.PANEL_BOOKED): "complexcases.panels.services.panel_case_book",
    (S.PANEL_BOOKED, S.AWAITING_PANEL): "complexcases.panels.services.panel_case_cancel",
    (S.PANEL_BOOKED, S.HEARD_AT_PANEL): "complexcases.panels.services.panel_case_conclude",
    (S.HEARD_AT_PANEL, S.IN_FOLLOW_UP): "complexcases.panels.services.follow_up_record",
    (S.IN_FOLLOW_UP, S.AWAITING_PANEL): "complexcases.panels.services.follow_up_record",
}


class ClosureReason(models.TextChoices):
    RESOLVED_AT_TRIAGE = "resolved_at_triage", "Resolved at triage"
    SIGNPOSTED = "signposted", "Signposted elsewhere"
    WITHDRAWN = "withdrawn", "Withdrawn"
    COMPLETED = "completed", "Completed"
    LEFT_CASELOAD = "left_caseload", "Left the caseload"


class Route(models.TextChoices):
    MONTHLY_LIST = "monthly_list", "On the monthly list"
    PROFESSIONAL_JUDGEMENT = "professional_judgement", "Professional judgement"


class RouteReason(models.TextChoices):
    GENDER_IDENTITY = "gender_identity", "Gender identity"
    PRACTITIONER_CONCERN = "practitioner_concern", "Practitioner concern"
    OTHER = "other", "Other"


class ConversationOutcome(models.TextChoices):
    NO_FURTHER_SUPPORT = "no_further_support", "No further support needed"
    REFER_TO_COMPLEX_CASES = "refer_to_complex_cases", "Refer to Complex Cases"
    SUPPORTED_ELSEWHERE = "supported_elsewhere", "Already supported elsewhere"
