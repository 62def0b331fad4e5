"""`python manage.py provision_accounts`: make accounts and default roles follow the stored staff."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from complexcases.accounts.management.commands._role_command import command_actor
from complexcases.accounts.services import accounts_provision_from_staff


class Command(BaseCommand):
    help = (
        "Create, update and deactivate accounts and default roles from the imported staff records."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = accounts_provision_from_staff(actor=command_actor())
        for warning in report.warnings:
            self.stderr.write(f"Warning: {warning}")
        self.stdout.write(report.summary().capitalize() + ".")
