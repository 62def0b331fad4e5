# mypy: disable-error-code="index,operator"
"""Accounts and default roles provisioned from the stored staff records (staff.csv)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from complexcases.accounts import services
from complexcases.accounts.models import Staff, User, UserRole
from complexcases.accounts.services import accounts_provision_from_staff
from complexcases.accounts.tests.cast import build_org, give
from complexcases.core.audit import AuditUnavailable
from complexcases.core.models import AuditEvent
from complexcases.people.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTOR = "import:test"


@pytest.fixture
def org() -> Any:
    return build_org()


def provision() -> services.ProvisionReport:
    return accounts_provision_from_staff(actor=ACTOR)


def roles_of(username: str) -> set[tuple[str, str, str]]:
    """(role, scope code, source) for each of the user's roles."""
    rows = UserRole.objects.filter(user__username=username).select_related("region", "pdu", "team")
    return {(row.role, row.scope_code, row.source) for row in rows}


def test_creates_an_account_for_each_staff_record_with_a_username(org: Any) -> None:
    staff: Any = StaffFactory(
        username="pat.po", grade="PO", team=org.teams["A1"], email="pat@example.invalid"
    )
    StaffFactory(username="", grade="PO", team=org.teams["A1"])

    report = provision()

    user = User.objects.get(username="pat.po")
    assert (user.first_name, user.last_name, user.email) == (
        staff.forename,
        staff.surname,
        staff.email,
    )
    assert user.staff == staff
    assert user.is_active
    assert not user.has_usable_password()
    assert User.objects.count() == 1
    assert roles_of("pat.po") == {("practitioner", "", "extract")}
    assert (report.created, report.roles_granted) == (1, 1)
    assert AuditEvent.objects.filter(
        action="create", object_type="user", object_id=str(user.pk)
    ).exists()
    granted = AuditEvent.objects.get(action="grant_role")
    assert granted.actor_username == ACTOR
    assert granted.after["username"] == "pat.po" and granted.after["role"] == "practitioner"


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        ("PSO", {("practitioner", "")}),
        ("PO", {("practitioner", "")}),
        ("POM", {("practitioner", "")}),
        ("SPO", {("spo", "TA1")}),
        ("HOPDU", {("head_of_service", "PDUA")}),
        ("QDO", {("cc_team", "EOE")}),
        ("PSYCH", {("cc_team", "EOE")}),
        ("MANAGER", set()),
        ("ADMIN", set()),
        ("OTHER", set()),
    ],
)
def test_default_role_by_grade(org: Any, grade: str, expected: set[tuple[str, str]]) -> None:
    StaffFactory(username="someone", grade=grade, team=org.teams["A1"])
    provision()
    assert {(role, code) for role, code, _ in roles_of("someone")} == expected
    assert User.objects.filter(username="someone", is_active=True).exists()


def test_running_twice_changes_nothing_the_second_time(org: Any) -> None:
    for grade in ("PO", "SPO", "HOPDU", "QDO", "OTHER"):
        StaffFactory(grade=grade, team=org.teams["A1"])
    first = provision()
    events = AuditEvent.objects.count()
    second = provision()
    assert first.changed and not second.changed
    assert AuditEvent.objects.count() == events


def test_name_and_email_follow_the_staff_record(org: Any) -> None:
    staff: Any = StaffFactory(username="sam", team=org.teams["A1"], forename="Sam", surname="Old")
    provision()
    Staff.objects.filter(pk=staff.pk).update(surname="New", email="sam.new@example.invalid")

    report = provision()

    user = User.objects.get(username="sam")
    assert (user.last_name, user.email) == ("New", "sam.new@example.invalid")
    assert report.updated == 1
    event = AuditEvent.objects.filter(action="update", object_type="user").latest("id")
    assert event.before["last_name"] == "Old" and event.after["last_name"] == "New"
    assert "first_name" not in event.after  # only what changed


def test_account_of_staff_who_left_is_deactivated_not_deleted(org: Any) -> None:
    staff: Any = StaffFactory(username="leaver", grade="SPO", team=org.teams["A1"])
    provision()
    user = User.objects.get(username="leaver")
    give(user, "analyst")  # a manual grant
    Staff.objects.filter(pk=staff.pk).update(in_extract=False)

    report = provision()

    user.refresh_from_db()
    assert not user.is_active
    assert user.left_extract_at is not None
    assert roles_of("leaver") == {("analyst", "", "manual")}  # default role gone, manual kept
    assert (report.deactivated, report.roles_revoked) == (1, 1)
    event = AuditEvent.objects.filter(action="update", object_id=str(user.pk)).latest("id")
    assert (event.before["is_active"], event.after["is_active"]) == (True, False)


def test_returning_staff_are_reactivated_with_their_default_role(org: Any) -> None:
    staff: Any = StaffFactory(username="returner", grade="PO", team=org.teams["A1"])
    provision()
    Staff.objects.filter(pk=staff.pk).update(in_extract=False)
    provision()
    Staff.objects.filter(pk=staff.pk).update(in_extract=True)

    report = provision()

    user = User.objects.get(username="returner")
    assert user.is_active and user.left_extract_at is None
    assert roles_of("returner") == {("practitioner", "", "extract")}
    assert report.reactivated == 1


def test_an_account_an_administrator_deactivated_stays_inactive(org: Any) -> None:
    StaffFactory(username="suspended", grade="PO", team=org.teams["A1"])
    provision()
    User.objects.filter(username="suspended").update(is_active=False)
    provision()
    assert not User.objects.get(username="suspended").is_active


def test_no_account_is_created_for_staff_who_already_left(org: Any) -> None:
    StaffFactory(username="gone", grade="PO", team=org.teams["A1"], in_extract=False)
    provision()
    assert not User.objects.filter(username="gone").exists()


def test_grade_change_moves_the_default_role_and_keeps_manual_grants(org: Any) -> None:
    staff: Any = StaffFactory(username="riser", grade="PO", team=org.teams["A1"])
    provision()
    user = User.objects.get(username="riser")
    give(user, "panel_member", region=org.regions["EOE"])
    Staff.objects.filter(pk=staff.pk).update(grade="SPO")

    report = provision()

    assert roles_of("riser") == {("spo", "TA1", "extract"), ("panel_member", "EOE", "manual")}
    assert (report.roles_granted, report.roles_revoked) == (1, 1)
    revoked = AuditEvent.objects.get(action="revoke_role")
    assert revoked.before["role"] == "practitioner"

    Staff.objects.filter(pk=staff.pk).update(team=org.teams["B1"])
    provision()
    assert roles_of("riser") == {("spo", "TB1", "extract"), ("panel_member", "EOE", "manual")}


def test_a_manual_grant_equal_to_the_default_is_not_duplicated_or_removed(org: Any) -> None:
    staff: Any = StaffFactory(username="dup", grade="SPO", team=org.teams["A1"])
    user: Any = UserFactory(username="dup")
    give(user, "spo", team=org.teams["A1"])
    provision()
    assert roles_of("dup") == {("spo", "TA1", "manual")}
    Staff.objects.filter(pk=staff.pk).update(grade="PO")
    provision()
    assert roles_of("dup") == {("spo", "TA1", "manual"), ("practitioner", "", "extract")}


def test_an_existing_account_with_the_username_is_linked(org: Any) -> None:
    user: Any = UserFactory(username="already")
    staff: Any = StaffFactory(username="already", team=org.teams["A1"])
    provision()
    user.refresh_from_db()
    assert user.staff == staff
    assert user.has_usable_password()  # the existing password is left alone


def test_username_change_moves_the_staff_link_to_the_new_account(org: Any) -> None:
    staff: Any = StaffFactory(username="old.name", grade="PO", team=org.teams["A1"])
    provision()
    Staff.objects.filter(pk=staff.pk).update(username="new.name")

    provision()

    old = User.objects.get(username="old.name")
    new = User.objects.get(username="new.name")
    assert old.staff is None and not old.is_active
    assert new.staff == staff and new.is_active
    assert roles_of("old.name") == set()
    assert roles_of("new.name") == {("practitioner", "", "extract")}


def test_staff_sharing_a_username_are_not_linked(org: Any) -> None:
    StaffFactory(username="shared", team=org.teams["A1"], staff_code="S90001")
    StaffFactory(username="shared", team=org.teams["A1"], staff_code="S90002")
    report = provision()
    assert not User.objects.filter(username="shared").exists()
    assert len(report.warnings) == 1
    assert "S90001" in report.warnings[0] and "S90002" in report.warnings[0]


def test_nothing_is_provisioned_when_the_audit_cannot_be_written(
    org: Any, monkeypatch: Any
) -> None:
    StaffFactory(username="unaudited", team=org.teams["A1"])

    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("audit table unavailable")

    # The audit trail's own insert fails: provisioning must refuse and write nothing.
    monkeypatch.setattr(AuditEvent.objects, "bulk_create", unavailable)
    monkeypatch.setattr(AuditEvent, "save", unavailable)
    with pytest.raises(AuditUnavailable):
        provision()
    assert not User.objects.filter(username="unaudited").exists()
    assert not UserRole.objects.exists()


def test_queries_do_not_grow_with_the_number_of_staff(org: Any) -> None:
    def unchanged_run_queries() -> int:
        provision()
        with CaptureQueriesContext(connection) as captured:
            provision()
        return len(captured)

    for _ in range(3):
        StaffFactory(grade="SPO", team=org.teams["A1"])
    few = unchanged_run_queries()
    for _ in range(30):
        StaffFactory(grade="PO", team=org.teams["B1"])
    many = unchanged_run_queries()
    assert few == many


def test_provision_accounts_command(org: Any, capsys: Any) -> None:
    StaffFactory(username="cmd", grade="QDO", team=org.teams["A1"])
    call_command("provision_accounts")
    assert "created 1" in capsys.readouterr().out
    assert roles_of("cmd") == {("cc_team", "EOE", "extract")}
    assert AuditEvent.objects.filter(
        action="create", actor_username__startswith="command:"
    ).exists()
