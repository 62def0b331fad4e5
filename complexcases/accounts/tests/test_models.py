"""The UserRole table's constraints, and the selectors over it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from complexcases.accounts import selectors
from complexcases.accounts.models import UserRole
from complexcases.accounts.tests.cast import build_org, give
from complexcases.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Any:
    world = build_org()
    world.users["ann"] = UserFactory(username="ann")
    return world


def _role(user: Any, role: str, **scope: Any) -> UserRole:
    return UserRole(user=user, role=role, granted_by="test", granted_at=timezone.now(), **scope)


@pytest.mark.parametrize(
    ("role", "scope_name", "unit_attr", "unit_key"),
    [
        ("admin", None, None, None),
        ("spo", "team", "teams", "A1"),
        ("head_of_service", "pdu", "pdus", "A"),
        ("cc_team", "region", "regions", "EOE"),
    ],
)
def test_one_row_per_user_role_and_scope(
    org: Any, role: str, scope_name: str | None, unit_attr: str | None, unit_key: str | None
) -> None:
    scope = {scope_name: getattr(org, unit_attr)[unit_key]} if scope_name and unit_attr else {}
    _role(org.users["ann"], role, **scope).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _role(org.users["ann"], role, **scope).save()


def test_same_role_with_different_scopes_is_allowed(org: Any) -> None:
    give(org.users["ann"], "spo", team=org.teams["A1"])
    give(org.users["ann"], "spo", team=org.teams["A2"])
    give(org.users["ann"], "analyst")
    give(org.users["ann"], "analyst", region=org.regions["EOE"])
    assert UserRole.objects.count() == 4


def test_at_most_one_scope_in_the_database(org: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _role(org.users["ann"], "spo", team=org.teams["A1"], pdu=org.pdus["A"]).save()


def test_clean_refuses_a_scope_the_role_cannot_take(org: Any) -> None:
    with pytest.raises(ValidationError, match="needs --team"):
        _role(org.users["ann"], "spo", region=org.regions["EOE"]).clean()
    with pytest.raises(ValidationError, match="at most one"):
        _role(org.users["ann"], "spo", team=org.teams["A1"], pdu=org.pdus["A"]).clean()
    _role(org.users["ann"], "spo", team=org.teams["A1"]).clean()  # fine


def test_role_holders_and_user_roles(org: Any) -> None:
    bob: Any = UserFactory(username="bob")
    inactive: Any = UserFactory(username="carl", is_active=False)
    for user in (org.users["ann"], bob, inactive):
        give(user, "spo", team=org.teams["A1"])
    give(bob, "spo", team=org.teams["A2"])
    holders = selectors.role_holders("spo", team=org.teams["A1"])
    assert [u.username for u in holders] == ["ann", "bob"]
    assert [str(r) for r in selectors.user_roles(bob)] == ["spo (team TA1)", "spo (team TA2)"]
