"""`python manage.py revoke_api_token USERNAME (--prefix P | --all)`. Audited.

Revokes one of the user's tokens (named by the prefix the issue command showed) or all of them.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from complexcases.accounts.management.commands._role_command import command_actor
from complexcases.accounts.models import User
from complexcases.accounts.tokens import api_tokens_revoke


class Command(BaseCommand):
    help = "Revoke a user's API token (--prefix) or all their tokens (--all). Audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--prefix", help="the token's prefix, as shown when it was issued")
        which.add_argument("--all", action="store_true", help="every token the user holds")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        prefix = None if options["all"] else options["prefix"].rstrip("…")
        revoked = api_tokens_revoke(actor=command_actor(), user=user, prefix=prefix)
        if revoked == 0 and prefix is not None:
            # Probably a mistyped prefix: say so with a failing exit status.
            raise CommandError(f"{user.username} has no unrevoked token {prefix}….")
        self.stdout.write(
            f"Revoked {revoked} token{'s' if revoked != 1 else ''} of {user.username}."
        )
