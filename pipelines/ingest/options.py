"""How to read a source: the options of `repradar ingest` and its `--mapping` YAML file.

A mapping file says which file holds each contract table, how to decode it, and how each
contract column is made from the file's columns (a rename, a constant, a SQL expression,
a value map, date formats), optionally deriving several contract rows from one source
row. The format is documented in `mappings/README.md`; the shipped mappings for common
CRM and HR systems live next to it and can be named without a path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from pipelines.contract import DATE, TABLES, TIMESTAMP
from pipelines.ingest import expressions
from pipelines.ingest.mapping_yaml import MappingError, load_yaml, merged
from pipelines.ingest.suites import Policy, all_rule_ids, load_suite, value_sets

DATE_ORDERS = ("DMY", "MDY")
ENCODINGS = (
    "utf-8",
    "utf-8-sig",
    "gbk",
    "gb18030",
    "gb2312",
    "big5",
    "big5hkscs",
    "latin-1",
    "cp1252",
    "utf-16",
)
SHIPPED = Path(__file__).parent / "mappings"
TOP_KEYS = {
    "extends",
    "description",
    "unverified",
    "date_order",
    "encoding",
    "delimiter",
    "max_quarantine_share",
    "policies",
    "headers",
    "null_values",
    "unknown_values",
    "tables",
}
UNKNOWN_VALUES = ("guess", "quarantine", "reject")
TABLE_KEYS = {
    "rows_from_headers",
    "file",
    "fills_gaps",
    "optional",
    "sheet",
    "header_row",
    "encoding",
    "delimiter",
    "date_format",
    "keep_earliest",
    "columns",
    "rows",
}
COLUMN_KEYS = {"from", "value", "sql", "values", "default", "format", "match"}
AUTO_HEADER_ROW = 0  # header_row: auto


@dataclass(frozen=True)
class ColumnSpec:
    """How one contract column is made from a source row."""

    source: str | None = None  # a source column
    value: str | None = None  # a constant
    sql: str | None = None  # a DuckDB expression over the source columns
    values: dict[str, str] | None = None  # value map; keys as written, matched after
    # DuckDB's own trim() and lower() on both sides
    default: str | None = None
    formats: tuple[str, ...] = ()  # strptime formats of a date or timestamp
    alternatives: tuple[ColumnSpec, ...] = ()  # tried in order: the first the file can fill
    match: str | None = None  # "name": a reference given by the parent row's name

    def describe(self) -> str:
        """The origin in words, for `mapping check` and the load report."""
        if self.alternatives:
            return " or else ".join(a.describe() for a in self.alternatives)
        if self.value is not None:
            origin = f"constant {self.value!r}"
        elif self.sql is not None:
            origin = f"sql {self.sql}"
        else:
            origin = repr(self.source)
        if self.values:
            origin += f" through {len(self.values)} mapped value(s)"
        if self.default is not None:
            origin += f", default {self.default!r}"
        if self.match is not None:
            origin += f", matched by {self.match}"
        return origin


@dataclass(frozen=True)
class HeaderRows:
    """One `rows:` entry per header matching `pattern`: `value_column` gets the text the
    pattern's group captured (through `values`), `column` the header's column."""

    pattern: str
    column: str
    value_column: str
    values: dict[str, str] | None = None


@dataclass(frozen=True)
class TableSource:
    """Where one contract table comes from and how its columns are made."""

    file: tuple[str, ...] = ()  # names or glob patterns, tried in order
    sheet: str | None = None
    header_row: int = 1  # the row holding the header, below any title rows; 0: found
    # as the first row about as wide as the widest (`header_row: auto`)
    encoding: str | None = None
    delimiter: str | None = None
    date_formats: tuple[str, ...] = ()
    keep_earliest: str | None = None
    optional: bool = False  # a file lacking a required column is skipped, not rejected
    fills_gaps: bool = False  # rows whose key an earlier file of the run gave are dropped
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    rows: tuple[dict[str, ColumnSpec], ...] = ()
    rows_from_headers: HeaderRows | None = None  # more `rows:` entries, from the header
    # from the mapping's top level: header -> its localized names, placeholders of empty
    header_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    null_values: tuple[str, ...] = ()

    def spec_of(self, column: str) -> ColumnSpec:
        """The column's spec; without one, the source column of the contract's name."""
        return self.columns.get(column, ColumnSpec(source=column))


@dataclass(frozen=True)
class IngestOptions:
    description: str = ""
    unverified: str = ""
    date_order: str = "DMY"
    encoding: str | None = None
    delimiter: str | None = None
    max_quarantine_share: float = 0.5
    policies: dict[str, str] = field(default_factory=dict)
    header_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    null_values: tuple[str, ...] = ()
    unknown_values: str = "guess"
    tables: dict[str, tuple[TableSource, ...]] = field(default_factory=dict)
    path: Path | None = None

    def sources_of(self, table: str) -> tuple[TableSource, ...]:
        """Each source of a table (several files may feed one table), with the global
        encoding and delimiter filled in."""
        configured = self.tables.get(table) or (TableSource(),)
        return tuple(
            replace(
                source,
                encoding=source.encoding or self.encoding,
                delimiter=source.delimiter or self.delimiter,
                # only files the mapping reads: a canonical file keeps its headers
                header_aliases=self.header_aliases if table in self.tables else {},
                null_values=self.null_values if table in self.tables else (),
            )
            for source in configured
        )


def _check_keys(where: str, found: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _check_delimiter(where: str, delimiter: Any) -> None:
    if delimiter is not None and not (isinstance(delimiter, str) and len(delimiter) == 1):
        raise MappingError(f"{where}: delimiter {delimiter!r} must be one character")


def _check_encoding(where: str, encoding: Any) -> None:
    if encoding is not None and (
        not isinstance(encoding, str) or encoding.lower() not in ENCODINGS
    ):
        raise MappingError(
            f"{where}: encoding {encoding!r} is not supported; use one of {', '.join(ENCODINGS)}"
        )


def _text(value: Any) -> str:
    """A YAML scalar as the text a file would hold (true -> "true", 3 -> "3")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _formats(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    formats = value if isinstance(value, list) else [value]
    if not formats or not all(isinstance(f, str) and "%" in f for f in formats):
        raise MappingError(f"{where}: expected a strptime format like '%d.%m.%Y' or a list")
    for fmt in formats:
        try:
            duckdb.sql("SELECT try_strptime('2024-01-05', $1)", params=[fmt]).fetchall()
        except duckdb.Error as error:
            raise MappingError(
                f"{where}: {fmt!r} is not a strptime format DuckDB reads "
                f"({str(error).splitlines()[0]})"
            ) from error
    return tuple(formats)


def _check_targets(where: str, table: str, column: str, values: dict[Any, Any]) -> None:
    """A value map onto a column with fixed contract values must map onto those values."""
    canonical = value_sets(load_suite(table)).get(column)
    if canonical is None:
        return
    folded = {c.casefold() for c in canonical}
    wrong = sorted(
        {
            _text(v)
            for v in values.values()
            if _text(v).strip().casefold() not in folded and _text(v).strip()
        }
    )
    if wrong:
        raise MappingError(
            f"{where}.values: {', '.join(map(repr, wrong))} is not a {column} of the contract; "
            f"map onto one of {', '.join(canonical)}"
        )


def _check_expression(where: str, sql: str) -> None:
    """A `sql:` value must be one scalar expression (see `expressions`)."""
    reason = expressions.refusal(sql)
    if reason is not None:
        raise MappingError(
            f"{where}: {sql!r} is refused: {reason}; a `sql:` is {expressions.ALLOWED}"
        )


def _column_spec(where: str, table: str, column: str, spec: Any) -> ColumnSpec:
    if column not in TABLES[table].columns:
        raise MappingError(
            f"{where}: {column} is not in the contract; "
            f"{table} has {', '.join(TABLES[table].columns)}"
        )
    where = f"{where}.{column}"
    if isinstance(spec, list):
        if not spec or any(isinstance(s, list) for s in spec):
            raise MappingError(
                f"{where}: a list gives alternatives (source columns or mappings of keys), "
                "tried in order; it cannot be empty or hold lists"
            )
        return ColumnSpec(
            alternatives=tuple(
                _one_column_spec(f"{where}[{n}]", table, column, s) for n, s in enumerate(spec)
            )
        )
    return _one_column_spec(where, table, column, spec)


def _one_column_spec(where: str, table: str, column: str, spec: Any) -> ColumnSpec:
    if isinstance(spec, str):
        return ColumnSpec(source=spec)
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: expected a source column name or a mapping of keys")
    _check_keys(where, spec, COLUMN_KEYS)
    origins = [key for key in ("from", "value", "sql") if key in spec]
    if len(origins) != 1:
        raise MappingError(f"{where}: give exactly one of from, value, sql")
    values = spec.get("values")
    if values is not None and not isinstance(values, dict):
        raise MappingError(f"{where}.values: expected a mapping of source value: contract value")
    if not isinstance(spec.get("from", ""), str) or not all(
        isinstance(v, str | bool) or v is None for v in (values or {}).values()
    ):
        raise MappingError(f"{where}: `from` and the values of `values` must be plain text")
    _check_targets(where, table, column, values or {})
    if "sql" in spec:
        _check_expression(f"{where}.sql", _text(spec["sql"]))
    match = spec.get("match")
    if match is not None and (match != "name" or _referenced(table, column) is None):
        raise MappingError(
            f"{where}.match: only `match: name` is known, on a column that refers to a "
            "row of another table (an owner, account, manager, employee)"
        )
    formats = _formats(f"{where}.format", spec.get("format"))
    if formats and TABLES[table].columns[column] not in (DATE, TIMESTAMP):
        raise MappingError(f"{where}.format: {column} is not a date or timestamp column")
    return ColumnSpec(
        source=_text(spec["from"]) if "from" in spec else None,
        value=_text(spec["value"]) if "value" in spec else None,
        sql=_text(spec["sql"]) if "sql" in spec else None,
        values={_text(k): _text(v) for k, v in values.items()} if values is not None else None,
        default=_text(spec["default"]) if "default" in spec else None,
        formats=formats,
        match=match,
    )


def _referenced(table: str, column: str) -> str | None:
    """The `table.column` a contract column refers to (its `.exists` rule), if any."""
    return next(
        (r.references for r in load_suite(table) if r.column == column and r.references),
        None,
    )


def _column_specs(where: str, table: str, specs: Any) -> dict[str, ColumnSpec]:
    if not isinstance(specs, dict):
        raise MappingError(f"{where}: expected a mapping of contract column: source")
    return {
        str(column): _column_spec(where, table, str(column), spec) for column, spec in specs.items()
    }


HEADER_ROWS_KEYS = {"header", "column", "as", "values"}


def _header_rows(where: str, table: str, spec: Any) -> HeaderRows | None:
    if spec is None:
        return None
    where = f"{where}.rows_from_headers"
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: expected header, column, as and values")
    _check_keys(where, spec, HEADER_ROWS_KEYS)
    pattern, column, value_column = (_text(spec.get(k)) for k in ("header", "column", "as"))
    try:
        groups = re.compile(pattern).groups
    except re.error as error:
        raise MappingError(
            f"{where}.header: {pattern!r} is not a regular expression ({error})"
        ) from error
    if groups != 1:
        raise MappingError(f"{where}.header: the pattern needs exactly one (group), the value")
    for name in (column, value_column):
        if name not in TABLES[table].columns:
            raise MappingError(f"{where}: {name!r} is not a column of {table}")
    values = spec.get("values")
    if values is not None and not isinstance(values, dict):
        raise MappingError(f"{where}.values: expected a mapping of source value: contract value")
    _check_targets(where, table, value_column, values or {})
    return HeaderRows(
        pattern,
        column,
        value_column,
        {_text(k): _text(v) for k, v in values.items()} if values is not None else None,
    )


def _files(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    files = value if isinstance(value, list) else [value]
    if not files or not all(isinstance(f, str) and f for f in files):
        raise MappingError(f"{where}.file: expected a file name or pattern, or a list of them")
    return tuple(files)


def _table_source(path: Path, table: str, spec: Any) -> TableSource:
    where = f"{path}: tables.{table}"
    if table not in TABLES:
        raise MappingError(f"{where}: not a contract table; tables are {', '.join(TABLES)}")
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: expected a mapping of keys")
    _check_keys(where, spec, TABLE_KEYS)
    _check_encoding(where, spec.get("encoding"))
    _check_delimiter(where, spec.get("delimiter"))
    rows = spec.get("rows") or []
    if not isinstance(rows, list) or not all(isinstance(r, dict) and r for r in rows):
        raise MappingError(f"{where}.rows: expected a list of column mappings, one per row")
    header_row = str(spec.get("header_row", "1")).strip().lower()
    if header_row == "auto":
        header_row = str(AUTO_HEADER_ROW)
    elif not header_row.isdigit() or int(header_row) < 1:
        raise MappingError(f"{where}.header_row: expected a row number from 1, or auto")
    keep = spec.get("keep_earliest")
    if keep is not None and (
        not isinstance(keep, str) or TABLES[table].columns.get(keep) not in (DATE, TIMESTAMP)
    ):
        raise MappingError(f"{where}.keep_earliest: {keep!r} is not a date column of {table}")
    return TableSource(
        file=_files(where, spec.get("file")),
        sheet=_text(spec["sheet"]) if "sheet" in spec else None,
        header_row=int(header_row),
        encoding=spec.get("encoding"),
        delimiter=spec.get("delimiter"),
        date_formats=_formats(f"{where}.date_format", spec.get("date_format")),
        keep_earliest=keep,
        optional=spec.get("optional") is True,
        fills_gaps=spec.get("fills_gaps") is True,
        rows_from_headers=_header_rows(where, table, spec.get("rows_from_headers")),
        columns=_column_specs(f"{where}.columns", table, spec.get("columns") or {}),
        rows=tuple(
            _column_specs(f"{where}.rows[{number}]", table, entry)
            for number, entry in enumerate(rows)
        ),
    )


def _table_sources(path: Path, table: str, spec: Any) -> tuple[TableSource, ...]:
    """One source, or a list of them whose rows load into the same table (Salesforce
    Task and Event both give activities)."""
    if isinstance(spec, list):
        if not spec:
            raise MappingError(f"{path}: tables.{table}: an empty list of sources")
        return tuple(_table_source(path, table, entry) for entry in spec)
    return (_table_source(path, table, spec or {}),)


def shipped_mappings() -> dict[str, Path]:
    """The mapping files that ship with repradar, by name (file stem)."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.yaml"))}


def resolve_mapping(name_or_path: str | Path) -> Path:
    """A mapping file's path: an existing file, else a shipped mapping of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_mappings()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise MappingError(
        f"{name_or_path}: no such file, and not a shipped mapping "
        f"({', '.join(shipped) or 'none shipped'})"
    )


def _policies(path: Path, spec: dict[str, Any]) -> dict[str, str]:
    found = spec.get("policies") or {}
    if not isinstance(found, dict):
        raise MappingError(f"{path}: policies: expected a mapping of <table>.<rule>: policy")
    policies = {str(k): str(v) for k, v in found.items()}
    known = all_rule_ids()
    for rule, policy in policies.items():
        table, _, rest = rule.partition(".")
        column, _, check = rest.partition(".")
        if check == "not_null" and column in getattr(TABLES.get(table), "nullable", ()):
            continue  # the column may be empty anyway: nothing to relax
        if rule not in known:
            raise MappingError(f"{path}: policies.{rule} is not a rule of any suite")
        if policy not in {p.value for p in Policy}:
            raise MappingError(
                f"{path}: policies.{rule}: {policy!r} must be reject_row, reject_file or warn"
            )
    return policies


def _header_aliases(path: Path, spec: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    found = spec.get("headers") or {}
    if not isinstance(found, dict) or not all(
        isinstance(names, str | list) and all(isinstance(n, str) for n in _listed(names))
        for names in found.values()
    ):
        raise MappingError(
            f"{path}: headers: expected a mapping of header: its other names (a name or a "
            "list), e.g. {Record ID: [ID de registro, Datensatz-ID]}"
        )
    return {_text(header): tuple(_listed(names)) for header, names in found.items()}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _null_values(path: Path, spec: dict[str, Any]) -> tuple[str, ...]:
    found = _listed(spec.get("null_values") or [])
    if not all(isinstance(v, str) and v.strip() for v in found):
        raise MappingError(f"{path}: null_values: expected a list of texts that mean empty")
    return tuple(v.strip() for v in found)


def _unknown_values(path: Path, spec: dict[str, Any]) -> str:
    found = _text(spec.get("unknown_values", "guess"))
    if found not in UNKNOWN_VALUES:
        raise MappingError(
            f"{path}: unknown_values {found!r} must be one of {', '.join(UNKNOWN_VALUES)}"
        )
    return found


MAX_EXTENDS = 3  # a mapping extending one that extends another ...


def _extended(path: Path, spec: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A mapping with `extends: NAME_OR_PATH` (a shipped mapping, or a file beside this
    one): the base mapping with this file's keys laid over it."""
    if "extends" not in spec:
        return spec
    if depth >= MAX_EXTENDS:
        raise MappingError(f"{path}: extends: more than {MAX_EXTENDS} mappings deep")
    name = _text(spec["extends"]).strip()
    beside = path.parent / name
    base_path = beside if beside.is_file() else resolve_mapping(name)
    base = load_yaml(base_path)
    if not isinstance(base, dict):
        raise MappingError(f"{base_path}: expected a mapping of keys")
    base = _extended(base_path, base, depth + 1)
    return merged(base, {k: v for k, v in spec.items() if k != "extends"})


def read_mapping(name_or_path: str | Path) -> IngestOptions:
    """Parse and check a mapping file (a path or a shipped mapping's name); every mistake
    is a MappingError naming the key."""
    path = resolve_mapping(name_or_path)
    spec = load_yaml(path)
    if not isinstance(spec, dict):
        raise MappingError(f"{path}: expected a mapping of keys, found {type(spec).__name__}")
    spec = _extended(path, spec)
    _check_keys(str(path), spec, TOP_KEYS)
    date_order = str(spec.get("date_order", "DMY")).upper()
    if date_order not in DATE_ORDERS:
        raise MappingError(f"{path}: date_order {date_order!r} must be one of DMY, MDY")
    _check_encoding(str(path), spec.get("encoding"))
    _check_delimiter(str(path), spec.get("delimiter"))
    try:
        share = float(spec.get("max_quarantine_share", 0.5))
    except (TypeError, ValueError) as error:
        raise MappingError(f"{path}: max_quarantine_share must be a number") from error
    if not 0 <= share <= 1:
        raise MappingError(f"{path}: max_quarantine_share {share} must be between 0 and 1")
    tables = spec.get("tables") or {}
    if not isinstance(tables, dict):
        raise MappingError(f"{path}: tables: expected a mapping of contract table: source")
    return IngestOptions(
        description=_text(spec.get("description")).strip(),
        unverified=_text(spec.get("unverified")).strip(),
        date_order=date_order,
        encoding=spec.get("encoding"),
        delimiter=spec.get("delimiter"),
        max_quarantine_share=share,
        policies=_policies(path, spec),
        header_aliases=_header_aliases(path, spec),
        null_values=_null_values(path, spec),
        unknown_values=_unknown_values(path, spec),
        tables={
            str(table): _table_sources(path, str(table), table_spec)
            for table, table_spec in tables.items()
        },
        path=path,
    )
