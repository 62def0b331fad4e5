"""Read the Complex Cases mailbox now (what the beat task intake.poll_mailbox does).

Prints counts only, never addresses, subjects or text. Exit status 1 when the mailbox could not
be read (nothing is lost: the messages stay on the server for the next read).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from complexcases.intake import services


class Command(BaseCommand):
    help = "Read the Complex Cases mailbox over IMAP once and print what was done."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=services.BATCH_LIMIT, help="Most messages to read"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.mailbox_poll(limit=options["limit"])
        if not result.configured:
            self.stdout.write("No mailbox configured (CC_IMAP_HOST is empty): nothing read.")
            return
        self.stdout.write(
            f"read {result.read}, referrals made {result.referred},"
            f" needs attention {result.needs_attention},"
            f" duplicates skipped {result.duplicates}, failed {result.failed}"
        )
        if result.error:
            raise CommandError(f"the mailbox could not be read ({result.error})")
