"""`python manage.py issue_api_token USERNAME [--days N] [--name TEXT]` (DESIGN.md section 6).

Prints only the key on stdout, so it can be piped into a secret store; a note on stderr says who
it is for and when it expires. The key is shown this once and cannot be recovered. Audited.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from complexcases.accounts.management.commands._role_command import command_actor
from complexcases.accounts.models import User
from complexcases.accounts.tokens import DEFAULT_DAYS, MAX_DAYS, TokenError, api_token_issue


class Command(BaseCommand):
    help = "Issue an API token to an active user and print its key (shown once). Audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days",
            type=int,
            default=DEFAULT_DAYS,
            help=f"days until the token expires (1 to {MAX_DAYS}; default {DEFAULT_DAYS})",
        )
        parser.add_argument("--name", default="", help="what the token is for, e.g. 'MI report'")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        try:
            issued = api_token_issue(
                actor=command_actor(), user=user, days=options["days"], name=options["name"]
            )
        except TokenError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(issued.key)
        self.stderr.write(
            f"Issued API token {issued.token.prefix}… to {user.username}, expiring "
            f"{issued.token.expires_at:%Y-%m-%d %H:%M %Z}. Store the key now: it cannot be shown "
            "again. Send it as the header 'Authorization: Token KEY'."
        )
