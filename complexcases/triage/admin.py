"""Admin pages for the regions' Complex Cases teams (who is the Programme Manager, case
administrator, QDO and Senior Forensic Psychologist; who is invited by default). Changes go
through services, so they are audited. Meetings and records hold case data: not registered."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from complexcases.triage import services
from complexcases.triage.models import TriageTeamMember


def _actor(request: HttpRequest) -> str:
    return request.user.get_username() if request.user.is_authenticated else "anonymous"


@admin.register(TriageTeamMember)
class TriageTeamMemberAdmin(admin.ModelAdmin):
    list_display = ("region", "function", "user", "is_default")
    list_filter = ("region", "function", "is_default")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    raw_id_fields = ("user",)
    list_select_related = ("region", "user")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.triage_team_member_save(actor=_actor(request), member=obj, created=not change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.triage_team_member_delete(actor=_actor(request), member=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for member in queryset:
            services.triage_team_member_delete(actor=_actor(request), member=member)
