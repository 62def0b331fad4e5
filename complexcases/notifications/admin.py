"""Operators' view of the outbox and of nDelius export batches.

Outbox rows hold no personal data by design. nDelius contacts hold case notes, so the admin shows
only their bookkeeping (reference, type, dates, batch), never the person or the notes: the admin
role gives no case data (DESIGN.md section 2).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from complexcases.notifications import services
from complexcases.notifications.models import DeliusContact, DeliusExportBatch, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "attempts", "next_attempt_at", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("message_id", "ref_type", "ref_id")
    actions = ["requeue"]

    @admin.action(description="Send the selected failed messages again")
    def requeue(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = services.outbox_requeue(
            message_ids=list(queryset.values_list("pk", flat=True)), actor=request.user
        )
        self.message_user(request, f"{count} message(s) queued again.", messages.SUCCESS)


@admin.register(DeliusExportBatch)
class DeliusExportBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "actor", "format", "contact_count")


@admin.register(DeliusContact)
class DeliusContactAdmin(ReadOnlyAdmin):
    list_display = ("external_reference", "event", "contact_type", "contact_date", "exported_at")
    list_filter = ("event", "exported_at")
    fields = (
        "external_reference",
        "event",
        "contact_type",
        "contact_date",
        "created_at",
        "exported_at",
        "export_batch",
    )
