"""Project a staged source file onto a contract table, as its mapping says.

Each contract column is made from the source row: a source column, a constant or a SQL
expression, then a value map and a default. A table with `rows:` becomes one contract
row per entry per source row (an unpivot), skipping entries with an empty value and
collapsing identical rows. The result is a staged file whose columns are the contract's,
still as text, with the source file's row numbers, so validation and quarantine work on
it exactly as on a file written in the contract's shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import duckdb

from pipelines.contract import STAGES, TABLES
from pipelines.ingest import expressions, guesses
from pipelines.ingest.errors import FileRejected
from pipelines.ingest.options import ColumnSpec, TableSource
from pipelines.ingest.read import StagedFile
from pipelines.ingest.validate import TRUE_WORDS, normalise_header
from pipelines.warehouse import lit, q


@dataclass
class Projection:
    """The projected file and where each contract column came from."""

    staged: StagedFile
    origins: dict[str, str] = field(default_factory=dict)  # contract column -> origin
    ignored: list[str] = field(default_factory=list)  # source columns nothing reads
    notes: list[str] = field(default_factory=list)
    specs: dict[str, list[ColumnSpec]] = field(default_factory=dict)
    by_name: set[str] = field(default_factory=set)  # reference columns given as names


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


def chosen(spec: ColumnSpec, header: dict[str, str]) -> ColumnSpec | None:
    """The spec itself, or its first alternative whose source columns are all in the
    file; None when none is."""
    for option in spec.alternatives or (spec,):
        if option.value is not None:
            return option
        if option.sql is not None:
            if all(normalise_header(c) in header for c in expressions.column_names(option.sql)):
                return option
        elif normalise_header(option.source or "") in header:
            return option
    return None


def column_sql(spec: ColumnSpec, header: dict[str, str], relation: str) -> str | None:
    """SQL of one contract column over the staged `relation`; None when the source
    column it reads is not in the file (for alternatives: none of them can be made)."""
    if spec.alternatives:
        option = chosen(spec, header)
        return None if option is None else column_sql(option, header, relation)
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
    for spec in (a for s in specs for a in (s.alternatives or (s,))):
        if spec.source is not None and normalise_header(spec.source) == wanted:
            return True
        if spec.sql is not None and name.casefold() in spec.sql.casefold():
            return True
    return False


def _with_header_rows(table_source: TableSource, header: list[str]) -> TableSource:
    """`rows_from_headers` turned into `rows:` entries, one per matching header (HubSpot's
    `Date entered "<stage> (<pipeline>)"`, whatever the portal named its stages)."""
    spec = table_source.rows_from_headers
    if spec is None:
        return table_source
    pattern = re.compile(spec.pattern)
    found = [(h, m.group(1).strip()) for h in header if (m := pattern.fullmatch(h.strip()))]
    entries = tuple(
        {
            spec.value_column: ColumnSpec(value=value, values=spec.values),
            spec.column: ColumnSpec(source=name),
        }
        for name, value in found
    )
    return replace(table_source, rows=(*table_source.rows, *entries))


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
    """Bind every `sql:` of the mapping against the file's columns; those that do not
    bind reject the file, every one named in the one error."""
    failures: list[tuple[str, str]] = []
    for column, found in specs.items():
        options = [s if not s.alternatives else chosen(s, header) for s in found]
        for spec in (s for s in options if s is not None and s.sql is not None):
            try:
                sandbox.execute(
                    f"SELECT {column_sql(spec, header, staged.relation)} "
                    f"FROM {staged.relation} LIMIT 0"
                ).fetchall()
            except duckdb.Error as error:
                failures.append((column, str(error).splitlines()[0]))
    if not failures:
        return
    (column, message), *others = failures
    also = "".join(f"; also column {c} ({m})" for c, m in others)
    raise FileRejected(
        file=file,
        row=1,
        column=column,
        found=f"a mapping `sql:` that does not run on this file ({message}){also}",
        expected="a DuckDB expression over the file's columns, names in "
        f"double quotes (the header has {', '.join(header.values())})",
        rule=f"{column}.mapped",
    )


def renamed_headers(header: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Each header of the file under the name the mapping reads: a localized name the
    mapping's `headers:` lists for a header the file lacks becomes that header."""
    present = {normalise_header(h) for h in header}
    by_alias = {
        normalise_header(alias): canonical
        for canonical, names in aliases.items()
        if normalise_header(canonical) not in present
        for alias in names
    }
    names = {h: by_alias.get(normalise_header(h), h) for h in header}
    taken: set[str] = set()
    for original, name in names.items():  # two localized names for one header: keep one
        if normalise_header(name) in taken:
            names[original] = original
        taken.add(normalise_header(names[original]))
    return names


def _sandboxed(
    con: duckdb.DuckDBPyConnection, staged: StagedFile, table_source: TableSource
) -> tuple[duckdb.DuckDBPyConnection, StagedFile, dict[str, str]]:
    """A locked in-memory copy of the staged file (with its row numbers as a column),
    where the mapping's expressions run: they cannot reach files, other databases or
    the warehouse. In the copy, localized headers carry the names the mapping reads and
    the mapping's `null_values` are empty. Also returns the copy's header, as matched."""
    con.complete()  # the relation API needs the connection free of a pending result
    columns = con.sql(f"SELECT * FROM {staged.relation} LIMIT 0").columns
    names = renamed_headers(columns, table_source.header_aliases)
    taken = {c.casefold() for c in names.values()}
    row = "_row"
    while row.casefold() in taken:
        row = "_" + row
    nulls = ", ".join(lit(v) for v in table_source.null_values)
    selects = [
        f"CASE WHEN trim(CAST({q(c)} AS VARCHAR)) IN ({nulls}) THEN NULL ELSE {q(c)} END "
        f"AS {q(names[c])}"
        if nulls
        else f"{q(c)} AS {q(names[c])}"
        for c in columns
    ]
    rows = con.sql(
        f"SELECT {', '.join(selects)}, {staged.row_sql} AS {q(row)} FROM {staged.relation}"
    )
    sandbox = expressions.sandbox({staged.relation: rows.to_arrow_table()})
    header = {normalise_header(names[c]): names[c] for c in columns}
    return sandbox, replace(staged, row_sql=f"{staged.relation}.{q(row)}"), header


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


# Flags a stage of the contract decides, for exports that have the stage but not them.
STAGE_FLAGS = {
    "is_closed": ("Closed Won", "Closed Lost"),
    "is_won": ("Closed Won",),
}


def _derive_flags(table: str, body: str, present: set[str]) -> tuple[str, list[str]]:
    """crm_opportunities without is_closed / is_won: the flags follow from the stage
    (a stage outside the contract leaves them empty, and the stage rule reports it)."""
    missing = [f for f in STAGE_FLAGS if f not in present]
    if table != "crm_opportunities" or "stage" not in present or not missing:
        return body, []
    stages = ", ".join(lit(s.casefold()) for s in STAGES)
    stage = f"lower(trim({q('stage')}))"
    derived = {
        flag: f"CASE WHEN {stage} IN ({', '.join(lit(s.casefold()) for s in closed)}) "
        f"THEN 'true' WHEN {stage} IN ({stages}) THEN 'false' END"
        for flag, closed in STAGE_FLAGS.items()
    }
    columns = ", ".join(
        f"{derived[c]} AS {q(c)}" if c in missing else q(c)
        for c in ("_row", *TABLES[table].columns)
    )
    present.update(missing)
    note = f"{' and '.join(missing)} derived from the stage: the export has no such column"
    return f"SELECT {columns} FROM ({body})", [note]


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
    sandbox, copy, header = _sandboxed(con, staged, table_source)
    table_source = _with_header_rows(table_source, list(header.values()))
    entries = _entries(table_source)
    named = set(table_source.columns).union(*table_source.rows) if table_source.rows else set()
    specs = _origins(table, entries, named)
    try:
        body, present, notes = _body(table, copy, table_source, entries, named, header)
        body, derived = _derive_flags(table, body, present)
        notes.extend(derived)
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
    by_name = {
        column
        for column, found in specs.items()
        if any((o := chosen(s, header)) is not None and o.match == "name" for s in found)
    }
    return Projection(
        staged=projected,
        origins={c: o for c, o in origins.items() if c in present},
        ignored=[h for h in header.values() if not _is_read(h, all_specs)],
        notes=notes,
        specs=specs,
        by_name=by_name,
    )


def _yaml_key(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _export_flags(projection: Projection) -> set[str]:
    """The stage flags read as they are from a column of the export (Salesforce's IsClosed
    and IsWon), not made by the mapping from the stage itself."""
    header = {normalise_header(h): h for h in projection.staged.source_header}
    flags = set()
    for flag in STAGE_FLAGS:
        found = [chosen(s, header) for s in projection.specs[flag]]
        if found and all(
            s is not None and s.source is not None and not s.values and s.default is None
            for s in found
        ):
            flags.add(flag)
    return flags


def _flag_share(flag: str, trusted: set[str]) -> str:
    """SQL of the share of a value's rows whose text flag reads true (NULL without it)."""
    if flag not in trusted:
        return "NULL"
    true = ", ".join(lit(w) for w in TRUE_WORDS)
    return f"avg(CASE WHEN lower(trim({q(flag)})) IN ({true}) THEN 1.0 ELSE 0.0 END)"


def _guess(table: str, column: str, value: str, canonical: list[str], shares: tuple) -> str | None:
    if table == "crm_opportunities" and column == "stage":
        return guesses.stage(value, *shares)
    return guesses.from_words(value, canonical)


def check_unknown_values(
    con: duckdb.DuckDBPyConnection,
    projection: Projection,
    table: str,
    value_sets: dict[str, list[str]],
    file: str,
    mode: str = "guess",
) -> tuple[list[str], dict[str, dict[str, str | None]]]:
    """Values of a column mapped through `values` that are neither mapped nor canonical.

    `mode` says what happens to them: `guess` loads each as the canonical value its
    words (and, for a deal stage, the export's closed / won flags) point to, and leaves
    the rest to be quarantined by the column's rule; `quarantine` guesses nothing;
    `reject` stops the load. Either way the notes (or the error) list every such value
    with a `values:` block to paste. Also returns, per column, each such value and its
    guess (None: no guess)."""
    relation = projection.staged.relation
    present = projection.staged.header
    trusted = _export_flags(projection) if table == "crm_opportunities" else set()
    notes, found, rejections = [], {}, []
    for column, canonical in value_sets.items():
        if not any(spec.values for spec in projection.specs.get(column, [])):
            continue
        if column not in present:
            continue
        known = ", ".join(lit(v.casefold()) for v in canonical)
        unknown = con.execute(
            f"SELECT trim({q(column)}) AS v, count(*), min(_row), "
            f"{_flag_share('is_closed', trusted)}, {_flag_share('is_won', trusted)} "
            f"FROM {relation} "
            f"WHERE nullif(trim({q(column)}), '') IS NOT NULL AND lower(trim({q(column)})) "
            f"NOT IN ({known}) GROUP BY v ORDER BY min(_row)"
        ).fetchall()
        if not unknown:
            continue
        guessed = {
            value: _guess(table, column, value, canonical, (closed, won))
            for value, _, _, closed, won in unknown
        }
        found[column] = guessed
        listed = ", ".join(f"{v!r} ({n:,} row(s))" for v, n, *_ in unknown)
        lines = [
            f"  {_yaml_key(value)}: {guessed[value]}   # guessed"
            if guessed[value]
            else f"  {_yaml_key(value)}: ???   # one of {', '.join(canonical)}"
            for value, *_ in unknown
        ]
        where = (
            f"tables.{table}.columns.{column}.values (or the rows entry that maps {column}) "
            "in the mapping file"
        )
        if mode == "reject":
            rejections.append(
                FileRejected(
                    file=file,
                    row=min(row for _, _, row, *_ in unknown),
                    column=column,
                    found=f"{len(unknown)} value(s) that the mapping's `values` does not map "
                    f"to a {column} of the contract: {listed}",
                    expected=f"one of {', '.join(canonical)}; add them to {where}, for "
                    "example:\n" + "\n".join(lines),
                    rule=f"{column}.mapped",
                )
            )
            continue
        applied = {v: g for v, g in guessed.items() if g is not None and mode == "guess"}
        for value, guess in applied.items():
            # a guessed stage also sets the flags the mapping makes from the stage
            flags = [
                f"{q(f)} = {lit(str(guess in closed).lower())}"
                for f, closed in STAGE_FLAGS.items()
                if column == "stage" and table == "crm_opportunities" and f not in trusted
            ]
            con.execute(
                f"UPDATE {relation} SET {', '.join([f'{q(column)} = ?', *flags])} "
                f"WHERE trim({q(column)}) = ?",
                [guess, value],
            )
        loaded = ", ".join(
            f"{v!r} ({n:,} row(s)) as {applied[v]}" for v, n, *_ in unknown if v in applied
        )
        left = ", ".join(f"{v!r} ({n:,} row(s))" for v, n, *_ in unknown if v not in applied)
        note = f"{column}: {len(unknown)} value(s) the mapping's `values` does not map"
        if loaded:
            note += f"; loaded as guessed: {loaded}"
        if left:
            note += f"; quarantined, no guess: {left}"
        notes.append(f"{note}. Confirm or correct them in {where}:\n" + "\n".join(lines))
    if rejections:  # every column's values in the one error
        first, *others = rejections
        if others:
            first.expected += "".join(f"\nalso column {o.column}: {o.found}" for o in others)
        raise first
    return notes, found
