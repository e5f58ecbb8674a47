"""Validate a staged file in DuckDB: parse every value, run every rule of its suite.

The suite's expectations are compiled to SQL and evaluated in one pass over the staged
rows (plus a pass for duplicate keys and one per reference), which keeps validation at
DuckDB speed on millions of rows. The result is a temporary table `<relation>_checked`:
the verbatim text of every contract column (`r__<column>`), its typed value
(`<column>`), the row number (`_row`) and two lists of failures, `_errors` (rules that
reject the row or file) and `_warnings` (rules that only warn).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import duckdb

from pipelines.contract import BOOLEAN, DATE, DECIMAL, INTEGER, TABLES, TIMESTAMP
from pipelines.ingest.errors import FileRejected
from pipelines.ingest.read import StagedFile
from pipelines.ingest.suites import Policy, Rule
from pipelines.warehouse import lit, q

FAILURE_TYPE = "STRUCT(rule VARCHAR, policy VARCHAR, col VARCHAR, found VARCHAR, expected VARCHAR)"
NO_FAILURES = f"[]::{FAILURE_TYPE}[]"
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
DAY_FIRST = ("%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y")
MONTH_FIRST = ("%m/%d/%Y", "%m.%d.%Y", "%m-%d-%Y")
ISO_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


@dataclass
class RuleOutcome:
    rule: str
    expectation: str
    column: str | None
    policy: str
    failed: int
    example: str  # the first failure: row, column, what was found, what was expected


@dataclass
class Verdict:
    """What validation decided about one file."""

    relation: str
    rows_read: int
    rows_quarantined: int
    outcomes: list[RuleOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return self.rows_read - self.rows_quarantined


@dataclass(frozen=True)
class Context:
    """Everything validation needs besides the rules."""

    file: str
    date_order: str
    today: dt.date
    max_quarantine_share: float
    formats: dict[str, tuple[str, ...]] = field(default_factory=dict)  # mapped date formats
    keep_earliest: str | None = None


def normalise_header(name: str) -> str:
    """A header as matched: without a byte-order mark, surrounding spaces and case."""
    return name.strip().lstrip("\ufeff").strip().casefold()


def _type_regex(rules: list[Rule], column: str) -> str | None:
    for rule in rules:
        if rule.column == column and rule.rule_id == f"{column}.type":
            return rule.kwargs["regex"]
    return None


def _value_set(rules: list[Rule], column: str) -> list[str] | None:
    for rule in rules:
        values = rule.kwargs.get("value_set")
        if (
            rule.column == column
            and rule.expectation == "expect_column_values_to_be_in_set"
            and isinstance(values, list)
        ):
            return values
    return None


def _date_formats(date_order: str) -> str:
    formats = DAY_FIRST if date_order == "DMY" else MONTH_FIRST
    return "[" + ", ".join(lit(f) for f in formats) + "]"


def _formatted_sql(kind: str, v: str, formats: tuple[str, ...]) -> str:
    """A date or timestamp in exactly one of the mapping's formats, or in ISO form (what
    an Excel date cell becomes)."""
    every = (*formats, *ISO_FORMATS)
    parsed = f"try_strptime({v}, [{', '.join(map(lit, every))}])"
    return f"CAST({parsed} AS DATE)" if kind == DATE else parsed


def _parse_sql(
    kind: str,
    raw: str,
    regex: str | None,
    values: list[str] | None,
    order: str,
    formats: tuple[str, ...] = (),
) -> str:
    """SQL turning the text `raw` into the contract type; NULL when it does not parse."""
    v = f"nullif(trim({raw}), '')"
    if formats and kind in (DATE, TIMESTAMP):
        return _formatted_sql(kind, v, formats)
    if kind == INTEGER:
        parsed = f"TRY_CAST(split_part({v}, '.', 1) AS BIGINT)"
    elif kind == DECIMAL:
        parsed = f"TRY_CAST({v} AS DECIMAL(18, 2))"
    elif kind == BOOLEAN:
        parsed = (
            f"CASE WHEN lower({v}) IN ({', '.join(map(lit, TRUE_WORDS))}) THEN true "
            f"WHEN lower({v}) IN ({', '.join(map(lit, FALSE_WORDS))}) THEN false END"
        )
    elif kind == DATE:
        parsed = (
            f"COALESCE(TRY_CAST({v} AS DATE), TRY_CAST(TRY_CAST({v} AS TIMESTAMP) AS DATE), "
            f"CAST(try_strptime({v}, ['%Y/%m/%d', '%Y%m%d']) AS DATE), "
            f"CAST(try_strptime({v}, {_date_formats(order)}) AS DATE), "
            f"CASE WHEN regexp_full_match({v}, '\\d{{5}}(\\.0+)?') "
            f"THEN DATE '1899-12-30' + CAST(CAST({v} AS DOUBLE) AS INTEGER) END)"
        )
    elif kind == TIMESTAMP:
        day_first = [
            f + suffix
            for f in (DAY_FIRST if order == "DMY" else MONTH_FIRST)
            for suffix in (" %H:%M:%S", " %H:%M", "")
        ]
        parsed = (
            f"COALESCE(TRY_CAST({v} AS TIMESTAMP), "
            f"try_strptime({v}, ['%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d']), "
            f"try_strptime({v}, [{', '.join(map(lit, day_first))}]), "
            f"CASE WHEN regexp_full_match({v}, '\\d{{5}}(\\.\\d+)?') THEN TIMESTAMP '1899-12-30' "
            f"+ to_microseconds(CAST(round(CAST({v} AS DOUBLE) * 86400000000) AS BIGINT)) END)"
        )
    elif values is not None:
        cases = " ".join(f"WHEN {lit(value.lower())} THEN {lit(value)}" for value in values)
        return f"CASE lower({v}) {cases} ELSE {v} END"
    else:
        return v
    if regex is None:
        return parsed
    return f"CASE WHEN regexp_full_match({v}, {lit(regex)}) THEN {parsed} END"


def _bound_sql(kind: str, bound: object, today: dt.date) -> str:
    if isinstance(bound, dict) and bound.get("$PARAMETER") == "today":
        bound = today.isoformat()
    if kind in (DATE, TIMESTAMP):
        return f"DATE {lit(str(bound))}"
    return str(float(bound))


def _found(column: str) -> str:
    return f"coalesce('''' || {q('r__' + column)} || '''', 'nothing')"


def _row_rule_sql(rule: Rule, kinds: dict[str, str], today: dt.date) -> tuple[str, str] | None:
    """(fails, found) SQL of a rule checked row by row; None for other rules."""
    column = rule.column
    if column is None:
        return None
    raw, typed = q("r__" + column), q(column)
    kind = kinds[column]
    if rule.expectation == "expect_column_values_to_not_be_null":
        return f"nullif(trim({raw}), '') IS NULL", "'nothing'"
    if rule.expectation == "expect_column_values_to_match_regex":
        if rule.rule_id == f"{column}.type":
            return f"nullif(trim({raw}), '') IS NOT NULL AND {typed} IS NULL", _found(column)
        fails = (
            f"{typed} IS NOT NULL AND NOT regexp_full_match({typed}, {lit(rule.kwargs['regex'])})"
        )
        return fails, _found(column)
    if rule.expectation == "expect_column_values_to_be_in_set":
        values = rule.kwargs["value_set"]
        if not isinstance(values, list):
            return None  # a reference: checked against the parent table afterwards
        return f"{typed} NOT IN ({', '.join(map(lit, values))})", _found(column)
    if rule.expectation == "expect_column_values_to_be_between":
        value = f"CAST({typed} AS DATE)" if kind == TIMESTAMP else typed
        checks = []
        if rule.kwargs.get("min_value") is not None:
            checks.append(f"{value} < {_bound_sql(kind, rule.kwargs['min_value'], today)}")
        if rule.kwargs.get("max_value") is not None:
            checks.append(f"{value} > {_bound_sql(kind, rule.kwargs['max_value'], today)}")
        return " OR ".join(checks), _found(column)
    if rule.expectation == "expect_column_pair_values_a_to_be_greater_than_b":
        other = rule.kwargs["column_B"]
        operator = "<" if rule.kwargs.get("or_equal") else "<="
        found = f"{_found(column)} || ' with {other} ' || {_found(other)}"
        return f"{typed} {operator} {q(other)}", found
    if rule.expectation == "expect_column_pair_values_to_be_in_set":
        other = rule.kwargs["column_B"]
        pairs = " OR ".join(
            f"({typed} = {_literal(a)} AND {q(other)} = {_literal(b)})"
            for a, b in rule.kwargs["value_pairs_set"]
        )
        known = ", ".join(dict.fromkeys(_literal(a) for a, _ in rule.kwargs["value_pairs_set"]))
        found = f"{_found(column)} || ' with {other} ' || {_found(other)}"
        fails = f"{typed} IN ({known}) AND {q(other)} IS NOT NULL AND NOT ({pairs})"
        return fails, found
    return None


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return lit(str(value))


def _failure_sql(rule: Rule, fails: str, found: str) -> str:
    return (
        f"CASE WHEN {fails} THEN {{'rule': {lit(rule.rule_id)}, 'policy': {lit(rule.policy)}, "
        f"'col': {lit(rule.column or '')}, 'found': {found}, "
        f"'expected': {lit(rule.expected)}}} END"
    )


def _failure_list(items: list[str]) -> str:
    if not items:
        return NO_FAILURES
    return f"list_filter([{', '.join(items)}]::{FAILURE_TYPE}[], lambda x: x IS NOT NULL)"


def _absent_column(column: str, staged: StagedFile) -> str:
    header = ", ".join(staged.source_header or staged.header)
    origin = staged.origins.get(column)
    if origin is not None and origin != repr(column):
        return f"no source column for it (the mapping reads {origin}; the header has {header})"
    return f"no such column (the header has {header})"


def _check_header(rules: list[Rule], staged: StagedFile, context: Context) -> list[str]:
    """Notes on optional columns the file lacks; every required one it lacks rejects the
    file, all of them named in the one error."""
    notes, missing = [], []
    for rule in rules:
        if rule.expectation != "expect_column_to_exist" or rule.column in staged.header:
            continue
        if rule.policy is Policy.WARN:
            notes.append(f"column {rule.column} is absent; loaded as empty ({rule.expected})")
            continue
        missing.append(rule)
    if not missing:
        return notes
    first = missing[0]
    others = "".join(
        f"; also column {rule.column}: {_absent_column(rule.column, staged).split(' (')[0]}"
        for rule in missing[1:]
    )
    raise FileRejected(
        file=context.file,
        row=1,
        column=first.column,
        found=_absent_column(first.column, staged)
        + (f" ({len(missing)} required columns missing{others})" if others else ""),
        expected=first.expected,
        rule=first.rule_id,
    )


def check(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rules: list[Rule],
    staged: StagedFile,
    context: Context,
) -> Verdict:
    """Evaluate every row rule and the duplicate-key rule on a file projected onto the
    contract's columns; references come separately."""
    kinds = TABLES[table].columns
    rules = [_formatted_expectation(rule, context.formats) for rule in rules]
    notes = _check_header(rules, staged, context)
    selects = [f"{staged.row_sql} AS _row"]
    for column, kind in kinds.items():
        present = column in staged.header
        raw = f"{staged.relation}.{q(column)}" if present else "CAST(NULL AS VARCHAR)"
        selects.append(f"{raw} AS {q('r__' + column)}")
        parsed = _parse_sql(
            kind,
            raw,
            _type_regex(rules, column),
            _value_set(rules, column),
            context.date_order,
            context.formats.get(column, ()),
        )
        selects.append(f"{parsed} AS {q(column)}")
    errors, warnings = [], []
    for rule in rules:
        compiled = _row_rule_sql(rule, kinds, context.today)
        if compiled is None or rule.column not in staged.header:
            continue  # not a row rule, or its column is absent (the header check decided)
        (warnings if rule.policy is Policy.WARN else errors).append(_failure_sql(rule, *compiled))
    checked = f"{staged.relation}_checked"
    con.execute(
        f"CREATE TEMP TABLE {checked} AS SELECT *, {_failure_list(errors)} AS _errors, "
        f"{_failure_list(warnings)} AS _warnings FROM (SELECT {', '.join(selects)} "
        f"FROM {staged.relation})"
    )
    if context.keep_earliest is not None:
        notes.extend(_keep_earliest(con, checked, table, context.keep_earliest))
    unique = next(r for r in rules if r.rule_id == "key.unique")
    _check_duplicates(con, checked, table, unique)
    notes.extend(_normalised_values(con, checked, rules))
    return Verdict(checked, staged.rows + len(staged.malformed), 0, notes=notes)


def _formatted_expectation(rule: Rule, formats: dict[str, tuple[str, ...]]) -> Rule:
    """A date's type rule expects the mapping's formats when it sets them."""
    if rule.column not in formats or rule.rule_id != f"{rule.column}.type":
        return rule
    return replace(
        rule, expected="a date in the mapping's format " + " or ".join(formats[rule.column])
    )


def _keep_earliest(con: duckdb.DuckDBPyConnection, checked: str, table: str, by: str) -> list[str]:
    """Valid rows that repeat the row before them collapse into it: within each value of
    the table's first key column (an opportunity), in `by` order, a row whose other key
    values (the stage) are those of the row before it is the same visit, recorded again
    (an amount change, a second vendor stage of one repradar stage). A stage entered
    again after another one is a new row. The merged rows move to `<checked>_merged` with
    their survivor's row number; they count as loaded, unless the survivor is quarantined
    later (see `restore_merged`)."""
    parent, *others = [k for k in TABLES[table].key if k != by]
    same = " AND ".join(f"{q(c)} IS NOT DISTINCT FROM lag({q(c)}) OVER p" for c in others) or "true"
    order = f"{q(by)} NULLS LAST, _row"
    con.execute(
        f"CREATE TEMP TABLE {checked}_merged AS SELECT * EXCLUDE (_new, _run) FROM ("
        f"SELECT *, first_value(_row) OVER w AS _survivor, row_number() OVER w AS _rank FROM ("
        f"SELECT *, sum(_new) OVER (PARTITION BY {q(parent)} ORDER BY {order} "
        f"ROWS UNBOUNDED PRECEDING) AS _run FROM ("
        f"SELECT *, rowid AS _rid, CASE WHEN row_number() OVER p > 1 AND {same} THEN 0 "
        f"ELSE 1 END AS _new FROM {checked} WHERE len(_errors) = 0 "
        f"WINDOW p AS (PARTITION BY {q(parent)} ORDER BY {order}))) "
        f"WINDOW w AS (PARTITION BY {q(parent)}, _run ORDER BY {order})) WHERE _rank > 1"
    )
    merged = con.execute(
        f"DELETE FROM {checked} WHERE rowid IN (SELECT _rid FROM {checked}_merged)"
    ).fetchone()[0]
    if not merged:
        return []
    return [
        f"{merged:,} row(s) merged into the row before them, the same "
        f"{', '.join(others)} of one {parent} recorded again (keep_earliest: {by})"
    ]


def restore_merged(con: duckdb.DuckDBPyConnection, checked: str, table: str) -> None:
    """Rows merged by keep_earliest into a row that was quarantined afterwards (a missing
    parent, say) are quarantined with it, for the same reasons."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [f"{checked}_merged"]
    ).fetchone()[0]
    if not exists:
        return
    con.execute(
        f"INSERT INTO {checked} BY NAME SELECT m.* EXCLUDE (_rid, _survivor, _rank, _errors), "
        f"s._errors AS _errors FROM {checked}_merged AS m JOIN {checked} AS s "
        f"ON s._row = m._survivor AND s.{q(TABLES[table].key[0])} = m.{q(TABLES[table].key[0])} "
        f"WHERE len(s._errors) > 0"
    )
    con.execute(f"DROP TABLE {checked}_merged")


def check_earlier_files(
    con: duckdb.DuckDBPyConnection, checked: str, table: str, rule: Rule, load_id: str
) -> None:
    """When several files feed one table, a key an earlier file of this load already
    gave is a duplicate: the earlier row stays, this one is quarantined."""
    key = TABLES[table].key
    same_key = " AND ".join(f"r.{q(k)} = {checked}.{q(k)}" for k in key)
    found = (
        "'the same key as row ' || r._source_row || ' of ' || r._source_file || "
        "', loaded earlier in this run'"
    )
    _append_failure(
        con,
        checked,
        rule,
        found,
        f"len(_errors) = 0 AND {same_key} AND r._load_id = {lit(load_id)}",
        source=f"FROM raw.{table} AS r",
    )


def _append_failure(
    con: duckdb.DuckDBPyConnection,
    checked: str,
    rule: Rule,
    found: str,
    where: str,
    source: str = "",
) -> None:
    target = "_warnings" if rule.policy is Policy.WARN else "_errors"
    con.execute(
        f"UPDATE {checked} SET {target} = list_append({target}, "
        f"{{'rule': {lit(rule.rule_id)}, 'policy': {lit(rule.policy)}, "
        f"'col': {lit(rule.column or ', '.join(TABLES[rule.table].key))}, 'found': {found}, "
        f"'expected': {lit(rule.expected)}}}::{FAILURE_TYPE}) {source} WHERE {where}"
    )


def _check_duplicates(con: duckdb.DuckDBPyConnection, checked: str, table: str, rule: Rule) -> None:
    """Among rows that pass the row rules, a key seen twice: exact copies after the first
    are duplicates; rows that share a key but differ are all rejected (which is right is
    unknown)."""
    key = [q(k) for k in TABLES[table].key]
    columns = ", ".join(q(c) for c in TABLES[table].columns)
    dupes = f"{checked}_dupes"
    con.execute(
        f"CREATE TEMP TABLE {dupes} AS "
        f"WITH keys AS (SELECT {', '.join(key)} FROM {checked} WHERE len(_errors) = 0 "
        f"GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT c._row, min(c._row) OVER w AS first_row, "
        f"min(hash({columns})) OVER w <> max(hash({columns})) OVER w AS conflicting, "
        f"string_agg(c._row::VARCHAR, ', ' ORDER BY c._row) OVER w AS all_rows "
        f"FROM {checked} c SEMI JOIN keys USING ({', '.join(key)}) "
        f"WHERE len(c._errors) = 0 "
        f"WINDOW w AS (PARTITION BY {', '.join('c.' + k for k in key)})"
    )
    found = (
        "CASE WHEN d.conflicting THEN 'the same key with different values on rows ' || "
        "d.all_rows ELSE 'an exact copy of row ' || d.first_row END"
    )
    _append_failure(
        con,
        checked,
        rule,
        found,
        f"{checked}._row = d._row AND (d.conflicting OR d._row <> d.first_row)",
        source=f"FROM {dupes} d",
    )
    con.execute(f"DROP TABLE {dupes}")


def _normalised_values(
    con: duckdb.DuckDBPyConnection, checked: str, rules: list[Rule]
) -> list[str]:
    notes = []
    for rule in rules:
        if not (
            rule.expectation == "expect_column_values_to_be_in_set"
            and isinstance(rule.kwargs["value_set"], list)
        ):
            continue
        column = rule.column
        count, example = con.execute(
            f"SELECT count(*), min({q('r__' + column)} || ' -> ' || {q(column)}) FROM {checked} "
            f"WHERE {q(column)} IN ({', '.join(map(lit, rule.kwargs['value_set']))}) "
            f"AND {q('r__' + column)} <> {q(column)}"
        ).fetchone()
        if count:
            notes.append(
                f"{column}: {count} value(s) differed from the canonical spelling only in case "
                f"or spaces and were normalised (e.g. {example})"
            )
    return notes


def check_references(
    con: duckdb.DuckDBPyConnection,
    checked: str,
    rules: list[Rule],
    parent_keys: Callable[[str, str], str | None],
    quarantined_keys: Callable[[str, str], str],
) -> list[str]:
    """Each reference rule: the value must exist in the parent table (already in `raw`,
    or, for a table referencing itself, among this file's good rows). `parent_keys`
    returns SQL selecting the parent's keys, or None when the parent has no rows at all,
    in which case the rule is skipped with a note. `quarantined_keys` selects the parent
    keys quarantined in this load, so a row orphaned by them says so."""
    notes = []
    for rule in rules:
        if rule.references is None:
            continue
        parent, parent_column = rule.references.split(".")
        keys = parent_keys(parent, parent_column)
        if rule.table == parent:
            own = f"SELECT {q(parent_column)} FROM {checked} WHERE len(_errors) = 0"
            keys = own if keys is None else f"{keys} UNION ALL {own}"
        if keys is None:
            notes.append(f"{rule.column} not checked against {parent}: no {parent} loaded yet")
            continue
        column = q(rule.column)
        found = (
            f"{_found(rule.column)} || CASE WHEN {column} IN "
            f"({quarantined_keys(parent, parent_column)}) "
            f"THEN ' (that {parent} row is quarantined in this load)' ELSE '' END"
        )
        _append_failure(
            con,
            checked,
            rule,
            found,
            f"len(_errors) = 0 AND {column} IS NOT NULL AND {column} NOT IN "
            f"(SELECT k FROM ({keys}) AS parent(k) WHERE k IS NOT NULL)",
        )
    return notes


def summarise(
    con: duckdb.DuckDBPyConnection,
    verdict: Verdict,
    rules: list[Rule],
    staged: StagedFile,
    context: Context,
) -> Verdict:
    """Count failures per rule, enforce reject_file policies and the quarantine share."""
    by_rule = {r.rule_id: r for r in rules}
    rows = con.execute(
        f"SELECT f.rule, f.policy, count(*), min(_row), arg_min(f.col, _row), "
        f"arg_min(f.found, _row), arg_min(f.expected, _row) FROM (SELECT _row, "
        f"unnest(list_concat(_errors, _warnings)) AS f FROM {verdict.relation} "
        f"WHERE len(_errors) + len(_warnings) > 0) GROUP BY ALL ORDER BY 4"
    ).fetchall()
    outcomes = []
    for rule_id, policy, failed, row, column, found, expected in rows:
        example = f"row {row}, column {column}: found {found}, expected {expected}"
        outcomes.append(
            RuleOutcome(rule_id, by_rule[rule_id].expectation, column, policy, failed, example)
        )
    rejecting = [r for r in rows if r[1] == Policy.REJECT_FILE]
    if rejecting:
        (rule_id, _, failed, row, column, found, expected), *others = rejecting
        also = "".join(f"; also {o[2]} row(s) fail {o[0]} (first: row {o[3]})" for o in others)
        raise FileRejected(
            file=context.file,
            row=row,
            column=column,
            found=f"{found} ({failed} row(s) fail {rule_id}, whose policy rejects the file{also})",
            expected=expected,
            rule=rule_id,
        )
    if staged.malformed:
        first = staged.malformed[0]
        outcomes.insert(
            0,
            RuleOutcome(
                "file.well_formed",
                "csv_parse",
                None,
                Policy.REJECT_ROW.value,
                len(staged.malformed),
                f"row {first.row}: {first.reason}",
            ),
        )
    quarantined = con.execute(
        f"SELECT count(*) FROM {verdict.relation} WHERE len(_errors) > 0"
    ).fetchone()[0] + len(staged.malformed)
    verdict.rows_quarantined = quarantined
    verdict.outcomes = outcomes
    if verdict.rows_read and quarantined > context.max_quarantine_share * verdict.rows_read:
        first = next(o for o in outcomes if o.policy != Policy.WARN)
        error = FileRejected(
            file=context.file,
            row=None,
            column=None,
            found=f"{quarantined} of {verdict.rows_read} rows failing validation "
            f"(first: {first.example})",
            expected=f"at most {context.max_quarantine_share:.0%} of the rows failing; so "
            "many failures usually mean a wrong date order, delimiter or column mapping",
            rule="file.quarantine_share",
        )
        error.outcomes = outcomes  # every rule's count, for the summary
        raise error
    return verdict
