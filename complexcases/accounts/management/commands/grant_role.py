"""`python manage.py grant_role USERNAME ROLE [--region CODE | --pdu CODE | --team CODE]` (contract)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from complexcases.accounts.management.commands._role_command import (
    RoleCommand,
    command_actor,
    describe,
)
from complexcases.accounts.services import RoleError, user_role_grant


class Command(RoleCommand):
    help = "Grant a role to a user, with its scope. Audited."

    def handle(self, *args: Any, **options: Any) -> None:
        request = self.resolve(options)
        try:
            result = user_role_grant(actor=command_actor(), request=request)
        except RoleError as error:
            raise CommandError(str(error)) from error
        what = f"{request.user.username}: {describe(request)}"
        if result.created:
            self.stdout.write(f"Granted {what}.")
        elif result.made_manual:
            self.stdout.write(
                f"{what} was a default role from the extract; it is now a manual grant."
            )
        else:
            self.stdout.write(f"{what} is already granted; nothing changed.")
