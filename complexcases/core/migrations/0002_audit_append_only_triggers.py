"""Database triggers that refuse UPDATE and DELETE of the audit trail, whatever the client.

PostgreSQL: a PL/pgSQL function raising insufficient_privilege, fired before each row update or
delete. TRUNCATE is not covered by row triggers: production revokes TRUNCATE from the service's
database role (see docs), and the test suite's flush relies on it.

SQLite (the embedded demo and the default test database): BEFORE UPDATE / BEFORE DELETE triggers
that abort. SQLite's flush deletes rows, so core's `flush` command lifts these triggers for the
duration of a flush (a test-only, whole-database operation).
"""

from django.db import migrations

POSTGRES_INSTALL = [
    """
    CREATE OR REPLACE FUNCTION core_auditevent_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'The audit trail is append-only: % of core_auditevent refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$;
    """,
    """
    CREATE TRIGGER core_auditevent_append_only
    BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse_change();
    """,
]
POSTGRES_REMOVE = [
    "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;",
    "DROP FUNCTION IF EXISTS core_auditevent_refuse_change();",
]

SQLITE_INSTALL = [
    """
    CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update
    BEFORE UPDATE ON core_auditevent
    BEGIN SELECT RAISE(ABORT, 'The audit trail is append-only: UPDATE of core_auditevent refused'); END;
    """,
    """
    CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete
    BEFORE DELETE ON core_auditevent
    BEGIN SELECT RAISE(ABORT, 'The audit trail is append-only: DELETE of core_auditevent refused'); END;
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update;",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete;",
]

STATEMENTS = {
    "postgresql": (POSTGRES_INSTALL, POSTGRES_REMOVE),
    "sqlite": (SQLITE_INSTALL, SQLITE_REMOVE),
}


def _run(schema_editor, index):
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        return  # other databases: the application-level refusal still applies
    for sql in statements[index]:
        schema_editor.execute(sql, params=None)


def install(apps, schema_editor):
    _run(schema_editor, 0)


def remove(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
