"""`repradar transform` on DuckDB: dbt build on a copy of the warehouse, swapped in only
when every model and test passed, so a failed run leaves the last good marts in place."""

from __future__ import annotations

import datetime as dt
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.ingest.warehouse import connect_for_writing, writer_lock
from pipelines.transform.dbt_invoke import DbtOutcome, NodeOutcome, Progress, invoke

RUNS_TABLE = """CREATE TABLE IF NOT EXISTS ops.transform_runs (run_id VARCHAR,
    target VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
    models BIGINT, tests BIGINT, failed BIGINT, message VARCHAR)"""


class TransformError(Exception):
    """The transform cannot start (no warehouse, no raw data)."""


@dataclass
class TransformResult:
    run_id: str
    target: str
    warehouse: Path
    success: bool
    seconds: float
    nodes: list[NodeOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def failed_nodes(self) -> list[NodeOutcome]:
        return [node for node in self.nodes if node.failed]

    @property
    def exit_code(self) -> int:
        return 0 if self.success else 1

    def problems(self) -> list[str]:
        """One line per failed model or test, then dbt's own error if it stopped early."""
        lines = [
            f"{node.kind} {node.name}: {node.status}"
            + (f" ({node.failures} failing rows)" if node.failures else "")
            + (f" - {node.message.splitlines()[0]}" if node.message else "")
            for node in self.failed_nodes
        ]
        if self.error:
            lines.append(self.error)
        return lines


def work_directory(warehouse: Path) -> Path:
    """Where dbt keeps its target/ and logs/ for this warehouse (DuckDB target)."""
    return warehouse.parent / "dbt"


def check_raw_data(warehouse: Path) -> None:
    if not warehouse.exists():
        raise TransformError(f"{warehouse} does not exist; run `repradar ingest` first")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchone()[0]
    if not loaded:
        raise TransformError(f"{warehouse} has no raw data; run `repradar ingest` first")


def _checkpoint(warehouse: Path) -> None:
    """Fold the write-ahead log into the file so a copy of the file is complete."""
    con = connect_for_writing(warehouse)
    try:
        con.execute("CHECKPOINT")
        con.execute(RUNS_TABLE)
    finally:
        con.close()


def _remove(path: Path) -> None:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)


def _log_run(warehouse: Path, result: TransformResult, started: dt.datetime) -> None:
    con = connect_for_writing(warehouse)
    try:
        con.execute(RUNS_TABLE)
        con.execute(
            "INSERT INTO ops.transform_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result.run_id,
                result.target,
                started,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                "success" if result.success else "failed",
                sum(1 for n in result.nodes if n.kind == "model"),
                sum(1 for n in result.nodes if n.kind in ("test", "unit_test")),
                len(result.failed_nodes),
                "; ".join(result.problems())[:4000] or None,
            ],
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


def build_duckdb(
    warehouse: Path,
    *,
    variables: str | None = None,
    progress: Progress | None = None,
) -> TransformResult:
    """dbt build of every model and test into `warehouse`, atomically."""
    check_raw_data(warehouse)
    run_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:4]}"
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    clock = time.perf_counter()
    with writer_lock(warehouse):
        _checkpoint(warehouse)
        scratch = warehouse.with_name(f".{warehouse.name}.building")
        _remove(scratch)
        shutil.copyfile(warehouse, scratch)
        try:
            outcome: DbtOutcome = invoke(
                ["build"],
                target="duckdb",
                work_dir=work_directory(warehouse),
                environment={"REPRADAR_WAREHOUSE": str(scratch.resolve())},
                variables=variables,
                progress=progress,
            )
            result = TransformResult(
                run_id=run_id,
                target="duckdb",
                warehouse=warehouse,
                success=outcome.success and not outcome.failed_nodes,
                seconds=time.perf_counter() - clock,
                nodes=outcome.nodes,
                error=outcome.error,
            )
            if result.success:
                _log_run(scratch, result, started)
                scratch.replace(warehouse)
            else:
                _log_run(warehouse, result, started)
        finally:
            _remove(scratch)
    result.seconds = time.perf_counter() - clock
    return result
