"""Admin pages for accounts and roles. Every change goes through accounts.services, so it is audited.

Accounts are never deleted (audit records and case history point at them): deactivate instead.
Regions, PDUs and teams come from the extract and are read-only here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from complexcases.accounts.models import Pdu, Region, Team, User, UserRole
from complexcases.accounts.services import (
    RoleRequest,
    user_changes_audit,
    user_role_change,
    user_role_delete,
    user_role_grant,
    user_snapshot,
)


def _actor(request: HttpRequest) -> str:
    return request.user.get_username() if request.user.is_authenticated else "anonymous"


def _role_request(user_role: UserRole) -> RoleRequest:
    return RoleRequest(
        user=user_role.user,
        role=user_role.role,
        region=user_role.region,
        pdu=user_role.pdu,
        team=user_role.team,
    )


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Organisation units from the extract: searchable (for role scopes), never edited here."""

    search_fields = ("code", "name")
    list_display: Any = ("code", "name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(_ReadOnlyAdmin):
    pass


@admin.register(Pdu)
class PduAdmin(_ReadOnlyAdmin):
    list_display = ("code", "name", "region")


@admin.register(Team)
class TeamAdmin(_ReadOnlyAdmin):
    list_display = ("code", "name", "pdu")


_ROLE_READONLY = ("source", "granted_by", "granted_at")


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0
    fields = ("role", "region", "pdu", "team", *_ROLE_READONLY)
    readonly_fields = _ROLE_READONLY
    autocomplete_fields = ("region", "pdu", "team")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (UserRoleInline,)
    list_display = ("username", "first_name", "last_name", "is_active", "staff")
    list_select_related = ("staff",)
    readonly_fields = ("staff", "left_extract_at", "last_login", "date_joined")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Staff record", {"fields": ("staff", "left_extract_at")}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the audit trail and case history refer to accounts

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        # The admin wraps the whole change in one transaction, so a failed audit undoes the save.
        before = None
        if change:
            stored = User.objects.select_related("staff").get(pk=obj.pk)
            before = user_snapshot(stored)
        super().save_model(request, obj, form, change)
        user_changes_audit(actor=_actor(request), before=before, user=obj, http_request=request)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        if formset.model is not UserRole:
            super().save_formset(request, form, formset, change)
            return
        actor = _actor(request)
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            user_role_delete(actor=actor, user_role=deleted, http_request=request)
        for instance in instances:
            if instance.pk is None:
                result = user_role_grant(
                    actor=actor, request=_role_request(instance), http_request=request
                )
                instance.pk = result.user_role.pk
            else:
                user_role_change(actor=actor, user_role=instance, http_request=request)


@admin.register(UserRole)
class UserRoleAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "region", "pdu", "team", "source", "granted_by", "granted_at")
    list_filter = ("role", "source")
    list_select_related = ("user", "region", "pdu", "team")
    search_fields = ("user__username", "region__code", "pdu__code", "team__code")
    fields = ("user", "role", "region", "pdu", "team", *_ROLE_READONLY)
    readonly_fields = _ROLE_READONLY
    autocomplete_fields = ("user", "region", "pdu", "team")

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if change:
            user_role_change(actor=_actor(request), user_role=obj, http_request=request)
            return
        result = user_role_grant(
            actor=_actor(request), request=_role_request(obj), http_request=request
        )
        obj.pk = result.user_role.pk
        obj.source = result.user_role.source
        obj.granted_by = result.user_role.granted_by
        obj.granted_at = result.user_role.granted_at

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        user_role_delete(actor=_actor(request), user_role=obj, http_request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # One audited revocation per role (an admin bulk action on a handful of rows).
        rows = list(queryset.select_related("user", "region", "pdu", "team"))
        for row in rows:
            user_role_delete(actor=_actor(request), user_role=row, http_request=request)
