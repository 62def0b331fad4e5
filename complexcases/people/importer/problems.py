"""Problems found in an extract, and the refusal that lists them.

A problem prints as `file:line: column: value: reason` (DESIGN.md section 3). Values are shown on one
line and cut to 40 characters: the list goes to the operator's terminal, never to the log.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LISTED = 100
VALUE_WIDTH = 40
NOT_APPLICABLE = "-"


def shown(value: str) -> str:
    """The value as it appears in a message: printable, on one line, at most 40 characters."""
    if not value.isprintable():
        value = "".join(ch if ch.isprintable() else _escaped(ch) for ch in value)
    if len(value) > VALUE_WIDTH:
        value = value[: VALUE_WIDTH - 1] + "…"
    return value


def _escaped(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by the surrogateescape handler
        return f"\\x{code - 0xDC00:02x}"
    return repr(ch)[1:-1]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {shown(self.column)}: {shown(self.value)}: {self.reason}"


class ExtractRefused(Exception):  # noqa: N818 - the domain word: an extract is refused
    """The extract has problems; nothing was written. `problems` holds the first 100, `total` all."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        self.problems = problems
        self.total = total
        super().__init__(f"extract refused: {total} problem{'s' if total != 1 else ''}")

    def lines(self) -> list[str]:
        """The listing for the operator: up to 100 problems, then how many more there are."""
        listed = [str(problem) for problem in self.problems]
        more = self.total - len(self.problems)
        if more > 0:
            listed.append(f"... and {more} more problem{'s' if more != 1 else ''}")
        return listed


class ProblemList:
    """Collects problems, keeping the first 100 and counting the rest (a bad national extract can
    have millions; they are counted, not held)."""

    def __init__(self) -> None:
        self.listed: list[Problem] = []
        self.total = 0

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, file: str, line: int, column: str, value: str, reason: str) -> None:
        self.total += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(Problem(file, line, column, value, reason))

    def refusal(self) -> ExtractRefused:
        return ExtractRefused(list(self.listed), self.total)
