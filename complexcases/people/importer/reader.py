"""Reads one CSV file of an extract row by row, checking each cell against the schema.

Rows are yielded as they are read (never collected), each with the physical line it starts on.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Iterator
from typing import Any

from complexcases.people.importer.problems import NOT_APPLICABLE, ProblemList, shown
from complexcases.people.importer.schema import Bad, Column, FileSpec
from complexcases.people.importer.source import ExtractSource, decoded_lines

PROGRESS_EVERY = 50_000
NOT_UTF8 = "bytes that are not valid UTF-8"
Progress = Callable[[str, int], None]


class BadCell:
    """Stands in for a cell that failed its check, so the row's other checks can still run."""

    def __repr__(self) -> str:
        return "BAD"


BAD: Any = BadCell()


def _has_bad_bytes(value: str) -> bool:
    return any(0xDC80 <= ord(ch) <= 0xDCFF for ch in value)


def _csv_reason(error: csv.Error) -> str:
    message = str(error)
    if "expected after" in message or "end of data" in message or "quote" in message:
        return f"broken CSV quoting ({message})"
    return f"unreadable CSV ({message})"


class CsvFile:
    """One file of the extract. After `rows()` is exhausted, `row_count` is the number of data rows
    and `readable` says whether every row could be read (its keys can be trusted as complete)."""

    def __init__(
        self,
        source: ExtractSource,
        spec: FileSpec,
        problems: ProblemList,
        warnings: list[str],
        progress: Progress | None,
        replace: Column | None = None,
    ) -> None:
        self.source = source
        self.spec = spec
        # A column checked differently in this file (e.g. crn, which must also be a known person).
        self.columns = tuple(
            replace if replace is not None and column.name == replace.name else column
            for column in spec.columns
        )
        self.name = spec.name
        self.problems = problems
        self.warnings = warnings
        self.progress = progress
        self.row_count = 0
        self.readable = False
        self._header: list[str] = []

    def rows(self) -> Iterator[tuple[int, list[Any], bool]]:
        """Yield (line, values, ok) for each data row: values in the spec's column order, BAD for
        a cell that failed (already reported); ok is False when any cell or the row failed."""
        if not self.source.has(self.name):
            return
        utf8 = self.source.is_utf8(self.name)
        with self.source.open(self.name) as stream:
            bad_lines: list[int] = []
            if utf8:
                lines: Iterator[str] = io.TextIOWrapper(stream, encoding="utf-8", newline="")
            else:
                lines = decoded_lines(stream, bad_lines)
            reader = csv.reader(lines, strict=True)
            try:
                header = next(reader, None)
            except csv.Error as error:
                self.problems.add(self.name, 1, NOT_APPLICABLE, NOT_APPLICABLE, _csv_reason(error))
                return
            if header:
                header[0] = header[0].removeprefix("\ufeff")
            plan = self._plan(header, bad_lines)
            if plan is None or header is None:
                return
            self._header = header
            yield from self._data_rows(reader, plan, len(header), bad_lines)

    def _plan(
        self, header: list[str] | None, bad_lines: list[int]
    ) -> list[tuple[Column, int]] | None:
        """Where each schema column is in the file, or None (problems reported) if it cannot be read."""
        if not header:
            self.problems.add(
                self.name, 1, NOT_APPLICABLE, NOT_APPLICABLE, "empty file: no header row"
            )
            return None
        ok = True
        if bad_lines and bad_lines[0] == 1:
            for name in header:
                if _has_bad_bytes(name):
                    self.problems.add(self.name, 1, name, NOT_APPLICABLE, NOT_UTF8)
            ok = False
        position: dict[str, int] = {}
        for index, name in enumerate(header):
            if name in position:
                self.problems.add(
                    self.name, 1, name, NOT_APPLICABLE, "column appears more than once"
                )
                ok = False
            position.setdefault(name, index)
        for name in self.spec.column_names:
            if name not in position:
                self.problems.add(self.name, 1, name, NOT_APPLICABLE, "required column is missing")
                ok = False
        known = set(self.spec.column_names)
        for name in header:
            if name not in known and not _has_bad_bytes(name):
                self.warnings.append(f"{self.name}:1: {shown(name)}: extra column, ignored")
        if not ok:
            return None
        return [(column, position[column.name]) for column in self.columns]

    def _data_rows(
        self,
        reader: Any,
        plan: list[tuple[Column, int]],
        width: int,
        bad_lines: list[int],
    ) -> Iterator[tuple[int, list[Any], bool]]:
        name, problems, progress = self.name, self.problems, self.progress
        # The fast path: pick the cells in one C call, convert each with its fast converter.
        cells = operator.itemgetter(*(index for _, index in plan))
        fast = [column.fast for column, _ in plan]
        call = operator.call
        count = 0
        last_line = 1
        try:
            for row in reader:
                start = last_line + 1
                last_line = reader.line_num
                if not row:
                    continue  # a blank line
                count += 1
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(name, count)
                if len(row) != width:
                    problems.add(
                        name,
                        start,
                        NOT_APPLICABLE,
                        NOT_APPLICABLE,
                        f"row has {len(row)} cells but the header has {width}",
                    )
                    continue
                if bad_lines and bad_lines[-1] >= start:
                    yield start, *self._checked_slowly(row, plan, start, bad_bytes=True)
                    continue
                try:
                    values = list(map(call, fast, cells(row)))
                except (KeyError, ValueError):
                    yield start, *self._checked_slowly(row, plan, start, bad_bytes=False)
                    continue
                yield start, values, True
        except csv.Error as error:
            problems.add(name, last_line + 1, NOT_APPLICABLE, NOT_APPLICABLE, _csv_reason(error))
            return  # the rest of the file cannot be trusted: readable stays False
        finally:
            self.row_count = count
        self.readable = True

    def _checked_slowly(
        self, row: list[str], plan: list[tuple[Column, int]], line: int, *, bad_bytes: bool
    ) -> tuple[list[Any], bool]:
        """Check every cell of a row the fast path refused, reporting each bad cell. Returns the
        values (BAD for bad cells) and whether the row is good after all."""
        values: list[Any] = []
        reported = self.problems.total
        for column, index in plan:
            value = row[index]
            if bad_bytes and _has_bad_bytes(value):
                self.problems.add(self.name, line, column.name, value, NOT_UTF8)
                values.append(BAD)
                continue
            try:
                values.append(column.check(value))
            except Bad as bad:
                self.problems.add(self.name, line, column.name, value, str(bad))
                values.append(BAD)
        if bad_bytes and self.problems.total == reported:
            # The bad bytes are in a column the schema does not use: still a problem.
            for column_name, value in zip(self._header, row, strict=True):
                if _has_bad_bytes(value):
                    self.problems.add(self.name, line, column_name, value, NOT_UTF8)
        return values, self.problems.total == reported
