"""`repradar transform` on DuckDB: dbt build on a copy of the warehouse, swapped in only
when every model and test passed, so a failed run leaves the last good marts in place.

The copy (`scratch_copy_path`) is removed on every way out: a success (renamed over the
warehouse, 0600), a failed build, an error, and a killed run (the next writer removes it
when it takes the lock). A full disk, before or during the build, ends in one `DiskFull`
message naming the directory and the space a build needs. After a successful build the
analyst database is published beside the warehouse (`pipelines.transform.publish`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.erasure import Erasure, apply_erasures, clean_files, rewrite_database
from pipelines.errors import DiskFull, RepradarError
from pipelines.file_modes import PRIVATE_FILE
from pipelines.pseudonyms import pseudonym_key, rekey_history, write_pseudonyms
from pipelines.transform.dbt_invoke import DbtOutcome, NodeOutcome, Progress, invoke
from pipelines.transform.publish import publish_analytics
from pipelines.warehouse import (
    checkpoint,
    connect_for_writing,
    disk_full,
    free_space,
    fsync_directory,
    is_disk_full,
    mentions_disk_full,
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
COPY_CHUNK = 16 * 1024 * 1024


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
    analytics: Path | None = None  # the analyst database published after a DuckDB build
    erasure: Erasure | None = None  # who the build erased (DuckDB builds)
    cleaned_files: list[Path] = field(default_factory=list)  # files cleaned of them

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


def no_room_to_build(warehouse: Path) -> DiskFull:
    """The full-disk error of a build: it needs the size of the warehouse for its copy."""
    return disk_full(
        warehouse.parent,
        warehouse.stat().st_size,
        f"a build (a scratch copy of {warehouse.name}, the size of the warehouse, plus "
        "room for the tables it rebuilds)",
    )


def copy_for_build(warehouse: Path, scratch: Path) -> None:
    """Copy the warehouse to `scratch`, readable by its owner only (0600, whatever mode
    the warehouse was given) and with the warehouse's owner, so the rename over it keeps
    HR data private; DiskFull, before anything is written, when the copy cannot fit."""
    status = warehouse.stat()
    if free_space(warehouse.parent) < status.st_size:
        raise no_room_to_build(warehouse)
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as target, warehouse.open("rb") as source:
        os.fchmod(target.fileno(), PRIVATE_FILE)
        with contextlib.suppress(PermissionError):  # only root can give a file away
            os.fchown(target.fileno(), status.st_uid, status.st_gid)
        shutil.copyfileobj(source, target, COPY_CHUNK)


def ran_out_of_space(result: TransformResult) -> bool:
    """dbt stopped, or a model failed, because the disk was full."""
    messages = [result.error or "", *(node.message for node in result.failed_nodes)]
    return any(mentions_disk_full(message) for message in messages)


def record_failure(
    warehouse: Path, result: TransformResult, started: dt.datetime, progress: Progress | None
) -> None:
    """Log a failed build in the warehouse's ops.transform_runs. Not being able to log it
    (a full disk, another program holding the file) is a warning, never a second error
    that hides the build's own."""
    try:
        _log_run(warehouse, result, started)
    except (duckdb.Error, OSError, RepradarError) as error:
        if progress is not None:
            progress(
                "warning: the failed build is not recorded in ops.transform_runs "
                f"({str(error).splitlines()[0]})"
            )


def _build_on_copy(
    warehouse: Path,
    scratch: Path,
    result_of: Callable[[DbtOutcome], TransformResult],
    *,
    variables: str | None,
    progress: Progress | None,
    prepare: Prepare | None,
    select: list[str] | None,
    started: dt.datetime,
    key: bytes,
    previous_key: bytes | None,
    erase: Callable[[duckdb.DuckDBPyConnection], Erasure],
) -> TransformResult:
    """Build on `scratch` (its pseudonyms written with `key` first) and rename it over the
    warehouse when everything passed; the copy is gone when this returns or raises."""
    try:
        checkpoint(warehouse)
        copy_for_build(warehouse, scratch)
        with connect_for_writing(scratch) as con:
            if previous_key is not None:
                rekey_history(con, previous_key, key)
            erasure = erase(con)
            write_pseudonyms(con, key)
        if prepare is not None:
            prepare(scratch)
        result = result_of(
            invoke(
                ["build", *selection(select)],
                target="duckdb",
                work_dir=work_directory(warehouse),
                environment={settings.WAREHOUSE.name: str(scratch.resolve())},
                variables=variables,
                progress=progress,
            )
        )
        result.erasure = erasure
        if result.success:
            _log_run(scratch, result, started)
            if erasure.total_people:
                rewrite_database(scratch)
            scratch.replace(warehouse)
            fsync_directory(warehouse.parent)
        return result
    finally:
        remove_database(scratch)


def _publish(warehouse: Path) -> Path:
    """The analyst database from the marts just built; DiskFull when it does not fit
    (the warehouse's new marts stand, the last analyst database stays in place)."""
    try:
        return publish_analytics(warehouse, work_directory(warehouse))
    except (OSError, duckdb.Error) as error:
        if is_disk_full(error):
            raise disk_full(
                warehouse.parent, warehouse.stat().st_size, "the analyst database"
            ) from error
        raise


def build_duckdb(
    warehouse: Path,
    *,
    variables: str | None = None,
    progress: Progress | None = None,
    prepare: Prepare | None = None,
    select: list[str] | None = None,
    previous_key: bytes | None = None,
    forget: list[str] | None = None,
) -> TransformResult:
    """dbt build of every model and test into `warehouse`, atomically.

    `prepare` writes into the copy before dbt runs (the scoring step puts its ml tables
    there), so its writes land together with the marts built from them, or not at all.
    `select` limits the build to some nodes (dbt selection syntax). `previous_key` moves
    the stored score and alert history from that pseudonym key to the configured one
    (`repradar pseudonyms rotate`), in the same copy. Every build erases, on the copy,
    the people `forget` names (`repradar forget`), the leavers past
    $REPRADAR_RETENTION_MONTHS and forgotten people a later export brought back
    (`pipelines.erasure`), and cleans the files beside the warehouse once it stands.
    Raises DiskFull when the disk cannot hold the build (the failed run is recorded when
    there is room), and
    UsageError when no pseudonym key is configured or it is not the warehouse's.
    """
    check_raw_data(warehouse)
    key = pseudonym_key(warehouse)
    retention_months = settings.whole_number(settings.RETENTION_MONTHS)
    run_id = new_run_id()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    clock = time.perf_counter()

    def result_of(outcome: DbtOutcome) -> TransformResult:
        return TransformResult.from_outcome(
            outcome,
            run_id=run_id,
            target="duckdb",
            warehouse=warehouse,
            seconds=time.perf_counter() - clock,
        )

    with writer_lock(warehouse):  # which removes a copy a killed build left
        try:
            result = _build_on_copy(
                warehouse,
                scratch_copy_path(warehouse),
                result_of,
                variables=variables,
                progress=progress,
                prepare=prepare,
                select=select,
                started=started,
                key=key,
                previous_key=previous_key,
                erase=lambda con: apply_erasures(
                    con, key, requested=forget or [], retention_months=retention_months
                ),
            )
        except (OSError, duckdb.Error) as error:
            if is_disk_full(error):
                raise no_room_to_build(warehouse) from error
            raise
        if not result.success:
            record_failure(warehouse, result, started, progress)
            if ran_out_of_space(result):
                raise no_room_to_build(warehouse)
        else:
            result.analytics = _publish(warehouse)
            if result.erasure is not None and result.erasure.total_people:
                result.cleaned_files = clean_files(
                    warehouse,
                    result.erasure,
                    [
                        warehouse.parent / "outbox",
                        warehouse.parent / "reports",
                        work_directory(warehouse),
                    ],
                )
    result.seconds = time.perf_counter() - clock
    return result
