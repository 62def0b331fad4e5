# mypy: disable-error-code="index,operator"
"""The admin pages for roles: every change goes through the services and is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from complexcases.accounts.models import User, UserRole
from complexcases.accounts.tests.cast import build_org, give
from complexcases.core.models import AuditEvent
from complexcases.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Any:
    world = build_org()
    world.users["boss"] = UserFactory(username="boss", is_staff=True, is_superuser=True)
    world.users["ann"] = UserFactory(username="ann", first_name="Ann", last_name="Example")
    return world


@pytest.fixture
def admin_client(org: Any) -> Client:
    client = Client()
    client.force_login(org.users["boss"])
    return client


def test_adding_a_role_is_audited(org: Any, admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:accounts_userrole_add"),
        {"user": org.users["ann"].pk, "role": "spo", "team": org.teams["A1"].pk},
    )
    assert response.status_code == 302
    role = UserRole.objects.get()
    assert (role.role, role.team, role.source, role.granted_by) == (
        "spo",
        org.teams["A1"],
        "manual",
        "boss",
    )
    event = AuditEvent.objects.get(action="grant_role")
    assert event.actor_username == "boss"
    assert event.after["scope_code"] == "TA1"


def test_a_role_with_the_wrong_scope_is_refused_by_the_form(org: Any, admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:accounts_userrole_add"),
        {"user": org.users["ann"].pk, "role": "spo", "region": org.regions["EOE"].pk},
    )
    assert response.status_code == 200
    assert "The spo role needs --team CODE" in response.content.decode()
    assert not UserRole.objects.exists()
    assert not AuditEvent.objects.filter(action="grant_role").exists()


def test_changing_a_role_is_audited_with_before_and_after(org: Any, admin_client: Client) -> None:
    role = give(org.users["ann"], "head_of_service", pdu=org.pdus["A"])
    response = admin_client.post(
        reverse("admin:accounts_userrole_change", args=[role.pk]),
        {"user": org.users["ann"].pk, "role": "head_of_service", "pdu": org.pdus["B"].pk},
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert role.pdu == org.pdus["B"]
    event = AuditEvent.objects.get(action="update", object_type="user_role")
    assert (event.before["scope_code"], event.after["scope_code"]) == ("PDUA", "PDUB")


def test_deleting_a_role_is_audited(org: Any, admin_client: Client) -> None:
    role = give(org.users["ann"], "admin")
    response = admin_client.post(
        reverse("admin:accounts_userrole_delete", args=[role.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not UserRole.objects.exists()
    assert AuditEvent.objects.get(action="revoke_role").before["role"] == "admin"


def test_bulk_delete_audits_each_role(org: Any, admin_client: Client) -> None:
    roles = [give(org.users["ann"], "admin"), give(org.users["ann"], "analyst")]
    response = admin_client.post(
        reverse("admin:accounts_userrole_changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in roles], "post": "yes"},
    )
    assert response.status_code == 302
    assert not UserRole.objects.exists()
    assert AuditEvent.objects.filter(action="revoke_role").count() == 2


def _user_form(user: User, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "roles-TOTAL_FORMS": "0",
        "roles-INITIAL_FORMS": "0",
        "roles-MIN_NUM_FORMS": "0",
        "roles-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_user_page_roles_inline_grants_changes_and_revokes_through_services(
    org: Any, admin_client: Client
) -> None:
    ann = org.users["ann"]
    kept = give(ann, "spo", team=org.teams["A1"])
    removed = give(ann, "analyst")
    data = _user_form(
        ann,
        **{
            "roles-TOTAL_FORMS": "3",
            "roles-INITIAL_FORMS": "2",
            "roles-0-id": kept.pk,
            "roles-0-user": ann.pk,
            "roles-0-role": "spo",
            "roles-0-team": org.teams["A2"].pk,
            "roles-1-id": removed.pk,
            "roles-1-user": ann.pk,
            "roles-1-role": "analyst",
            "roles-1-DELETE": "on",
            "roles-2-user": ann.pk,
            "roles-2-role": "cc_team",
            "roles-2-region": org.regions["EOE"].pk,
        },
    )
    response = admin_client.post(reverse("admin:accounts_user_change", args=[ann.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    rows = {(r.role, r.scope_code) for r in UserRole.objects.filter(user=ann)}
    assert rows == {("spo", "TA2"), ("cc_team", "EOE")}
    actions = sorted(
        AuditEvent.objects.filter(object_type="user_role").values_list("action", flat=True)
    )
    assert actions == ["grant_role", "revoke_role", "update"]


def test_user_changes_are_audited_and_users_cannot_be_deleted(
    org: Any, admin_client: Client
) -> None:
    ann = org.users["ann"]
    data = _user_form(ann, is_active="")
    data.pop("is_active")
    response = admin_client.post(reverse("admin:accounts_user_change", args=[ann.pk]), data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="update", object_type="user")
    assert (event.before, event.after) == ({"is_active": True}, {"is_active": False})
    response = admin_client.get(reverse("admin:accounts_user_delete", args=[ann.pk]))
    assert response.status_code == 403


def test_adding_a_user_is_audited(org: Any, admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newcomer",
            "usable_password": "false",
            "roles-TOTAL_FORMS": "1",
            "roles-INITIAL_FORMS": "0",
            "roles-0-role": "analyst",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    event = AuditEvent.objects.get(action="create", object_type="user")
    assert (event.object_id, event.actor_username) == (str(user.pk), "boss")
    assert "password" not in event.after
    assert AuditEvent.objects.get(action="grant_role").after["username"] == "newcomer"
