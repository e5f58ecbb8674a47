"""Errors of the ingest that reach the user, each a sentence naming where and what."""

from __future__ import annotations

import unicodedata

from pipelines.errors import InputRejected

EXCERPT = 120  # characters of file content a message may quote


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """A short, escaped excerpt of file content for a message: control and format
    characters (newlines, escapes, bidi overrides) shown as escapes, at most `limit`
    characters, with an ellipsis when shortened."""
    shown = "".join(
        ascii(c)[1:-1] if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c
        for c in text[: limit + 1]
    )
    return shown if len(shown) <= limit and len(text) <= limit else shown[:limit] + "…"


class FileRejected(InputRejected):
    """A file that cannot be loaded at all: the run is rejected and nothing changes."""

    def __init__(
        self,
        *,
        file: str,
        row: int | None,
        column: str | None,
        found: str,
        expected: str,
        rule: str,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.found = found
        self.expected = expected
        self.rule = rule
        self.rows_read = 0  # rows the file held, when it could be read
        self.table: str | None = None  # the contract table, once known
        self.origins: dict[str, str] = {}  # contract column -> source, when mapped
        self.ignored: list[str] = []  # source columns nothing reads
        self.outcomes: list = []  # the rule outcomes, when the rules ran (RuleOutcome)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}" + (" (header)" if self.row == 1 else ""))
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: found {self.found}; expected {self.expected}"
