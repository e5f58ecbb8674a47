"""Steps on one file's rows that look beyond a single row: references given by name
resolved to keys, leavers without a termination type, and rows another file of the same
load already gave."""

from __future__ import annotations

import duckdb

from pipelines.contract import TABLES
from pipelines.ingest.suites import Rule
from pipelines.warehouse import lit, q

NAME_COLUMN = "name"  # crm_users, crm_accounts and hr_employees each have one


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


def resolve_names(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    table: str,
    columns: set[str],
    rules: list[Rule],
) -> list[str]:
    """Reference columns the mapping reads from a name (`match: name`): a value that is
    not a key of the parent table becomes the key of the one parent row of that name
    (trimmed, ignoring case); a name no row or several rows carry is left as it is, for
    the reference rule to report."""
    notes = []
    for rule in rules:
        if rule.column not in columns or rule.references is None:
            continue
        parent, key = rule.references.split(".")
        rows = [f"SELECT {q(key)} AS k, {q(NAME_COLUMN)} AS n FROM raw.{parent}"]
        if parent == table:  # a manager named in the same file
            rows.append(f"SELECT {q(key)}, {q(NAME_COLUMN)} FROM {relation}")
        column, parent_rows = q(rule.column), " UNION ALL ".join(rows)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {relation}_names AS SELECT lower(trim(n)) AS n, "
            f"min(trim(k)) AS k, count(DISTINCT trim(k)) AS keys FROM ({parent_rows}) "
            f"WHERE nullif(trim(n), '') IS NOT NULL GROUP BY 1"
        )
        keys = f"SELECT trim(k) FROM ({parent_rows}) WHERE k IS NOT NULL"
        resolved = con.execute(
            f"UPDATE {relation} SET {column} = m.k FROM {relation}_names AS m "
            f"WHERE lower(trim({relation}.{column})) = m.n AND m.keys = 1 "
            f"AND trim({relation}.{column}) NOT IN ({keys})"
        ).fetchone()[0]
        ambiguous = con.execute(
            f"SELECT count(*) FROM {relation} JOIN {relation}_names AS m "
            f"ON lower(trim({relation}.{column})) = m.n WHERE m.keys > 1"
        ).fetchone()[0]
        con.execute(f"DROP TABLE {relation}_names")
        note = f"{rule.column}: {resolved:,} name(s) matched to their {parent} row"
        if ambiguous:
            note += f"; {ambiguous:,} name(s) carried by several {parent} rows left unmatched"
        notes.append(note)
    return notes
