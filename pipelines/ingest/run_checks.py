"""Checks of one file's validated rows that look beyond a single row: leavers without a
termination type, and rows another file of the same load already gave."""

from __future__ import annotations

import duckdb

from pipelines.contract import TABLES
from pipelines.warehouse import lit, q


def leavers_without_type(con: duckdb.DuckDBPyConnection, checked: str) -> list[str]:
    """A warning when the employees with a termination date all lack a termination type:
    the attrition model learns voluntary leaving from it and cannot without it."""
    leavers, typed = con.execute(
        f"SELECT count(*), count(termination_type) FROM {checked} "
        "WHERE len(_errors) = 0 AND termination_date IS NOT NULL"
    ).fetchone()
    if not leavers or typed:
        return []
    return [
        f"none of the {leavers:,} leaver(s) has a termination type (voluntary or "
        "involuntary): the attrition model cannot learn who chose to leave; map "
        "termination_type (or derive it from the termination reason) in the mapping"
    ]


def drop_earlier_keys(
    con: duckdb.DuckDBPyConnection, checked: str, table: str, load_id: str
) -> list[str]:
    """A source that only fills gaps (`fills_gaps: true`): its rows whose key an earlier
    file of this load gave are dropped, the earlier row stands."""
    same_key = " AND ".join(f"r.{q(k)} = {checked}.{q(k)}" for k in TABLES[table].key)
    dropped = con.execute(
        f"DELETE FROM {checked} WHERE EXISTS (SELECT 1 FROM raw.{table} AS r "
        f"WHERE r._load_id = {lit(load_id)} AND {same_key})"
    ).fetchone()[0]
    if not dropped:
        return []
    return [f"{dropped:,} row(s) already given by an earlier file of this load (fills_gaps)"]
