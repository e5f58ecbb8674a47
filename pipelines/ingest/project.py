"""Project a staged source file onto a contract table, as its mapping says.

Each contract column is made from the source row: a source column, a constant or a SQL
expression, then a value map and a default. A table with `rows:` becomes one contract
row per entry per source row (an unpivot), skipping entries with an empty value and
collapsing identical rows. The result is a staged file whose columns are the contract's,
still as text, with the source file's row numbers, so validation and quarantine work on
it exactly as on a file written in the contract's shape.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

import duckdb

from pipelines.contract import TABLES
from pipelines.ingest import expressions
from pipelines.ingest.errors import FileRejected
from pipelines.ingest.options import ColumnSpec, TableSource
from pipelines.ingest.read import StagedFile
from pipelines.ingest.validate import normalise_header
from pipelines.warehouse import lit, q

# Words that point at a closed stage, for suggestions (English and Chinese exports).
WON_WORDS = ("won", "win", "signed", "赢", "成交", "签约")
LOST_WORDS = ("lost", "lose", "dead", "disqualified", "输", "丢", "失败", "无效")


@dataclass
class Projection:
    """The projected file and where each contract column came from."""

    staged: StagedFile
    origins: dict[str, str] = field(default_factory=dict)  # contract column -> origin
    ignored: list[str] = field(default_factory=list)  # source columns nothing reads
    notes: list[str] = field(default_factory=list)
    specs: dict[str, list[ColumnSpec]] = field(default_factory=dict)


def _mapped(base: str, spec: ColumnSpec) -> str:
    """SQL applying the spec's value map and default to the text `base`."""
    value = f"nullif(trim({base}), '')"
    default = lit(spec.default) if spec.default is not None else "NULL"
    if not spec.values:
        return base if spec.default is None else f"coalesce({value}, {default})"
    cases = " ".join(
        f"WHEN lower(trim({lit(key)})) THEN {lit(mapped)}" for key, mapped in spec.values.items()
    )
    otherwise = default if spec.default is not None else base
    mapped_value = f"CASE lower({value}) {cases} ELSE {otherwise} END"
    return f"CASE WHEN {value} IS NULL THEN {default} ELSE {mapped_value} END"


def column_sql(spec: ColumnSpec, header: dict[str, str], relation: str) -> str | None:
    """SQL of one contract column over the staged `relation`; None when the source
    column it reads is not in the file."""
    if spec.value is not None:
        base = lit(spec.value)
    elif spec.sql is not None:
        base = f"CAST(({spec.sql}) AS VARCHAR)"
    else:
        actual = header.get(normalise_header(spec.source or ""))
        if actual is None:
            return None
        base = f"{relation}.{q(actual)}"
    return _mapped(base, spec)


def _is_read(name: str, specs: list[ColumnSpec]) -> bool:
    wanted = normalise_header(name)
    for spec in specs:
        if spec.source is not None and normalise_header(spec.source) == wanted:
            return True
        if spec.sql is not None and name.casefold() in spec.sql.casefold():
            return True
    return False


def _entries(table_source: TableSource) -> list[dict[str, ColumnSpec]]:
    """Each output row's column specs: the common ones plus the entry's own."""
    if not table_source.rows:
        return [dict(table_source.columns)]
    return [{**table_source.columns, **entry} for entry in table_source.rows]


def _spec_for(column: str, entry: dict[str, ColumnSpec], named: set[str]) -> ColumnSpec | None:
    if column in entry:
        return entry[column]
    if column in named:
        return None  # named by another entry only: empty in this one
    return ColumnSpec(source=column)


def _origins(table: str, entries: list[dict[str, ColumnSpec]], named: set[str]) -> dict:
    specs: dict[str, list[ColumnSpec]] = {}
    for column in TABLES[table].columns:
        found = [s for e in entries if (s := _spec_for(column, e, named)) is not None]
        specs[column] = found
    return specs


def _entry_select(
    table: str,
    staged: StagedFile,
    entry: dict[str, ColumnSpec],
    own: set[str],
    named: set[str],
    header: dict[str, str],
) -> tuple[str | None, set[str]]:
    """SELECT of one entry's rows (None when a column of the entry's own is not in the
    file) and the contract columns it gives a value."""
    selects = [f"{staged.row_sql} AS _row"]
    given, conditions = set(), []
    for column in TABLES[table].columns:
        spec = _spec_for(column, entry, named)
        sql = column_sql(spec, header, staged.relation) if spec is not None else None
        if sql is None and column in own:
            return None, set()
        if sql is not None:
            given.add(column)
        selects.append(f"{sql or 'CAST(NULL AS VARCHAR)'} AS {q(column)}")
        if column in own:
            conditions.append(f"nullif(trim({sql}), '') IS NOT NULL")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {', '.join(selects)} FROM {staged.relation}{where}", given


def _empty_select(table: str) -> str:
    columns = ", ".join(f"NULL::VARCHAR AS {q(c)}" for c in TABLES[table].columns)
    return f"SELECT NULL::BIGINT AS _row, {columns} WHERE false"


def _check_expressions(
    sandbox: duckdb.DuckDBPyConnection,
    staged: StagedFile,
    specs: dict[str, list[ColumnSpec]],
    header: dict[str, str],
    file: str,
) -> None:
    """Bind every `sql:` of the mapping against the file's columns, naming the contract
    column of the first that does not bind."""
    for column, found in specs.items():
        for spec in (s for s in found if s.sql is not None):
            try:
                sandbox.execute(
                    f"SELECT {column_sql(spec, header, staged.relation)} "
                    f"FROM {staged.relation} LIMIT 0"
                ).fetchall()
            except duckdb.Error as error:
                message = str(error).splitlines()[0]
                raise FileRejected(
                    file=file,
                    row=1,
                    column=column,
                    found=f"a mapping `sql:` that does not run on this file ({message})",
                    expected="a DuckDB expression over the file's columns, names in "
                    f"double quotes (the header has {', '.join(header.values())})",
                    rule=f"{column}.mapped",
                ) from error


def _sandboxed(
    con: duckdb.DuckDBPyConnection, staged: StagedFile
) -> tuple[duckdb.DuckDBPyConnection, StagedFile]:
    """A locked in-memory copy of the staged file (with its row numbers as a column),
    where the mapping's expressions run: they cannot reach files, other databases or
    the warehouse."""
    con.complete()  # the relation API needs the connection free of a pending result
    taken = {c.casefold() for c in con.sql(f"SELECT * FROM {staged.relation} LIMIT 0").columns}
    row = "_row"
    while row.casefold() in taken:
        row = "_" + row
    rows = con.sql(f"SELECT *, {staged.row_sql} AS {q(row)} FROM {staged.relation}")
    sandbox = expressions.sandbox({staged.relation: rows.to_arrow_table()})
    return sandbox, replace(staged, row_sql=f"{staged.relation}.{q(row)}")


def _copy_back(
    con: duckdb.DuckDBPyConnection, sandbox: duckdb.DuckDBPyConnection, relation: str
) -> int:
    """Copy the sandbox's `relation` into a temporary table of `con`; its row count."""
    rows = sandbox.sql(f"SELECT * FROM {relation}").to_arrow_table()
    con.register(f"{relation}_arrow", rows)
    try:
        con.execute(f"CREATE TEMP TABLE {relation} AS SELECT * FROM {relation}_arrow")
    finally:
        con.unregister(f"{relation}_arrow")
    return rows.num_rows


def _runtime_error(error: duckdb.Error, file: str) -> FileRejected:
    return FileRejected(
        file=file,
        row=None,
        column=None,
        found=f"a mapping that fails on the file's values ({str(error).splitlines()[0]})",
        expected="expressions that work on every value, e.g. TRY_CAST rather than CAST",
        rule="file.mapped",
    )


def _body(
    table: str,
    staged: StagedFile,
    table_source: TableSource,
    entries: list[dict[str, ColumnSpec]],
    named: set[str],
    header: dict[str, str],
) -> tuple[str, set[str], list[str]]:
    """The SELECT of the projected rows, the contract columns it gives a value and
    notes on entries of `rows:` that the file cannot fill."""
    notes: list[str] = []
    selects = []
    present: set[str] = set()
    for number, entry in enumerate(entries):
        own = set(table_source.rows[number]) if table_source.rows else set()
        select, given = _entry_select(table, staged, entry, own, named, header)
        if select is None:
            absent = [repr(entry[c].source) for c in own if entry[c].source is not None]
            notes.append(f"rows[{number}] skipped: the file has no column {', '.join(absent)}")
            continue
        selects.append(select)
        present |= given
    body = " UNION ALL ".join(selects) or _empty_select(table)
    if table_source.rows:
        columns = ", ".join(q(c) for c in TABLES[table].columns)
        body = f"SELECT min(_row) AS _row, {columns} FROM ({body}) GROUP BY ALL"
    return body, present, notes


def project(
    con: duckdb.DuckDBPyConnection,
    staged: StagedFile,
    table: str,
    table_source: TableSource,
    file: str,
) -> Projection:
    """The staged file as contract columns, in the temporary table `<relation>_mapped`.

    The mapping's expressions run on a locked copy of the staged file (`_sandboxed`),
    never on the warehouse's connection."""
    header = {normalise_header(h): h for h in staged.header}
    entries = _entries(table_source)
    named = set(table_source.columns).union(*table_source.rows) if table_source.rows else set()
    specs = _origins(table, entries, named)
    sandbox, copy = _sandboxed(con, staged)
    try:
        body, present, notes = _body(table, copy, table_source, entries, named, header)
        relation = f"{staged.relation}_mapped"
        _check_expressions(sandbox, copy, specs, header, file)
        try:
            sandbox.execute(f"CREATE TABLE {relation} AS {body}")
        except duckdb.Error as error:
            raise _runtime_error(error, file) from error
        rows = _copy_back(con, sandbox, relation)
    finally:
        sandbox.close()
    if table_source.rows:
        notes.append(f"{rows:,} row(s) derived from {staged.rows:,} source row(s)")
    origins = {
        column: " | ".join(dict.fromkeys(s.describe() for s in found))
        for column, found in specs.items()
        if found
    }
    projected = StagedFile(
        relation,
        [c for c in TABLES[table].columns if c in present],
        f"{relation}._row",
        rows,
        staged.malformed,
        source_header=list(header.values()),
        origins=origins,
    )
    all_specs = [s for found in specs.values() for s in found]
    return Projection(
        staged=projected,
        origins={c: o for c, o in origins.items() if c in present},
        ignored=[h for h in header.values() if not _is_read(h, all_specs)],
        notes=notes,
        specs=specs,
    )


def suggest(value: str, canonical: list[str]) -> str | None:
    """The canonical value an unknown one most likely means, if any."""
    folded = value.casefold()
    if "Closed Won" in canonical and any(w in folded for w in WON_WORDS):
        return "Closed Won"
    if "Closed Lost" in canonical and any(w in folded for w in LOST_WORDS):
        return "Closed Lost"
    by_fold = {c.casefold(): c for c in canonical}
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.6)
    return by_fold[close[0]] if close else None


def _yaml_key(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_unknown_values(
    con: duckdb.DuckDBPyConnection,
    projection: Projection,
    table: str,
    value_sets: dict[str, list[str]],
    file: str,
) -> None:
    """A column mapped through `values` whose result is neither mapped nor canonical
    stops the load, listing every such value with a suggested mapping to paste."""
    relation = projection.staged.relation
    for column, canonical in value_sets.items():
        if not any(spec.values for spec in projection.specs.get(column, [])):
            continue
        if column not in projection.staged.header:
            continue
        known = ", ".join(lit(v.casefold()) for v in canonical)
        unknown = con.execute(
            f"SELECT trim({q(column)}) AS v, count(*), min(_row) FROM {relation} "
            f"WHERE nullif(trim({q(column)}), '') IS NOT NULL AND lower(trim({q(column)})) "
            f"NOT IN ({known}) GROUP BY v ORDER BY min(_row)"
        ).fetchall()
        if not unknown:
            continue
        listed = ", ".join(f"{v!r} ({n:,} row(s))" for v, n, _ in unknown)
        lines = []
        for value, _, _ in unknown:
            guess = suggest(value, canonical)
            lines.append(
                f"  {_yaml_key(value)}: {guess}   # suggested"
                if guess
                else f"  {_yaml_key(value)}: ???   # one of {', '.join(canonical)}"
            )
        raise FileRejected(
            file=file,
            row=min(row for _, _, row in unknown),
            column=column,
            found=f"{len(unknown)} value(s) that the mapping's `values` does not map to "
            f"a {column} of the contract: {listed}",
            expected=f"one of {', '.join(canonical)}; add them to "
            f"tables.{table}.columns.{column}.values (or the rows entry that maps "
            f"{column}) in the mapping file, for example:\n" + "\n".join(lines),
            rule=f"{column}.mapped",
        )
