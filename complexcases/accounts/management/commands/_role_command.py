"""Shared parts of grant_role and revoke_role: arguments, the actor, turning errors into CommandError."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from complexcases.accounts.roles import Role
from complexcases.accounts.services import RoleError, RoleRequest, role_request_resolve


def command_actor() -> str:
    """The audit actor for a management command: "command:<OS user>"."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container without a passwd entry)
        name = "unknown"
    return f"command:{name}"


class RoleCommand(BaseCommand):
    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", help=f"one of: {', '.join(Role.values)}")
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--region", metavar="CODE", help="region code, e.g. EOE")
        scope.add_argument("--pdu", metavar="CODE", help="PDU code")
        scope.add_argument("--team", metavar="CODE", help="team code")

    def resolve(self, options: dict[str, Any]) -> RoleRequest:
        try:
            return role_request_resolve(
                username=options["username"],
                role=options["role"],
                region=options.get("region"),
                pdu=options.get("pdu"),
                team=options.get("team"),
            )
        except RoleError as error:
            raise CommandError(str(error)) from error


def describe(request: RoleRequest) -> str:
    unit = request.region or request.pdu or request.team
    scope = f" for {request.scope_kind} {unit.code}" if unit is not None else ""
    return f"{request.role}{scope}"
