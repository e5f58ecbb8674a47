"""Where the warehouse file is, and the files that travel with it."""

from __future__ import annotations

from pathlib import Path

from pipelines import settings


def resolve_warehouse(option: Path | None) -> Path:
    """--warehouse, else $REPRADAR_WAREHOUSE, else data/warehouse.duckdb."""
    if option is not None:
        return option
    return settings.warehouse_path()


def remove_database(path: Path) -> None:
    """Delete a DuckDB file and its write-ahead log, if they exist."""
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)


def scratch_copy_path(warehouse: Path) -> Path:
    """The copy a build writes into before it replaces the warehouse (same directory, so
    the replace is an atomic rename)."""
    return warehouse.with_name(f".{warehouse.name}.building")
