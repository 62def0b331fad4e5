from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from complexcases.demo.services import DEMO_PASSWORD, demo_allowed, demo_setup


class Command(BaseCommand):
    help = "Create the embedded demo (synthetic data, demo sign-ins). Reuses what is already there."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=12000)
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (never in production)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (demo_allowed() or options["force"]):
            raise CommandError("demo_setup is only for the embedded demo (DEBUG on).")
        summary = demo_setup(people=options["people"], say=self.stdout.write)
        if not summary.created:
            self.stdout.write("Demo data is already in place: reusing it.")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Complex Cases demo: http://127.0.0.1:8000/"))
        self.stdout.write(f"Months screened: {summary.months[0]} and {summary.months[1]}")
        self.stdout.write(f"Sign in as any of these, with the demo password: {DEMO_PASSWORD}")
        width = max(len(account.username) for account in summary.accounts)
        for account in summary.accounts:
            self.stdout.write(
                f"  {account.role:<16} {account.username:<{width}}  {account.try_this}"
            )
