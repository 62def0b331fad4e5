"""Make stored tables equal to staged snapshot rows with set-based SQL, counting what changed.

Each statement touches only the rows that differ, so re-importing the same extract writes nothing.
Table and column names here come from the code, never from the extract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from complexcases.people.importer.staging import Staging


@dataclass(frozen=True)
class Keyed:
    """A stored table with a natural key, and the staged rows to make it equal to.

    `data` pairs each stored column with an expression over the staged row `s` (usually `s.column`,
    or a constant such as TRUE).
    """

    table: str
    stage: str
    key: tuple[str, ...]
    data: tuple[tuple[str, str], ...]

    def key_match(self, stored: str, staged: str = "s") -> str:
        return " AND ".join(f"{staged}.{column} = {stored}.{column}" for column in self.key)


def columns(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, f"s.{name}") for name in names)


def sync_keyed(staging: Staging, spec: Keyed, *, absent: str) -> dict[str, int]:
    """Insert staged rows whose key is not stored, update stored rows that differ, and handle stored
    rows absent from the snapshot: `absent` is "delete", "keep", or the name of a boolean column
    to set false (people's on_caseload, staff's in_extract)."""
    staging.index(spec.stage, spec.key)
    removed = 0
    if absent == "delete":
        removed = staging.execute(
            f"DELETE FROM {spec.table} WHERE NOT EXISTS "
            f"(SELECT 1 FROM {spec.stage} AS s WHERE {spec.key_match(spec.table)})"
        )
    assignments = ", ".join(f"{column} = {expression}" for column, expression in spec.data)
    differences = " OR ".join(
        f"t.{column} {staging.differs} {expression}" for column, expression in spec.data
    )
    updated = staging.execute(
        f"UPDATE {spec.table} AS t SET {assignments} FROM {spec.stage} AS s "
        f"WHERE {spec.key_match('t')} AND ({differences})"
    )
    names = [*spec.key, *(column for column, _ in spec.data)]
    values = [*(f"s.{column}" for column in spec.key), *(expression for _, expression in spec.data)]
    added = staging.execute(
        f"INSERT INTO {spec.table} ({', '.join(names)}) SELECT {', '.join(values)} "
        f"FROM {spec.stage} AS s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {spec.table} AS t WHERE {spec.key_match('t')})"
    )
    if absent not in ("delete", "keep"):
        removed = staging.execute(
            f"UPDATE {spec.table} SET {absent} = FALSE WHERE {absent} = TRUE AND NOT EXISTS "
            f"(SELECT 1 FROM {spec.stage} AS s WHERE {spec.key_match(spec.table)})"
        )
    return {"added": added, "updated": updated, "removed": removed}


def sync_rows(
    staging: Staging,
    *,
    name: str,
    table: str,
    stage: str,
    required: Sequence[str],
    optional: Sequence[str],
) -> dict[str, int]:
    """Make a table without a natural key (registrations, limited access) equal to the staged rows,
    comparing whole rows as a multiset. `required` columns are never null; `optional` ones are
    compared null-safely. List the columns in the order of the table's index, which then serves
    every probe and grouping below without sorting (sorting is slow in SQLite).

    First, stored rows with no identical staged row are deleted and staged rows with no identical
    stored row inserted. That is exact unless a person has identical rows (the same registration
    twice) on either side, where the counts of a row present on both sides may differ: for those
    few people, identical rows are paired off by occurrence number and the unpaired ones deleted or
    inserted.
    """
    every = [*required, *optional]
    listed = ", ".join(every)
    staging.index(stage, every)

    def same(left: str, right: str, *, numbered: bool = False) -> str:
        return " AND ".join(
            [
                *(f"{left}.{column} = {right}.{column}" for column in required),
                *(f"{left}.{column} {staging.same} {right}.{column}" for column in optional),
                *([f"{left}.n = {right}.n"] if numbered else []),
            ]
        )

    # People with identical rows on either side, found before anything changes: only for them can
    # the counts of a row differ between the stored and the staged side once both have it.
    people = staging.create_as(
        f"{name}_identical",
        f"SELECT person_id FROM {stage} GROUP BY {listed} HAVING COUNT(*) > 1 "
        f"UNION SELECT person_id FROM {table} GROUP BY {listed} HAVING COUNT(*) > 1",
    )
    removed = staging.execute(
        f"DELETE FROM {table} WHERE NOT EXISTS "
        f"(SELECT 1 FROM {stage} AS w WHERE {same('w', table)})"
    )
    added = staging.execute(
        f"INSERT INTO {table} ({listed}) SELECT {', '.join(f'w.{c}' for c in every)} "
        f"FROM {stage} AS w WHERE NOT EXISTS (SELECT 1 FROM {table} AS c WHERE {same('w', 'c')})"
    )
    if staging.execute(f"SELECT 1 FROM {people} LIMIT 1", fetch=True):
        among = f"person_id IN (SELECT person_id FROM {people})"
        stored = staging.create_as(
            f"{name}_stored",
            f"SELECT id, {listed}, ROW_NUMBER() OVER (PARTITION BY {listed} ORDER BY id) AS n "
            f"FROM {table} WHERE {among}",
        )
        wanted = staging.create_as(
            f"{name}_wanted",
            f"SELECT {listed}, ROW_NUMBER() OVER (PARTITION BY {listed} ORDER BY line) AS n "
            f"FROM {stage} WHERE {among}",
        )
        removed += staging.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT c.id FROM {stored} AS c WHERE NOT EXISTS "
            f"(SELECT 1 FROM {wanted} AS w WHERE {same('w', 'c', numbered=True)}))"
        )
        added += staging.execute(
            f"INSERT INTO {table} ({listed}) SELECT {', '.join(f'w.{c}' for c in every)} "
            f"FROM {wanted} AS w WHERE NOT EXISTS "
            f"(SELECT 1 FROM {stored} AS c WHERE {same('w', 'c', numbered=True)})"
        )
    return {"added": added, "updated": 0, "removed": removed}
