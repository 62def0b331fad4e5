"""Temporary staging tables that hold the extract's typed rows inside the import's transaction.

PostgreSQL loads them with COPY FROM STDIN; SQLite with executemany over a generator. Either way the
rows stream from the CSV reader into the database without being collected in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

Columns = Sequence[tuple[str, str]]  # (name, kind): kind is text, date, bool, int or bigint

_POSTGRES_TYPES = {
    "text": "text",
    "date": "date",
    "bool": "boolean",
    "int": "integer",
    "bigint": "bigint",
}
_SQLITE_TYPES = {
    "text": "TEXT",
    "date": "TEXT",
    "bool": "INTEGER",
    "int": "INTEGER",
    "bigint": "INTEGER",
}

PREFIX = "cc_stage_"
# Serialises imports on PostgreSQL (SQLite's IMMEDIATE transactions already do).
_ADVISORY_LOCK_KEY = 7_214_003_001
_SQLITE_CACHE_KIB = -256 * 1024  # negative: a size in KiB, here 256 MiB per schema


class Staging:
    """The staging tables of one import, and the SQL dialect details the apply step needs."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        connection.ensure_connection()
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        if not self.postgres and connection.vendor != "sqlite":
            raise NotImplementedError(
                f"import_extract supports PostgreSQL and SQLite, not {connection.vendor}"
            )
        self.raw: Any = connection.connection
        # Null-safe comparison: PostgreSQL spells it IS DISTINCT FROM, SQLite IS NOT.
        self.differs = "IS DISTINCT FROM" if self.postgres else "IS NOT"
        self.same = "IS NOT DISTINCT FROM" if self.postgres else "IS"
        self.tables: list[str] = []
        self._indexes = 0
        self._cache_sizes: dict[str, int] = {}
        self._suspended: list[tuple[str, str, str]] = []
        self._dropped_indexes: list[tuple[str, str]] = []

    def begin(self) -> None:
        """Call inside the import's transaction, before anything else."""
        with self.connection.cursor() as cursor:
            if self.postgres:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
            else:
                # SQLite's default page caches are 2 MB: at national volume every probe would go
                # to the operating system. Restored by end().
                for schema in ("main", "temp"):
                    cursor.execute(f"PRAGMA {schema}.cache_size")
                    self._cache_sizes[schema] = cursor.fetchone()[0]
                    cursor.execute(f"PRAGMA {schema}.cache_size = {_SQLITE_CACHE_KIB}")

    def end(self) -> None:
        """Call when the import is over, however it ended."""
        if self.postgres or self.connection.connection is None:
            return
        with self.connection.cursor() as cursor:
            for schema, size in self._cache_sizes.items():
                cursor.execute(f"PRAGMA {schema}.cache_size = {int(size)}")

    def suspend_foreign_keys(self, tables: Sequence[str]) -> None:
        """PostgreSQL, initial load only (the first table of TABLES is empty, so are the others,
        which refer to it): drop the foreign keys of TABLES, and their indexes that back no
        constraint, and their unique constraints, to add them back exactly as they were with
        restore_foreign_keys before commit.

        Why: PostgreSQL checks a foreign key row by row, ~10 µs a row; the first import of a
        national extract inserts ~2 million rows, so the checks alone would take ~20 s. Adding a
        constraint back checks every row in one join. Likewise an index maintained row by row
        costs far more than one built afterwards from sorted rows (people: ~7 s against ~3 s).
        The import has already checked every reference and key, so the constraints are a safety
        net, and they and the indexes are back before anyone can see the rows. Primary keys stay
        (other tables refer to them). Dropping a constraint or index locks its table until commit,
        which costs nothing here: they were empty. Monthly imports insert few rows and keep the
        constraints and indexes in place.
        """
        if not self.postgres:
            return
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {tables[0]})")
            if cursor.fetchone()[0]:
                return
            # A table with checks still pending cannot be altered (when called inside a larger
            # transaction): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # Foreign keys first, then unique constraints (restored in the reverse order).
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype IN ('f', 'u') AND conrelid = ANY(%s::regclass[]) "
                "ORDER BY contype = 'u', conrelid::regclass::text, conname",
                [list(tables)],
            )
            self._suspended = list(cursor.fetchall())
            for table, name, _ in self._suspended:
                cursor.execute(
                    f"ALTER TABLE {table} DROP CONSTRAINT {self.connection.ops.quote_name(name)}"
                )
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index AS i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid "
                "AND c.contype IN ('p', 'u', 'x')) ORDER BY 1",
                [list(tables)],
            )
            self._dropped_indexes = list(cursor.fetchall())
            for name, _ in self._dropped_indexes:
                cursor.execute(f"DROP INDEX {name}")

    def restore_foreign_keys(self) -> None:
        """Add back what suspend_foreign_keys dropped: the indexes, then the foreign keys."""
        if not self._suspended and not self._dropped_indexes:
            return
        with self.connection.cursor() as cursor:
            # Index builds sort; more memory than the default 64 MB keeps the sort in memory.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _, definition in self._dropped_indexes:
                cursor.execute(definition)
            # Run the checks still pending (e.g. staff -> team): a table with pending checks
            # cannot be altered, and adding a foreign key alters the table it references.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table, name, definition in reversed(self._suspended):
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT "
                    f"{self.connection.ops.quote_name(name)} {definition}"
                )
        self._suspended = []
        self._dropped_indexes = []

    def create(self, name: str, columns: Columns) -> str:
        table = PREFIX + name
        types = _POSTGRES_TYPES if self.postgres else _SQLITE_TYPES
        body = ", ".join(f"{column} {types[kind]}" for column, kind in columns)
        self.execute(f"DROP TABLE IF EXISTS {table}")
        self.execute(f"CREATE TEMPORARY TABLE {table} ({body})")
        self.tables.append(table)
        return table

    def create_as(self, name: str, select: str) -> str:
        table = PREFIX + name
        self.execute(f"DROP TABLE IF EXISTS {table}")
        self.execute(f"CREATE TEMPORARY TABLE {table} AS {select}")
        self.tables.append(table)
        return table

    def load(self, table: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> None:
        """Stream rows (in the columns' order) into a staging table."""
        names = ", ".join(column for column, _ in columns)
        if self.postgres:
            with (
                self.raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            self.raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def index(self, table: str, columns: Sequence[str]) -> None:
        self._indexes += 1
        self.execute(
            f"CREATE INDEX {PREFIX}index_{self._indexes} ON {table} ({', '.join(columns)})"
        )
        if self.postgres:
            # Temporary tables get no statistics from autovacuum; the planner needs them to
            # choose hash joins over nested loops at national volume.
            self.execute(f"ANALYZE {table}")

    def execute(self, sql: str, *, fetch: bool = False) -> int:
        """Run one statement; return the number of rows it affected (or, with fetch, returned)."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            if fetch:
                return len(cursor.fetchall())
            return max(cursor.rowcount, 0)

    def drop_all(self) -> None:
        for table in reversed(self.tables):
            self.execute(f"DROP TABLE IF EXISTS {table}")
        self.tables.clear()
