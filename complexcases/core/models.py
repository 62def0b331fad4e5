"""The audit trail: an append-only record of who consulted, disclosed or changed what, and when.

It meets the logging duty of the Data Protection Act 2018 s.62 (consultation: date, time and who;
disclosure: also the recipients). Unlike the logs, the audit trail stores identifiers (the person's
CRN) by design: it exists to answer "who looked at this case?".

Append-only is enforced three times over: the model and its queryset refuse updates and deletes,
the admin is read-only, and a database trigger (PostgreSQL and SQLite, see migration 0002) refuses
UPDATE and DELETE of the table whatever the client.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or remove an audit record through the application."""


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    SEARCH = "search", "Searched"
    EXPORT = "export", "Exported"
    DOWNLOAD = "download", "Downloaded"
    SEND = "send", "Sent (disclosed)"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    TRANSITION = "transition", "Moved to a new status"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed to sign in"
    SIGN_OUT = "sign_out", "Signed out"
    REFUSED = "refused", "Refused"
    GRANT_ROLE = "grant_role", "Granted a role"
    REVOKE_ROLE = "revoke_role", "Revoked a role"
    ISSUE_TOKEN = "issue_token", "Issued an API token"
    REVOKE_TOKEN = "revoke_token", "Revoked an API token"
    IMPORT = "import", "Imported an extract"
    SCREEN = "screen", "Screened the caseload"
    AUDIT_SEARCH = "audit_search", "Searched the audit trail"


class AuditOutcome(models.TextChoices):
    OK = "ok", "Done"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Reads and appends only: bulk updates and deletes are refused."""

    def update(self, **kwargs: Any) -> int:
        raise AuditTrailIsAppendOnly("Audit records cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit records cannot be deleted")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AuditTrailIsAppendOnly("Audit records cannot be changed")

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditTrailIsAppendOnly("Audit records cannot be changed")

    # QuerySet.delete() is what Django's Collector and admin actions use; _raw_delete is the
    # fast path behind it. Refuse both so no code path removes rows.
    def _raw_delete(self, using: Any) -> int:
        raise AuditTrailIsAppendOnly("Audit records cannot be deleted")


AuditEventManager = models.Manager.from_queryset(AuditEventQuerySet)


class AuditEvent(models.Model):
    """One audited event. Written by `core.audit.audit_record` only; never changed or removed."""

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Who, as plain values rather than a foreign key, so the record survives the account's
    # renaming, deactivation or removal. Both empty for an anonymous actor.
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True, db_index=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices, default="ok")
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=150, blank=True)
    # The person on probation the event is about: answers "who looked at this case?".
    person_crn = models.CharField("person CRN", max_length=7, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # For disclosures (exports, emails, papers): to whom (s.62(2)(c) DPA 2018).
    recipients = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(null=True, blank=True)
    # From where.
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditEventManager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["person_crn", "occurred_at"], name="audit_person_when"),
            models.Index(fields=["actor_username", "occurred_at"], name="audit_actor_when"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        who = self.actor_username or "anonymous"
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Only the first save (the insert) is allowed; any later save would be an UPDATE.
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AuditTrailIsAppendOnly("Audit records cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("Audit records cannot be deleted")


# Connect the auth-signal receivers (the audit of sign-in, failed sign-in and sign-out in
# core.audit; the session clocks in core.middleware) when the app registry loads the models.
from complexcases.core import audit as _audit  # noqa: E402, F401
from complexcases.core import middleware as _middleware  # noqa: E402, F401
