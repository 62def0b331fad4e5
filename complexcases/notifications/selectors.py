"""Reads for dashboards and operators. None of these return personal data except
delius_contacts_pending, which is for the export and for the Complex Cases team's own pages
(callers check access with complexcases.accounts.access before showing it to a user).
"""

from __future__ import annotations

from django.db.models import Count, QuerySet

from complexcases.notifications.models import DeliusContact, OutboxMessage, OutboxStatus


def outbox_counts_by_status() -> dict[str, int]:
    """{status: number of messages}, every status present (0 when none)."""
    counts = dict.fromkeys(OutboxStatus.values, 0)
    for row in OutboxMessage.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def outbox_failed(limit: int = 50) -> QuerySet[OutboxMessage]:
    """Messages that gave up, newest first, for an operator to inspect and requeue."""
    return OutboxMessage.objects.filter(status=OutboxStatus.FAILED).order_by("-created_at")[:limit]


def outbox_for(ref_type: str, ref_id: str | int) -> QuerySet[OutboxMessage]:
    """Messages caused by one object (e.g. a triage meeting), oldest first."""
    return OutboxMessage.objects.filter(ref_type=ref_type, ref_id=str(ref_id)).order_by(
        "created_at", "id"
    )


def delius_contacts_pending() -> QuerySet[DeliusContact]:
    return (
        DeliusContact.objects.filter(exported_at__isnull=True)
        .select_related("person")
        .order_by("created_at", "id")
    )


def delius_contacts_pending_count() -> int:
    return DeliusContact.objects.filter(exported_at__isnull=True).count()
