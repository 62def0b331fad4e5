"""`python manage.py revoke_role USERNAME ROLE [--region CODE | --pdu CODE | --team CODE]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from complexcases.accounts.management.commands._role_command import (
    RoleCommand,
    command_actor,
    describe,
)
from complexcases.accounts.roles import Source
from complexcases.accounts.services import RoleError, user_role_revoke


class Command(RoleCommand):
    help = "Revoke a role (with exactly that scope) from a user. Audited."

    def handle(self, *args: Any, **options: Any) -> None:
        request = self.resolve(options)
        try:
            revoked = user_role_revoke(actor=command_actor(), request=request)
        except RoleError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Revoked {request.user.username}: {describe(request)}.")
        if revoked.source == Source.EXTRACT:
            self.stdout.write(
                "Note: this was the default role for their grade; the next import gives it back"
                " unless their staff record changes."
            )
