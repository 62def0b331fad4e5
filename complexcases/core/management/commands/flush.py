"""Django's `flush`, made to work with the audit trail's SQLite triggers.

`flush` empties every table (the test suite runs it after each transactional test). On SQLite it
does so with DELETE, which the audit trail's append-only triggers refuse; here they are lifted for
the flush and put back straight after, whatever happens. PostgreSQL flushes with TRUNCATE, which
the row triggers do not see, so nothing changes there. Emptying the whole database is not a way
round the audit trail: it destroys everything, and production does not grant TRUNCATE.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.commands import flush
from django.db import connections

_triggers = importlib.import_module("complexcases.core.migrations.0002_audit_append_only_triggers")


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if (
            connection.vendor != "sqlite"
            or "core_auditevent" not in connection.introspection.table_names()
        ):
            return super().handle(**options)
        with connection.cursor() as cursor:
            for sql in _triggers.SQLITE_REMOVE:
                cursor.execute(sql)
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                for sql in _triggers.SQLITE_INSTALL:
                    cursor.execute(sql)
