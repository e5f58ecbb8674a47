"""`repradar transform` on DuckDB: dbt build on a copy of the warehouse, swapped in only
when every model and test passed, so a failed run leaves the last good marts in place."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import settings
from pipelines.errors import RepradarError
from pipelines.transform.dbt_invoke import DbtOutcome, NodeOutcome, Progress, invoke
from pipelines.warehouse import (
    checkpoint,
    connect_for_writing,
    new_run_id,
    read_only,
    remove_database,
    scratch_copy_path,
    writer_lock,
)

RUNS_TABLE = """CREATE TABLE IF NOT EXISTS ops.transform_runs (run_id VARCHAR,
    target VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
    models BIGINT, tests BIGINT, failed BIGINT, message VARCHAR)"""


RISK_SCORES_TAG = "risk_scores"  # models over the ml schema, built once scores exist
Prepare = Callable[[Path], None]


class TransformError(RepradarError):
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

    @classmethod
    def from_outcome(
        cls, outcome: DbtOutcome, *, run_id: str, target: str, warehouse: Path, seconds: float
    ) -> TransformResult:
        """A dbt build succeeded when dbt says so and no model or test failed."""
        return cls(
            run_id=run_id,
            target=target,
            warehouse=warehouse,
            success=outcome.success and not outcome.failed_nodes,
            seconds=seconds,
            nodes=outcome.nodes,
            error=outcome.error,
        )

    @property
    def failed_nodes(self) -> list[NodeOutcome]:
        return [node for node in self.nodes if node.failed]

    @property
    def models(self) -> int:
        return sum(1 for node in self.nodes if node.kind == "model")

    @property
    def tests(self) -> int:
        """Data tests and unit tests."""
        return sum(1 for node in self.nodes if node.kind in ("test", "unit_test"))

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
    with read_only(warehouse) as con:
        loaded = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchone()[0]
    if not loaded:
        raise TransformError(f"{warehouse} has no raw data; run `repradar ingest` first")


def selection(select: list[str] | None) -> list[str]:
    """dbt node selection: `select` if given; else everything but the risk models, which
    only `repradar score` builds (with the scores they are made of), so a transform never
    fails on, or changes, the last scoring's marts."""
    if select:
        return ["--select", *select]
    return ["--exclude", f"tag:{RISK_SCORES_TAG}"]


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
                result.models,
                result.tests,
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
    prepare: Prepare | None = None,
    select: list[str] | None = None,
) -> TransformResult:
    """dbt build of every model and test into `warehouse`, atomically.

    `prepare` writes into the copy before dbt runs (the scoring step puts its ml tables
    there), so its writes land together with the marts built from them, or not at all.
    `select` limits the build to some nodes (dbt selection syntax).
    """
    check_raw_data(warehouse)
    run_id = new_run_id()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    clock = time.perf_counter()
    with writer_lock(warehouse):
        checkpoint(warehouse)
        scratch = scratch_copy_path(warehouse)
        remove_database(scratch)
        shutil.copyfile(warehouse, scratch)
        try:
            if prepare is not None:
                prepare(scratch)
            outcome: DbtOutcome = invoke(
                ["build", *selection(select)],
                target="duckdb",
                work_dir=work_directory(warehouse),
                environment={settings.WAREHOUSE.name: str(scratch.resolve())},
                variables=variables,
                progress=progress,
            )
            result = TransformResult.from_outcome(
                outcome,
                run_id=run_id,
                target="duckdb",
                warehouse=warehouse,
                seconds=time.perf_counter() - clock,
            )
            if result.success:
                _log_run(scratch, result, started)
                scratch.replace(warehouse)
            else:
                _log_run(warehouse, result, started)
        finally:
            remove_database(scratch)
    result.seconds = time.perf_counter() - clock
    return result
