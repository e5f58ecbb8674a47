"""One ingest run: every export file validated and loaded in a single transaction.

Files load parents first, so references are checked against what is already in `raw`.
If any file is rejected (a missing required column, an unreadable or empty file, a rule
whose policy rejects the file, too many failing rows) the transaction is rolled back:
`raw` and `quarantine` stay exactly as they were, and only the run's log is written.
A run killed part-way never commits, so it leaves the warehouse as it was too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.contract import DATE, TABLES, TIMESTAMP
from pipelines.ingest import project, raw_tables, read, run_checks, validate
from pipelines.ingest.errors import FileRejected
from pipelines.ingest.options import IngestOptions, TableSource
from pipelines.ingest.suites import load_suite, value_sets

# Parents before children: every reference points to a table earlier in this order.
LOAD_ORDER = (
    "hr_employees",
    "crm_users",
    "crm_accounts",
    "crm_account_owner_history",
    "crm_account_team",
    "crm_opportunities",
    "crm_opportunity_stage_history",
    "crm_activities",
    "hr_job_history",
    "hr_compensation",
    "hr_performance_reviews",
    "hr_engagement_surveys",
    "hr_exit_interviews",
    "sales_quotas",
)
EXIT_OK = 0
EXIT_REJECTED = 3


@dataclass(frozen=True)
class IngestRequest:
    source: Path
    warehouse: Path
    reports: Path
    options: IngestOptions = field(default_factory=IngestOptions)
    today: dt.date = field(default_factory=dt.date.today)
    force: bool = False  # validate files again even when their checksum was loaded before


@dataclass
class FileLoad:
    """One file of one run: a row of ops.load_log plus its rule outcomes."""

    table: str
    source_file: str
    checksum: str = ""
    file_bytes: int = 0
    encoding: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    status: str = "loaded"
    message: str = ""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    outcomes: list[validate.RuleOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # contract column -> source
    ignored: list[str] = field(default_factory=list)  # source columns nothing reads
    # column -> each value the mapping does not map -> the value guessed (None: none)
    unknown_values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # notes printed with the file's line


@dataclass
class IngestResult:
    load_id: str
    source: Path
    warehouse: Path
    status: str  # loaded | rejected
    files: list[FileLoad]
    rejections: list[FileRejected]
    missing_tables: list[str]
    ignored_files: list[str]
    report: Path | None = None
    unmatched_files: dict[str, list[str]] = field(default_factory=dict)  # mapped, not found

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.rejections else EXIT_OK


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _already_loaded(
    con: duckdb.DuckDBPyConnection, table: str, source_file: str, checksum: str
) -> str | None:
    """The load that last read this file for this table, when it had the same checksum
    (file and mapping) as now: then nothing has changed since."""
    row = con.execute(
        "SELECT load_id, file_checksum FROM ops.load_log WHERE table_name = ? "
        "AND source_file = ? AND status IN ('loaded', 'unchanged') "
        "ORDER BY started_at DESC LIMIT 1",
        [table, source_file],
    ).fetchone()
    return row[0] if row and row[1] == checksum else None


def _load_checksum(file_sha256: str, source: read.SourceFile, options: IngestOptions) -> str:
    """The file's SHA-256; for a table the mapping configures, combined with how it is
    mapped, so the same file read through a changed mapping is read again."""
    if source.table not in options.tables:
        return file_sha256
    how = repr((source.spec, options.date_order))
    return hashlib.sha256(f"{file_sha256}|{how}".encode()).hexdigest()


def _date_formats(
    table: str, table_source: TableSource, projection: project.Projection
) -> dict[str, tuple[str, ...]]:
    """Each date column's formats: its own mapped formats, else the table's."""
    formats = {}
    for column, kind in TABLES[table].columns.items():
        if kind not in (DATE, TIMESTAMP):
            continue
        own = [f for spec in projection.specs.get(column, []) for f in spec.formats]
        chosen = tuple(dict.fromkeys(own)) or table_source.date_formats
        if chosen:
            formats[column] = chosen
    return formats


def _load_file(
    con: duckdb.DuckDBPyConnection,
    source: read.SourceFile,
    request: IngestRequest,
    load_id: str,
    rejected_tables: set[str],
    earlier_in_run: bool = False,
) -> FileLoad:
    """Validate one file and, unless it is rejected, apply it inside the open transaction
    (`earlier_in_run`: another file already loaded rows into the same table)."""
    table = source.table
    log = FileLoad(table, source.path.name, started_at=_now())
    table_source = source.spec
    fingerprint = read.fingerprint(source, table_source.encoding)
    log.checksum, log.file_bytes, log.encoding = (
        _load_checksum(fingerprint.sha256, source, request.options),
        fingerprint.size,
        fingerprint.encoding,
    )
    earlier = None if request.force else _already_loaded(con, table, source.path.name, log.checksum)
    if earlier is not None:
        log.status = "unchanged"
        log.message = (
            f"same checksum (file and mapping) as the file loaded by {earlier}; nothing read"
        )
        log.finished_at = _now()
        return log
    rules = load_suite(table, request.options.policies)
    staged = read.stage(con, source, fingerprint.encoding, f"stg_{table}")
    try:
        projection = project.project(con, staged, table, table_source, source.path.name)
        log.origins, log.ignored = projection.origins, projection.ignored
        guessed, log.unknown_values = project.check_unknown_values(
            con,
            projection,
            table,
            value_sets(rules),
            source.path.name,
            request.options.unknown_values,
        )
        named = run_checks.resolve_names(
            con, projection.staged.relation, table, projection.by_name, rules
        )
        context = validate.Context(
            file=source.path.name,
            date_order=request.options.date_order,
            today=request.today,
            max_quarantine_share=request.options.max_quarantine_share,
            formats=_date_formats(table, table_source, projection),
            keep_earliest=table_source.keep_earliest,
        )
        verdict = validate.check(con, table, rules, projection.staged, context)
        verdict.notes[:0] = [*projection.notes, *guessed, *named]
        log.warnings = [note.splitlines()[0] for note in guessed]
        if table == "hr_employees":
            log.warnings += run_checks.leavers_without_type(con, verdict.relation)
        if projection.ignored:
            ignored = ", ".join(projection.ignored)
            verdict.notes.append(f"ignored columns not in the contract or the mapping: {ignored}")

        def parent_keys(parent: str, column: str) -> str | None:
            if parent in rejected_tables:
                return None
            return raw_tables.parent_keys_sql(con, parent, column)

        def quarantined_keys(parent: str, column: str) -> str:
            return (
                f"SELECT trim({warehouse.q(column)}) FROM quarantine.{parent} "
                f"WHERE _load_id = {warehouse.lit(load_id)}"
            )

        verdict.notes.extend(
            validate.check_references(con, verdict.relation, rules, parent_keys, quarantined_keys)
        )
        validate.restore_merged(con, verdict.relation, table)
        if earlier_in_run and table_source.fills_gaps:
            verdict.notes.extend(
                run_checks.drop_earlier_keys(con, verdict.relation, table, load_id)
            )
        if earlier_in_run:
            unique = next(r for r in rules if r.rule_id == "key.unique")
            validate.check_earlier_files(con, verdict.relation, table, unique, load_id)
        validate.summarise(con, verdict, rules, staged, context)
        stamp = (load_id, source.path.name, log.started_at)
        malformed = [(m.row, m.reason, m.raw_line) for m in staged.malformed]
        raw_tables.quarantine_rows(con, table, verdict.relation, malformed, stamp)
        log.rows_inserted, log.rows_updated, log.rows_unchanged = raw_tables.upsert(
            con, table, verdict.relation, stamp
        )
        log.rows_read, log.rows_quarantined = verdict.rows_read, verdict.rows_quarantined
        log.rows_loaded = verdict.rows_loaded
        log.outcomes, log.notes = verdict.outcomes, verdict.notes
        log.message = "; ".join(verdict.notes)
    except FileRejected as error:
        error.rows_read = staged.rows + len(staged.malformed)
        error.origins, error.ignored = log.origins, log.ignored
        read.drop_staging(con, staged)
        raise
    read.drop_staging(con, staged)
    log.finished_at = _now()
    return log


def _transaction_aborted(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("SELECT 1")
    except duckdb.TransactionException:
        return True
    return False


def _write_log(
    con: duckdb.DuckDBPyConnection, load_id: str, files: list[FileLoad], status: str, message: str
) -> None:
    if files:
        _write_file_logs(con, load_id, files)
    con.execute(
        "UPDATE ops.ingest_runs SET status = ?, message = ?, finished_at = ? WHERE load_id = ?",
        [status, message, _now(), load_id],
    )


def _write_file_logs(con: duckdb.DuckDBPyConnection, load_id: str, files: list[FileLoad]) -> None:
    con.executemany(
        "INSERT INTO ops.load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                load_id,
                f.table,
                f.source_file,
                f.checksum,
                f.file_bytes,
                f.encoding,
                f.rows_read,
                f.rows_loaded,
                f.rows_quarantined,
                f.rows_inserted,
                f.rows_updated,
                f.rows_unchanged,
                f.status,
                f.message,
                f.started_at,
                f.finished_at,
            ]
            for f in files
        ],
    )
    outcomes = [
        [load_id, f.table, o.rule, o.expectation, o.column, o.policy, o.failed, o.example]
        for f in files
        for o in f.outcomes
    ]
    if outcomes:
        con.executemany(
            "INSERT INTO ops.validation_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)", outcomes
        )


def _mark_rejected(files: list[FileLoad], rejections: list[FileRejected]) -> None:
    rejected = {(r.table, r.file): r for r in rejections}
    names = ", ".join(dict.fromkeys(r.file for r in rejections))
    for f in files:
        if (f.table, f.source_file) in rejected:
            f.status, f.message = "rejected", str(rejected[f.table, f.source_file])
        elif f.status == "loaded":
            f.status = "not_applied"
            f.message = f"valid, but not applied: the run was rejected because of {names}"


def _detached(error: FileRejected) -> FileRejected:
    """The error without its traceback, which holds the closed warehouse connection."""
    error.__cause__ = error.__context__ = None
    return error.with_traceback(None)


def _skippable(source: read.SourceFile, error: FileRejected) -> bool:
    """A file the mapping marks optional that lacks a column the table needs is left
    out of the run (its table stays as it was) rather than rejecting the run."""
    return source.spec.optional and error.rule.endswith(".present")


def _rejected_log(source: read.SourceFile, error: FileRejected) -> FileLoad:
    at = _now()
    return FileLoad(
        source.table,
        source.path.name,
        rows_read=error.rows_read,
        rows_quarantined=error.rows_read,
        status="rejected",
        message=str(error),
        started_at=at,
        finished_at=at,
        origins=error.origins,
        ignored=error.ignored,
        outcomes=error.outcomes,
    )


def run(request: IngestRequest, progress: Callable[[str], None]) -> IngestResult:
    """Validate and load every export in `request.source` in one transaction."""
    with warehouse.exclusive_connection(request.warehouse) as con:
        raw_tables.ensure_schemas(con)
        con.execute(
            "UPDATE ops.ingest_runs SET status = 'interrupted', message = 'the process "
            "stopped before the run finished; nothing of it was applied' WHERE status = 'running'"
        )
        found, ignored, unmatched = read.discover(request.source, request.options)
        load_id = warehouse.new_run_id()
        con.execute(
            "INSERT INTO ops.ingest_runs VALUES (?, ?, ?, NULL, 'running', NULL)",
            [load_id, str(request.source), _now()],
        )
        missing = [t for t in LOAD_ORDER if t not in found]
        files: list[FileLoad] = []
        rejections: list[FileRejected] = []
        con.execute("BEGIN TRANSACTION")
        try:
            for source in (s for table in LOAD_ORDER for s in found.get(table, [])):
                started = time.perf_counter()
                progress(f"  {source.path.name}: validating ...")
                try:
                    rejected_tables = {f.table for f in files if f.status == "rejected"}
                    earlier = any(f.table == source.table for f in files)
                    log = _load_file(con, source, request, load_id, rejected_tables, earlier)
                except FileRejected as error:
                    error.table = source.table
                    log = _rejected_log(source, error)
                    if _skippable(source, error):
                        log.status, log.rows_quarantined = "skipped", 0
                        log.message = f"skipped (optional: true in the mapping): {error}"
                    else:
                        rejections.append(_detached(error))
                files.append(log)
                first, *rest = _file_line(log).split("\n")
                elapsed = time.perf_counter() - started
                progress("\n".join([f"  {first} ({elapsed:.1f} s)", *rest]))
                if rejections and _transaction_aborted(con):
                    break  # a statement failed: nothing more can run in this transaction
        except BaseException:
            con.execute("ROLLBACK")
            con.execute(
                "UPDATE ops.ingest_runs SET status = 'failed', finished_at = ? WHERE load_id = ?",
                [_now(), load_id],
            )
            raise
        if rejections:
            con.execute("ROLLBACK")
            _mark_rejected(files, rejections)
            con.execute("BEGIN TRANSACTION")
            _write_log(con, load_id, files, "rejected", "; ".join(map(str, rejections)))
        else:
            _write_log(con, load_id, files, "loaded", "")
        con.execute("COMMIT")
    status = "rejected" if rejections else "loaded"
    return IngestResult(
        load_id,
        request.source,
        request.warehouse,
        status,
        files,
        rejections,
        missing,
        [p.name for p in ignored],
        unmatched_files=unmatched,
    )


def _file_line(log: FileLoad) -> str:
    if log.status == "unchanged":
        return f"{log.source_file}: unchanged since an earlier load, skipped"
    if log.status == "rejected":
        return f"{log.source_file}: REJECTED - {log.message}"
    if log.status == "skipped":
        return f"{log.source_file}: {log.message}"
    line = (
        f"{log.source_file}: {log.rows_read:,} read, {log.rows_loaded:,} loaded "
        f"({log.rows_inserted:,} new, {log.rows_updated:,} updated, {log.rows_unchanged:,} "
        f"unchanged), {log.rows_quarantined:,} quarantined"
    )
    return "\n".join([line, *(f"    warning: {w}" for w in log.warnings)])
