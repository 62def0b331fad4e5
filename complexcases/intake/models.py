"""Emails read from the Complex Cases mailbox, their history, and how far the mailbox was read.

No workflow in save() and no signals: every write is in services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from complexcases.accounts.models import Region
from complexcases.intake.states import AttentionReason, InboundStatus
from complexcases.referrals.models import Referral


class InboundEmail(models.Model):
    """One message read from the mailbox, kept whole (sensitive) with what became of it.

    `dedupe_key` is unique in the database: it is how "never processed twice" holds when a message
    is read again (a crash before it was flagged, \\Seen cleared by hand, two polls at once, the
    same message delivered twice). See rules.dedupe_key.
    """

    dedupe_key = models.CharField(max_length=64, unique=True)
    message_id = models.CharField(max_length=998, blank=True)
    sender = models.CharField(max_length=254, blank=True, help_text="The From address")
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The member of staff the From address belongs to, when known",
    )
    subject = models.CharField(max_length=998, blank=True, help_text="Sensitive")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The Date header")
    received_at = models.DateTimeField(default=timezone.now, help_text="When the service read it")
    raw = models.BinaryField(help_text="The original message, byte for byte (sensitive)")
    body_text = models.TextField(blank=True, help_text="The decoded text (sensitive)")
    crns_named = models.JSONField(default=list, blank=True)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=InboundStatus.choices)
    reason = models.CharField(max_length=30, choices=AttentionReason.choices, blank=True)
    referral = models.OneToOneField(
        Referral,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_email",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True, help_text="Why it was dismissed")

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(fields=["region", "status", "received_at"], name="inbound_queue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=InboundStatus.values), name="inbound_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=InboundStatus.REFERRED, reason="")
                | ~Q(status=InboundStatus.REFERRED) & Q(reason__in=AttentionReason.values),
                name="inbound_reason_unless_referred",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[InboundStatus.REFERRED, InboundStatus.COMPLETED],
                    referral__isnull=False,
                )
                | Q(
                    status__in=[InboundStatus.NEEDS_ATTENTION, InboundStatus.DISMISSED],
                    referral__isnull=True,
                ),
                name="inbound_referral_when_made",
            ),
            models.CheckConstraint(
                condition=~Q(status=InboundStatus.DISMISSED) | ~Q(resolution_note=""),
                name="inbound_dismissed_says_why",
            ),
        ]

    def __str__(self) -> str:
        return f"inbound email {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        """The reference given to the sender in the acknowledgement."""
        return f"CC-EM-{self.pk}"


class InboundEmailTransition(models.Model):
    """One event in an email's history: stored (from "" to its first status), or a move."""

    inbound_email = models.ForeignKey(
        InboundEmail, on_delete=models.PROTECT, related_name="transitions"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=InboundStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["inbound_email", "occurred_at"], name="inbound_history")]

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} -> {self.to_status}"


class MailboxCursor(models.Model):
    """The highest UID read from a mailbox folder, for its UIDVALIDITY.

    The poll reads messages that are unseen OR above this UID, so a message a person opened in a
    mail client before the service read it is not skipped. It only ever moves past messages that
    were stored (or found to be duplicates): a message that failed is read again next time.
    """

    mailbox = models.CharField(max_length=400, unique=True, help_text="user@host:port/folder")
    uidvalidity = models.BigIntegerField()
    last_uid = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.mailbox} {self.uidvalidity}:{self.last_uid}"
