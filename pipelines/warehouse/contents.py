"""What the raw schema holds: the facts later steps use to say what they skipped."""

from __future__ import annotations

from pathlib import Path

from pipelines.contract import TABLES
from pipelines.warehouse.connect import read_only
from pipelines.warehouse.sql import q


def raw_row_counts(warehouse: Path) -> dict[str, int]:
    """Rows of every contract table in the raw schema (0 for a table not created)."""
    with read_only(warehouse) as con:
        present = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchall()
        }
        return {
            name: con.execute(f"SELECT count(*) FROM raw.{q(name)}").fetchone()[0]
            if name in present
            else 0
            for name in TABLES
        }


def empty_raw_tables(warehouse: Path) -> set[str]:
    """The contract tables with no rows in raw."""
    return {name for name, rows in raw_row_counts(warehouse).items() if not rows}
