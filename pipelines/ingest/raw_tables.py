"""The ingest's tables in the warehouse, and the statements that fill them.

Schemas: `raw` (one table per contract table, typed, stamped with `_load_id`,
`_source_file`, `_source_row`, `_loaded_at`), `quarantine` (rejected rows verbatim as
text with `_rule` and `_reason`) and `ops` (`ingest_runs`, `load_log`,
`validation_results`).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.contract import BOOLEAN, DATE, DECIMAL, INTEGER, STRING, TABLES, TIMESTAMP
from pipelines.warehouse import lit, q

SQL_TYPES = {
    STRING: "VARCHAR",
    INTEGER: "BIGINT",
    DECIMAL: "DECIMAL(18, 2)",
    BOOLEAN: "BOOLEAN",
    DATE: "DATE",
    TIMESTAMP: "TIMESTAMP",
}
OPS_TABLES = {
    "ingest_runs": """load_id VARCHAR, source VARCHAR, started_at TIMESTAMP,
        finished_at TIMESTAMP, status VARCHAR, message VARCHAR""",
    "load_log": """load_id VARCHAR, table_name VARCHAR, source_file VARCHAR,
        file_checksum VARCHAR, file_bytes BIGINT, encoding VARCHAR, rows_read BIGINT,
        rows_loaded BIGINT, rows_quarantined BIGINT, rows_inserted BIGINT,
        rows_updated BIGINT, rows_unchanged BIGINT, status VARCHAR, message VARCHAR,
        started_at TIMESTAMP, finished_at TIMESTAMP""",
    "validation_results": """load_id VARCHAR, table_name VARCHAR, rule VARCHAR,
        expectation VARCHAR, column_name VARCHAR, policy VARCHAR, failed_rows BIGINT,
        example VARCHAR""",
}


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ingest's schemas and tables if they are missing."""
    for schema in ("raw", "quarantine", "ops"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table in TABLES.values():
        typed = ", ".join(f"{q(c)} {SQL_TYPES[k]}" for c, k in table.columns.items())
        con.execute(
            f"CREATE TABLE IF NOT EXISTS raw.{table.name} ({typed}, _load_id VARCHAR, "
            "_source_file VARCHAR, _source_row BIGINT, _loaded_at TIMESTAMP)"
        )
        text = ", ".join(f"{q(c)} VARCHAR" for c in table.columns)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS quarantine.{table.name} ({text}, _raw_line VARCHAR, "
            "_load_id VARCHAR, _source_file VARCHAR, _source_row BIGINT, _rule VARCHAR, "
            "_reason VARCHAR, _quarantined_at TIMESTAMP)"
        )
    for name, columns in OPS_TABLES.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS ops.{name} ({columns})")


def parent_keys_sql(con: duckdb.DuckDBPyConnection, table: str, column: str) -> str | None:
    """SQL selecting a parent table's keys in `raw`, or None if it has no rows."""
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM raw.{table} LIMIT 1)").fetchone()[0]:
        return f"SELECT {q(column)} FROM raw.{table}"
    return None


def quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    checked: str,
    malformed: list[tuple[int, str, str]],
    stamp: tuple[str, str, dt.datetime],
) -> None:
    """Rows that failed, verbatim, with the first failed rule and every reason."""
    load_id, source_file, at = stamp
    columns = list(TABLES[table].columns)
    names = ", ".join(q(c) for c in columns)
    raw = ", ".join(q("r__" + c) for c in columns)
    reason = (
        "array_to_string(list_transform(_errors, lambda x: x.col || ': found ' || x.found || "
        "', expected ' || x.expected), '; ')"
    )
    con.execute(
        f"INSERT INTO quarantine.{table} ({names}, _load_id, _source_file, _source_row, "
        f"_rule, _reason, _quarantined_at) SELECT {raw}, ?, ?, _row, _errors[1].rule, "
        f"{reason}, ? FROM {checked} WHERE len(_errors) > 0",
        [load_id, source_file, at],
    )
    if malformed:
        con.executemany(
            f"INSERT INTO quarantine.{table} (_raw_line, _load_id, _source_file, _source_row, "
            "_rule, _reason, _quarantined_at) VALUES (?, ?, ?, ?, 'file.well_formed', ?, ?)",
            [[line, load_id, source_file, row, reason, at] for row, reason, line in malformed],
        )


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    checked: str,
    stamp: tuple[str, str, dt.datetime],
) -> tuple[int, int, int]:
    """Load the good rows into raw by key: new keys are inserted, changed rows replace
    the old ones, identical rows are left as they were. Returns (inserted, updated,
    unchanged)."""
    contract = TABLES[table]
    columns = [q(c) for c in contract.columns]
    on = " AND ".join(f"r.{q(k)} = c.{q(k)}" for k in contract.key)
    differs = (
        f"({', '.join('r.' + c for c in columns)}) IS DISTINCT FROM "
        f"({', '.join('c.' + c for c in columns)})"
    )
    first_key = q(contract.key[0])
    inserted, updated, unchanged = con.execute(
        f"SELECT coalesce(count_if(r.{first_key} IS NULL), 0), coalesce(count_if("
        f"r.{first_key} IS NOT NULL AND {differs}), 0), coalesce(count_if(r.{first_key} "
        f"IS NOT NULL AND NOT ({differs})), 0) "
        f"FROM {checked} c LEFT JOIN raw.{table} r ON {on} WHERE len(c._errors) = 0"
    ).fetchone()
    if updated:
        con.execute(
            f"DELETE FROM raw.{table} r USING {checked} c WHERE {on} AND len(c._errors) = 0 "
            f"AND {differs}"
        )
    load_id, source_file, at = stamp
    # When no good row matched an existing key, every one is new: no anti-join needed.
    new_only = (
        ""
        if not (updated or unchanged)
        else (f"AND NOT EXISTS (SELECT 1 FROM raw.{table} r WHERE {on})")
    )
    con.execute(
        f"INSERT INTO raw.{table} SELECT {', '.join('c.' + c for c in columns)}, "
        f"{lit(load_id)}, {lit(source_file)}, c._row, ? FROM {checked} c "
        f"WHERE len(c._errors) = 0 {new_only}",
        [at],
    )
    return inserted, updated, unchanged
