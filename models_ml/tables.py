"""The `ml` schema of the warehouse: what training and scoring record, append-only.

Each table is created from the first frame written to it and matched by column name after
that, so a reader can always filter on the run id it wants.
"""

from __future__ import annotations

import duckdb
import pandas as pd

SCHEMA = "ml"


def append(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert `frame` into ml.<table>, creating the table from the frame's columns.

    A column that is entirely empty (e.g. previous_band on a first scoring) is typed as
    text, not as DuckDB's NULL type, so later runs can fill it.
    """
    empty = [c for c in frame.columns if frame[c].dtype == object and frame[c].isna().all()]
    frame = frame.astype({column: "string" for column in empty})
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.register("frame_to_append", frame)
    try:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table} AS SELECT * FROM frame_to_append LIMIT 0"
        )
        con.execute(f"INSERT INTO {SCHEMA}.{table} BY NAME SELECT * FROM frame_to_append")
    finally:
        con.unregister("frame_to_append")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [SCHEMA, table],
        ).fetchone()[0]
    )
