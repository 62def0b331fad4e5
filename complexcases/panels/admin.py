"""Admin pages for a region's panel configuration: the roster (members and deputies for each panel
role) and the recurring series. Changes go through services, so they are audited; saving a series
schedules its meetings for the coming year. Meetings and cases hold case data: not registered."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from complexcases.panels import rules, services
from complexcases.panels.models import PanelMember, PanelSeries


def _actor(request: HttpRequest) -> str:
    return request.user.get_username() if request.user.is_authenticated else "anonymous"


@admin.register(PanelMember)
class PanelMemberAdmin(admin.ModelAdmin):
    list_display = ("region", "role", "user", "is_deputy", "active")
    list_filter = ("region", "role", "is_deputy", "active")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    raw_id_fields = ("user",)
    list_select_related = ("region", "user")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.roster_member_save(actor=_actor(request), member=obj, created=not change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.roster_member_delete(actor=_actor(request), member=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for member in queryset:
            services.roster_member_delete(actor=_actor(request), member=member)


class PanelSeriesForm(forms.ModelForm):
    class Meta:
        model = PanelSeries
        fields = (
            "region",
            "name",
            "rrule",
            "first_date",
            "start_time",
            "end_time",
            "slot_minutes",
            "holiday_policy",
            "papers_working_days",
            "location",
            "active",
        )

    def clean_rrule(self) -> str:
        value = str(self.cleaned_data["rrule"])
        if problem := rules.validate_rrule(value):
            raise ValidationError(problem)
        return value


@admin.register(PanelSeries)
class PanelSeriesAdmin(admin.ModelAdmin):
    form = PanelSeriesForm
    list_display = ("name", "region", "rrule", "start_time", "end_time", "holiday_policy", "active")
    list_filter = ("region", "active")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        added = services.series_save(actor=_actor(request), series=obj, created=not change)
        messages.info(request, f"{added} meeting(s) scheduled for the coming year.")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # meetings point at the series: make it inactive instead
