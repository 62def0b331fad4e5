"""The audit trail in Django's admin: read-only (no add, change or delete, for anyone).

The service's own search page (/audit/) is the place to search and export the trail, because
each search there is itself audited; this admin view is for support staff with superuser access.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from complexcases.core.audit import CRN_PATTERN, audit_record
from complexcases.core.models import AuditAction, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "actor_username",
        "action",
        "outcome",
        "object_type",
        "object_id",
        "person_crn",
    ]
    list_filter = ["action", "outcome"]
    search_fields = ["=person_crn", "=actor_username", "=object_id", "=request_id"]
    date_hierarchy = "occurred_at"
    list_per_page = 100
    list_max_show_all = 200
    actions = None

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        if search_term:
            # Searching the trail is itself audited, here as on the service's search page.
            term = search_term.strip()
            audit_record(
                actor=request.user,
                action=AuditAction.AUDIT_SEARCH,
                object_type="audit_trail",
                person_crn=term if CRN_PATTERN.fullmatch(term) else "",
                request=request,
                details={"admin_search": term},
            )
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]
