"""Send the due outbox messages now, synchronously (embedded demo, operators).

Does what the periodic task send_due_outbox does: pending messages whose next attempt is due and
messages stuck in "sending" after their worker died. Prints counts, never addresses or text.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from complexcases.notifications import services


class Command(BaseCommand):
    help = "Send the outbox messages that are due (what the beat task does, synchronously)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=1000, help="Most messages to try")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = services.outbox_send_due(limit=options["limit"])
        self.stdout.write(
            f"sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']},"
            f" skipped {counts['skipped']}"
        )
