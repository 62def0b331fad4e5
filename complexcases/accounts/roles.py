"""Role names, the scope each role takes, and the default role by grade (DESIGN.md section 2).

Plain data and pure functions: no database access, so they can be tested with tables of cases and
shared by the model's validation, the services, the commands and access.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    SPO = "spo", "Senior Probation Officer"
    HEAD_OF_SERVICE = "head_of_service", "Head of Service"
    CC_TEAM = "cc_team", "Complex Cases team"
    PANEL_MEMBER = "panel_member", "Panel member"
    ANALYST = "analyst", "Analyst"
    ADMIN = "admin", "Administrator"


class ScopeKind(models.TextChoices):
    NONE = "", "No scope"
    REGION = "region", "Region"
    PDU = "pdu", "PDU"
    TEAM = "team", "Team"


class Source(models.TextChoices):
    """Where a role came from. Provisioning manages only `extract` roles; `manual` ones it never removes."""

    EXTRACT = "extract", "Default for the grade in the extract"
    MANUAL = "manual", "Granted by an administrator"


# The scope kinds each role accepts. A practitioner's own caseload comes from the staff link, so the
# role needs no scope; a team scope widens it to that team's caseload (e.g. covering a colleague).
# An analyst without a scope is national.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.PRACTITIONER: frozenset({ScopeKind.NONE, ScopeKind.TEAM}),
    Role.SPO: frozenset({ScopeKind.TEAM}),
    Role.HEAD_OF_SERVICE: frozenset({ScopeKind.PDU}),
    Role.CC_TEAM: frozenset({ScopeKind.REGION}),
    Role.PANEL_MEMBER: frozenset({ScopeKind.REGION}),
    Role.ANALYST: frozenset({ScopeKind.REGION, ScopeKind.NONE}),
    Role.ADMIN: frozenset({ScopeKind.NONE}),
}

# Roles whose holders may see names, CRNs and dates of birth (subject to scope and limited access).
IDENTIFIER_ROLES: frozenset[str] = frozenset(
    {Role.PRACTITIONER, Role.SPO, Role.HEAD_OF_SERVICE, Role.CC_TEAM, Role.PANEL_MEMBER}
)

_OPTION = {ScopeKind.REGION: "--region", ScopeKind.PDU: "--pdu", ScopeKind.TEAM: "--team"}


def scope_problem(role: str, scope_kind: str) -> str | None:
    """Why `role` cannot take a scope of `scope_kind` ("" for none), or None when it can."""
    if role not in ROLE_SCOPES:
        known = ", ".join(Role.values)
        return f"Unknown role '{role}'. Roles are: {known}."
    allowed = ROLE_SCOPES[role]
    if scope_kind in allowed:
        return None
    return f"The {role} role {describe_scopes(allowed)}."


def describe_scopes(allowed: frozenset[str]) -> str:
    """Plain words for the scopes a role accepts, naming the command options."""
    options = [_OPTION[ScopeKind(kind)] for kind in sorted(allowed) if kind]
    if not options:
        return "takes no scope"
    needed = " or ".join(f"{option} CODE" for option in options)
    if ScopeKind.NONE in allowed:
        return f"takes either no scope or {needed}"
    return f"needs {needed}"


@dataclass(frozen=True)
class DefaultRole:
    """The role provisioning gives for a grade, and which of the staff member's units scopes it."""

    role: str
    scope_kind: str  # "" (none), "team" (their team), "pdu" (their team's PDU), "region"


# Section 2: PSO, PO, POM -> practitioner; SPO -> spo (their team); HOPDU -> head_of_service (their
# PDU); QDO, PSYCH -> cc_team (their region); any other grade -> no role.
DEFAULT_ROLE_BY_GRADE: dict[str, DefaultRole] = {
    "PSO": DefaultRole(Role.PRACTITIONER, ScopeKind.NONE),
    "PO": DefaultRole(Role.PRACTITIONER, ScopeKind.NONE),
    "POM": DefaultRole(Role.PRACTITIONER, ScopeKind.NONE),
    "SPO": DefaultRole(Role.SPO, ScopeKind.TEAM),
    "HOPDU": DefaultRole(Role.HEAD_OF_SERVICE, ScopeKind.PDU),
    "QDO": DefaultRole(Role.CC_TEAM, ScopeKind.REGION),
    "PSYCH": DefaultRole(Role.CC_TEAM, ScopeKind.REGION),
}


def default_role_for_grade(grade: str) -> DefaultRole | None:
    """The default role for a staff grade, or None for grades that get no role."""
    return DEFAULT_ROLE_BY_GRADE.get(grade)
