"""Mapping expressions: what a `sql:` value of a mapping file may be, and where it runs.

A `sql:` value is one scalar DuckDB expression over the columns of one source row. It
is parsed by DuckDB's own parser before it is used, and refused unless it is exactly
that: no statement, no second statement after a semicolon, no comment (which could
swallow the SQL it is embedded in), no subquery, no table, aggregate or window
function, and only functions of an allow-list (DuckDB's scalar functions and macros,
minus those that read the session, the catalog, sequences or settings).

As a second line of defence the expressions are evaluated on a separate in-memory
connection that holds a copy of one staged file and cannot reach the file system, load
extensions or change its configuration (`sandbox`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from pipelines.warehouse import q

ALLOWED = (
    "one DuckDB expression over the file's columns: column names in double quotes, "
    "'text' literals, operators, CASE, CAST/TRY_CAST and scalar functions; not a "
    "statement, subquery, table, aggregate or window function, comment or semicolon"
)
MAX_LENGTH = 10_000
# Expression nodes of DuckDB's parse tree a row-wise expression is made of.
NODE_CLASSES = {
    "BETWEEN",
    "CASE",
    "CAST",
    "COLLATE",
    "COLUMN_REF",
    "COMPARISON",
    "CONJUNCTION",
    "CONSTANT",
    "FUNCTION",
    "LAMBDA",
    "OPERATOR",
    "TYPE",
}
NODE_WORDS = {
    "SUBQUERY": "a subquery",
    "WINDOW": "a window function (OVER ...)",
    "STAR": "* or COLUMNS(...)",
    "PARAMETER": "a parameter ($1, ?)",
    "POSITIONAL_REFERENCE": "a positional reference (#1)",
}
# Scalar functions and macros that read beyond the row: the session, the catalog,
# sequences, settings, the log, the planner; or that turn a row into several rows.
DENIED = {
    "combine",
    "current_catalog",
    "current_connection_id",
    "current_database",
    "current_query",
    "current_query_id",
    "current_role",
    "current_schema",
    "current_schemas",
    "current_setting",
    "current_transaction_id",
    "current_user",
    "currval",
    "finalize",
    "generate_subscripts",
    "geomean",
    "geometric_mean",
    "get_block_size",
    "getenv",
    "getvariable",
    "in_search_path",
    "json_deserialize_sql",
    "json_group_array",
    "json_group_object",
    "json_group_structure",
    "json_serialize_plan",
    "json_serialize_sql",
    "nextval",
    "parse_duckdb_log_message",
    "regexp_split_to_table",
    "session_user",
    "setseed",
    "setval",
    "sleep_ms",
    "stats",
    "to_aggregate_state",
    "txid_current",
    "user",
    "variant_group_array",
    "version",
    "wavg",
    "weighted_avg",
    "write_log",
}
# Fields of the parsed `SELECT (<expression>)` that must stay empty.
SELECT_FIELDS = {"type", "select_list", "from_table", "modifiers", "cte_map"}
EMPTY = (None, "", [], {}, {"map": []}, "STANDARD_HANDLING")


@functools.cache
def _locked_database() -> duckdb.DuckDBPyConnection:
    """An empty in-memory database that cannot reach files, to parse expressions and
    list functions in; use it through a cursor of its own (threads may share it)."""
    con = duckdb.connect()
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


@functools.cache
def allowed_functions() -> frozenset[str]:
    """The functions a mapping expression may call: DuckDB's scalar functions and
    macros of the main schema, minus the denied ones and the internal `__` ones."""
    with _locked_database().cursor() as con:
        rows = con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() "
            "WHERE function_type IN ('scalar', 'macro') AND schema_name = 'main'"
        ).fetchall()
    return frozenset(
        name.lower() for (name,) in rows if name.lower() not in DENIED and not name.startswith("__")
    )


def _lexical_refusal(sql: str) -> str | None:
    """A comment or a semicolon outside quotes, which could end or swallow the SQL the
    expression is embedded in."""
    try:
        tokens = duckdb.tokenize(sql)
    except duckdb.Error as error:
        return f"it does not parse ({str(error).splitlines()[0]})"
    ends = [position for position, _ in tokens[1:]] + [len(sql)]
    for (position, kind), end in zip(tokens, ends, strict=True):
        if kind == duckdb.token_type.comment:
            return "it contains a comment (-- or /* */)"
        if kind == duckdb.token_type.operator and ";" in sql[position:end]:
            return "it contains a semicolon"
    return None


def _nodes(tree: object) -> Iterator[dict]:
    """Every expression node of a parse tree (iteratively: trees may be deep)."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class" in item:
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _node_refusal(node: dict) -> str | None:
    kind = node["class"]
    if kind in NODE_WORDS:
        return f"it uses {NODE_WORDS[kind]}"
    if kind not in NODE_CLASSES:
        return f"it uses a {kind.lower().replace('_', ' ')} expression"
    if kind != "FUNCTION":
        return None
    name = str(node.get("function_name", "")).lower()
    if node.get("schema") or node.get("catalog"):
        return f"it calls {name}() through a schema or catalog"
    if name not in allowed_functions():
        return (
            f"it calls {name}(), which is not a scalar function a mapping may use "
            "(table, aggregate, window and system functions are not allowed)"
        )
    return None


def _tree_refusal(statements: list[dict]) -> str | None:
    if len(statements) != 1:
        return "it is more than one statement"
    select = statements[0]["node"]
    if select.get("type") != "SELECT_NODE":
        return "it is a query (UNION, ...), not an expression"
    extra = sorted(k for k, v in select.items() if k not in SELECT_FIELDS and v not in EMPTY)
    if (
        extra
        or select.get("modifiers")
        or select.get("cte_map", {}).get("map")
        or select.get("from_table", {}).get("type") != "EMPTY"
    ):
        return "it is a query (FROM, WHERE, ORDER BY, WITH, ...), not an expression"
    if len(select["select_list"]) != 1 or select["select_list"][0].get("alias"):
        return "it is a list of expressions, not one"
    for node in _nodes(select["select_list"]):
        if (reason := _node_refusal(node)) is not None:
            return reason
    return None


def refusal(sql: str) -> str | None:
    """Why `sql` may not be used as a mapping expression, or None if it may."""
    if not sql.strip():
        return "it is empty"
    if len(sql) > MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH:,} characters"
    if (reason := _lexical_refusal(sql)) is not None:
        return reason
    with _locked_database().cursor() as con:
        serialized = con.execute("SELECT json_serialize_sql(?)", [f"SELECT ({sql})"]).fetchone()
    parsed = json.loads(serialized[0])
    if parsed.get("error"):
        return f"it does not parse as one expression ({parsed.get('error_message')})"
    return _tree_refusal(parsed["statements"])


def column_names(sql: str) -> frozenset[str]:
    """The source columns an allowed expression reads (lambda parameters excluded)."""
    with _locked_database().cursor() as con:
        serialized = con.execute("SELECT json_serialize_sql(?)", [f"SELECT ({sql})"]).fetchone()
    nodes = list(_nodes(json.loads(serialized[0]).get("statements", [])))
    parameters = {
        name
        for node in nodes
        if node["class"] == "LAMBDA"
        for lhs in _nodes(node.get("lhs"))
        for name in lhs.get("column_names", [])[-1:]
    }
    return frozenset(
        name
        for node in nodes
        if node["class"] == "COLUMN_REF"
        for name in node.get("column_names", [])[-1:]
        if name not in parameters
    )


def sandbox(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """An in-memory connection holding copies of `tables` that cannot read or write
    files, attach databases, load extensions, scan Python variables, spill to disk or
    change any of that."""
    con = duckdb.connect()
    for setting in (
        "temp_directory = ''",
        "python_enable_replacements = false",
        "autoinstall_known_extensions = false",
        "autoload_known_extensions = false",
        "allow_community_extensions = false",
    ):
        con.execute(f"SET {setting}")
    for name, rows in tables.items():
        con.register("_sandbox_input", rows)
        con.execute(f"CREATE TABLE {q(name)} AS SELECT * FROM _sandbox_input")
        con.unregister("_sandbox_input")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con
