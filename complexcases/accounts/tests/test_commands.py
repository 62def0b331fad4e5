# mypy: disable-error-code="index,operator"
"""`grant_role USERNAME ROLE [--region CODE | --pdu CODE | --team CODE]` and `revoke_role`."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from complexcases.accounts.models import UserRole
from complexcases.accounts.tests.cast import build_org
from complexcases.core.models import AuditEvent
from complexcases.people.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(monkeypatch: Any) -> Any:
    monkeypatch.setattr("getpass.getuser", lambda: "opsuser")
    world = build_org()
    world.users["ann"] = UserFactory(username="ann")
    return world


def run(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def held(username: str = "ann") -> set[tuple[str, str, str]]:
    rows = UserRole.objects.filter(user__username=username).select_related("region", "pdu", "team")
    return {(row.role, row.scope_kind, row.scope_code) for row in rows}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("practitioner",), ("practitioner", "", "")),
        (("practitioner", "--team", "TA1"), ("practitioner", "team", "TA1")),
        (("spo", "--team", "TA2"), ("spo", "team", "TA2")),
        (("head_of_service", "--pdu", "PDUB"), ("head_of_service", "pdu", "PDUB")),
        (("cc_team", "--region", "EOE"), ("cc_team", "region", "EOE")),
        (("panel_member", "--region", "LDN"), ("panel_member", "region", "LDN")),
        (("analyst", "--region", "EOE"), ("analyst", "region", "EOE")),
        (("analyst",), ("analyst", "", "")),
        (("admin",), ("admin", "", "")),
    ],
)
def test_grant_role_with_each_scope(
    org: Any, args: tuple[str, ...], expected: tuple[str, str, str]
) -> None:
    output = run("grant_role", "ann", *args)
    assert "Granted" in output
    assert held() == {expected}
    role = UserRole.objects.get()
    assert (role.source, role.granted_by) == ("manual", "command:opsuser")
    event = AuditEvent.objects.get(action="grant_role")
    assert event.actor_username == "command:opsuser"
    assert (event.after["role"], event.after["scope_code"]) == (expected[0], expected[2])


def test_a_user_may_hold_several_roles(org: Any) -> None:
    run("grant_role", "ann", "spo", "--team", "TA1")
    run("grant_role", "ann", "spo", "--team", "TA2")
    run("grant_role", "ann", "panel_member", "--region", "EOE")
    assert held() == {
        ("spo", "team", "TA1"),
        ("spo", "team", "TA2"),
        ("panel_member", "region", "EOE"),
    }


def test_granting_a_held_role_again_changes_nothing(org: Any) -> None:
    run("grant_role", "ann", "admin")
    output = run("grant_role", "ann", "admin")
    assert "already" in output
    assert UserRole.objects.count() == 1
    assert AuditEvent.objects.filter(action="grant_role").count() == 1


def test_granting_a_default_role_makes_it_manual(org: Any) -> None:
    UserRole.objects.create(
        user=org.users["ann"],
        role="spo",
        team=org.teams["A1"],
        source="extract",
        granted_by="import",
        granted_at="2026-11-01T09:00:00Z",
    )
    output = run("grant_role", "ann", "spo", "--team", "TA1")
    assert "now a manual grant" in output
    assert UserRole.objects.get().source == "manual"
    event = AuditEvent.objects.get(action="update", object_type="user_role")
    assert (event.before["source"], event.after["source"]) == ("extract", "manual")


def test_revoke_role_removes_exactly_that_scope(org: Any) -> None:
    run("grant_role", "ann", "spo", "--team", "TA1")
    run("grant_role", "ann", "spo", "--team", "TA2")
    output = run("revoke_role", "ann", "spo", "--team", "TA1")
    assert "Revoked" in output
    assert held() == {("spo", "team", "TA2")}
    event = AuditEvent.objects.get(action="revoke_role")
    assert event.actor_username == "command:opsuser"
    assert (event.before["role"], event.before["scope_code"]) == ("spo", "TA1")


def test_revoking_a_default_role_warns_it_comes_back(org: Any) -> None:
    UserRole.objects.create(
        user=org.users["ann"],
        role="practitioner",
        source="extract",
        granted_by="import",
        granted_at="2026-11-01T09:00:00Z",
    )
    output = run("revoke_role", "ann", "practitioner")
    assert "next import gives it back" in output
    assert not UserRole.objects.exists()


@pytest.mark.parametrize("command", ["grant_role", "revoke_role"])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody", "admin"), "No user with username 'nobody'"),
        (("ann", "superhero"), "Unknown role 'superhero'"),
        (("ann", "cc_team", "--region", "XX"), "No region with code 'XX'"),
        (("ann", "head_of_service", "--pdu", "NOPE"), "No PDU with code 'NOPE'"),
        (("ann", "spo", "--team", "NOPE"), "No team with code 'NOPE'"),
        (("ann", "spo"), "The spo role needs --team CODE"),
        (("ann", "spo", "--region", "EOE"), "The spo role needs --team CODE"),
        (("ann", "head_of_service", "--team", "TA1"), "The head_of_service role needs --pdu CODE"),
        (("ann", "cc_team", "--pdu", "PDUA"), "The cc_team role needs --region CODE"),
        (("ann", "panel_member"), "The panel_member role needs --region CODE"),
        (("ann", "admin", "--team", "TA1"), "The admin role takes no scope"),
        (
            ("ann", "analyst", "--pdu", "PDUA"),
            "The analyst role takes either no scope or --region CODE",
        ),
        (
            ("ann", "practitioner", "--pdu", "PDUA"),
            "The practitioner role takes either no scope or --team CODE",
        ),
        (("ann", "spo", "--team", "TA1", "--pdu", "PDUA"), "not allowed with argument"),
    ],
)
def test_errors_are_clear_and_change_nothing(
    org: Any, command: str, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError) as error:
        run(command, *args)
    assert message in str(error.value)
    assert not UserRole.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["grant_role", "revoke_role"]).exists()


def test_revoking_a_role_not_held_is_an_error(org: Any) -> None:
    run("grant_role", "ann", "spo", "--team", "TA1")
    with pytest.raises(CommandError, match="does not hold the spo role for team 'TA2'"):
        run("revoke_role", "ann", "spo", "--team", "TA2")
    assert held() == {("spo", "team", "TA1")}
