"""Reading marts back for assertions."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def query(warehouse: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).df()


def table_fingerprint(warehouse: Path, schema: str) -> dict[str, tuple]:
    """Row count and an order-independent hash of every table in a schema."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
                "AND table_type = 'BASE TABLE' ORDER BY 1",
                [schema],
            ).fetchall()
        ]
        return {
            name: con.execute(f"SELECT count(*), sum(hash(t)) FROM {schema}.{name} AS t").fetchone()
            for name in tables
        }
