"""Roles, their scopes and the default role by grade: plain data, tested without a database."""

from __future__ import annotations

import pytest

from complexcases.accounts.models import Grade
from complexcases.accounts.roles import (
    DEFAULT_ROLE_BY_GRADE,
    ROLE_SCOPES,
    Role,
    default_role_for_grade,
    scope_problem,
)

ALL_KINDS = ("", "region", "pdu", "team")

# Section 2: which scope each role takes.
ACCEPTS = {
    "practitioner": {"", "team"},
    "spo": {"team"},
    "head_of_service": {"pdu"},
    "cc_team": {"region"},
    "panel_member": {"region"},
    "analyst": {"", "region"},
    "admin": {""},
}


def test_every_role_has_its_scopes_declared() -> None:
    assert set(ROLE_SCOPES) == set(Role.values) == set(ACCEPTS)


@pytest.mark.parametrize("role", ACCEPTS)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_scope_kinds_each_role_accepts(role: str, kind: str) -> None:
    problem = scope_problem(role, kind)
    if kind in ACCEPTS[role]:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(f"The {role} role")


def test_unknown_role_names_the_known_ones() -> None:
    problem = scope_problem("boss", "")
    assert problem is not None and "Unknown role 'boss'" in problem and "cc_team" in problem


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        ("PSO", ("practitioner", "")),
        ("PO", ("practitioner", "")),
        ("POM", ("practitioner", "")),
        ("SPO", ("spo", "team")),
        ("HOPDU", ("head_of_service", "pdu")),
        ("QDO", ("cc_team", "region")),
        ("PSYCH", ("cc_team", "region")),
        ("MANAGER", None),
        ("ADMIN", None),
        ("OTHER", None),
    ],
)
def test_default_role_for_each_grade(grade: str, expected: tuple[str, str] | None) -> None:
    default = default_role_for_grade(grade)
    assert (None if default is None else (default.role, default.scope_kind)) == expected


def test_every_grade_is_covered_and_defaults_take_valid_scopes() -> None:
    assert set(DEFAULT_ROLE_BY_GRADE) <= set(Grade.values)
    for default in DEFAULT_ROLE_BY_GRADE.values():
        assert scope_problem(default.role, default.scope_kind) is None
