"""Statuses of an email read from the Complex Cases mailbox, why it needs attention, and the
allowed moves, as plain data.

An email is stored as `referred` (it made a referral) or `needs_attention` (the Programme Manager
must look at it). Only a needs-attention email moves: to `completed` (made into a referral by the
team) or `dismissed` (with a reason). Every move is a history row (InboundEmailTransition).
"""

from __future__ import annotations

from django.db import models


class InboundStatus(models.TextChoices):
    REFERRED = "referred", "Referral made"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    COMPLETED = "completed", "Completed by the team"
    DISMISSED = "dismissed", "Dismissed"


class AttentionReason(models.TextChoices):
    UNKNOWN_SENDER = "unknown_sender", "The sender is not a known member of staff"
    NO_CRN = "no_crn", "The email names no CRN"
    SEVERAL_CRNS = "several_crns", "The email names more than one CRN"
    CRN_NOT_REFERABLE = (
        "crn_not_referable",
        "The CRN was not found, or the sender may not refer this person",
    )
    OPEN_REFERRAL = "open_referral", "The person already has an open referral"
    INCOMPLETE = "incomplete", "The email does not say what is challenging"
    MALFORMED = "malformed", "The message could not be read (no sender, or text not decodable)"
    NOT_PROCESSED = "not_processed", "The service could not process the message"


S = InboundStatus

MOVES: dict[str, frozenset[str]] = {
    S.REFERRED: frozenset(),
    S.NEEDS_ATTENTION: frozenset({S.COMPLETED, S.DISMISSED}),
    S.COMPLETED: frozenset(),
    S.DISMISSED: frozenset(),
}
