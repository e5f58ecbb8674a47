"""Quoting of identifiers and literals: the one way an untrusted string reaches SQL."""

from __future__ import annotations


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
