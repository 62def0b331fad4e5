"""The notifications outbox and the queue of nDelius contacts.

OutboxMessage: an email waiting to leave (or having left) the service. Rows are written in the same
transaction as the change that causes them (services.outbox_enqueue), so a message exists exactly
when its cause was committed. No personal data is stored in a row: subjects and bodies are generic
(services.outbox_enqueue refuses CRN-shaped text) and `last_error` holds an exception class and an
SMTP code only.

DeliusContact: a case record contact queued for upload to nDelius, exported exactly once in an
export batch (DeliusExportBatch) unless a batch is re-exported explicitly.
"""

from __future__ import annotations

import uuid
from email.utils import make_msgid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from complexcases.people.models import Person


def message_id_domain() -> str:
    """The domain part of generated Message-IDs: CC_MAIL_MESSAGE_ID_DOMAIN, else CC_MAIL_FROM's."""
    domain = getattr(settings, "CC_MAIL_MESSAGE_ID_DOMAIN", "")
    if domain:
        return str(domain)
    sender = str(getattr(settings, "CC_MAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL)
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    _, _, domain = address.rpartition("@")
    return domain or "complexcases.invalid"


def new_message_id() -> str:
    """A new RFC 5322 Message-ID, fixed for the life of the row (every resend carries it)."""
    return make_msgid(domain=message_id_domain())


def new_external_reference() -> str:
    return f"CC-{uuid.uuid4()}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class IcsMethod(models.TextChoices):
    REQUEST = "REQUEST", "Request"
    CANCEL = "CANCEL", "Cancel"


class OutboxMessage(models.Model):
    kind = models.CharField(max_length=50, help_text="What the message is, e.g. triage_invitation")
    ref_type = models.CharField(max_length=50, blank=True, help_text="What caused it, e.g. triage")
    ref_id = models.CharField(max_length=64, blank=True)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    html_body = models.TextField(blank=True)
    ics = models.TextField(blank=True, help_text="iCalendar text, attached when present")
    ics_method = models.CharField(max_length=10, blank=True, choices=IcsMethod.choices)
    # A file attached to the message: only where a setting allows it for a mail system accredited
    # for what the file holds (e.g. panel papers, CC_PANEL_PAPERS_ATTACH). Never by default.
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment = models.BinaryField(null=True, blank=True)
    message_id = models.CharField(max_length=255, unique=True, default=new_message_id)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker last claimed the row for sending"
    )
    last_error = models.CharField(
        max_length=200, blank=True, help_text="Exception class and SMTP code only"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["ref_type", "ref_id"], name="outbox_ref_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(ics="") & Q(ics_method=""))
                | (~Q(ics="") & Q(ics_method__in=IcsMethod.values)),
                name="outbox_ics_has_method",
            ),
            models.CheckConstraint(
                condition=~Q(status=OutboxStatus.SENT) | Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class DeliusEvent(models.TextChoices):
    REFLECTIVE_CONVERSATION = "reflective_conversation", "Reflective conversation"
    TRIAGE_BOOKED = "triage_booked", "Triage booked"
    TRIAGE_OUTCOME = "triage_outcome", "Triage outcome"
    PANEL_OUTCOME = "panel_outcome", "Panel outcome"


class DeliusExportBatch(models.Model):
    """One run of export_delius_contacts that exported pending contacts."""

    created_at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=150)
    format = models.CharField(max_length=10)
    contact_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = "nDelius export batch"
        verbose_name_plural = "nDelius export batches"

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.contact_count} contacts)"


class DeliusContact(models.Model):
    """A sensitive case record contact, queued for upload to nDelius."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="delius_contacts")
    event = models.CharField(max_length=40, choices=DeliusEvent.choices)
    contact_type = models.CharField(max_length=20)
    contact_date = models.DateField()
    staff_code = models.CharField(max_length=20)
    notes = models.TextField(blank=True)
    sensitive = models.BooleanField(default=True)
    external_reference = models.CharField(
        max_length=50, unique=True, default=new_external_reference
    )
    source_type = models.CharField(max_length=50)
    source_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    exported_at = models.DateTimeField(null=True, blank=True)
    export_batch = models.ForeignKey(
        DeliusExportBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "nDelius contact"
        indexes = [models.Index(fields=["exported_at", "created_at"], name="delius_pending_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "source_type", "source_id"], name="delius_contact_once_per_source"
            ),
            # Complex Cases contacts are always sensitive in nDelius.
            models.CheckConstraint(condition=Q(sensitive=True), name="delius_contact_sensitive"),
            models.CheckConstraint(
                condition=Q(exported_at__isnull=True, export_batch__isnull=True)
                | Q(exported_at__isnull=False, export_batch__isnull=False),
                name="delius_contact_export_consistent",
            ),
        ]

    def __str__(self) -> str:
        return self.external_reference
