"""Run dbt in-process against the project in dbt_project/, with progress per node."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.file_modes import private_directory

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class NodeOutcome:
    """One model, test or unit test that dbt ran."""

    name: str
    kind: str  # model, test, unit_test, seed, ...
    status: str  # success, pass, error, fail, warn, skipped
    message: str
    failures: int
    seconds: float

    @property
    def failed(self) -> bool:
        return self.status in ("error", "fail", "runtime error")


@dataclass
class DbtOutcome:
    """What a dbt command did: every node's outcome, or the error that stopped it."""

    success: bool
    nodes: list[NodeOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def failed_nodes(self) -> list[NodeOutcome]:
        return [node for node in self.nodes if node.failed]


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


DBT_CONSOLE_LOGGER = "stdout_log"  # the Python logger dbt's console lines go through


def _is_not_a_traceback(record: logging.LogRecord) -> bool:
    return "Traceback (most recent call last)" not in record.getMessage()


@contextlib.contextmanager
def _no_tracebacks_on_console() -> Iterator[None]:
    """Keep stack traces off the console while dbt runs: dbt prints one for an error it
    did not expect (a full disk), and Python's logging one per line of a log file that
    cannot be written. The outcome carries the error in one line; dbt.log keeps the
    stack trace when it can be written."""
    console = logging.getLogger(DBT_CONSOLE_LOGGER)
    saved = logging.raiseExceptions
    logging.raiseExceptions = False
    console.addFilter(_is_not_a_traceback)
    try:
        yield
    finally:
        console.removeFilter(_is_not_a_traceback)
        logging.raiseExceptions = saved


def _progress_callback(progress: Progress) -> Callable[[object], None]:
    """A dbt event callback reporting each model built and each test that did not pass.
    It must never raise: an exception in a callback fails the node it reports on."""

    def report(event: object) -> None:
        try:
            if event.info.name != "NodeFinished":  # type: ignore[attr-defined]
                return
            node = event.data.node_info  # type: ignore[attr-defined]
            result = event.data.run_result  # type: ignore[attr-defined]
            if node.resource_type != "model" and result.status in ("pass", "success", "no-op"):
                return
            progress(
                f"  {result.status:<7} {node.resource_type:<9} {node.node_name} "
                f"({result.execution_time:.1f} s)"
            )
        except Exception:  # progress is best effort
            return

    return report


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open between invocations.

    dbt-duckdb caches it in a class attribute and reuses it when the next invocation in
    this process has the same credentials, even when the file at that path has since
    been swapped (the atomic build renames its copy over the warehouse): the next build
    would then write into the old file. Closing it after every invocation prevents that
    and releases the file.
    """
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    with manager._LOCK:
        if manager._ENV is not None:
            with contextlib.suppress(Exception):
                manager._ENV.close()
            manager._ENV = None


def invoke(
    args: list[str],
    *,
    target: str,
    work_dir: Path,
    environment: dict[str, str],
    variables: str | None = None,
    progress: Progress | None = None,
) -> DbtOutcome:
    """Run `dbt <args>` on the project for `target`, keeping dbt's target/ and logs/
    under work_dir. `environment` is visible to the profile's env_var() calls."""
    from dbt.cli.main import dbtRunner

    private_directory(work_dir)  # compiled SQL, manifests and logs describe people data
    command = [
        *args,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target", target,
        "--target-path", str(work_dir.resolve() / "target"),
        "--log-path", str(work_dir.resolve() / "logs"),
        "--quiet",
        "--no-use-colors",
    ]  # fmt: skip
    if variables:
        command += ["--vars", variables]
    callbacks = [_progress_callback(progress)] if progress else []
    with _environment(environment), _no_tracebacks_on_console():
        try:
            result = dbtRunner(callbacks=callbacks).invoke(command)
        finally:
            _release_duckdb()
    nodes = [
        NodeOutcome(
            name=run.node.name,
            kind=str(run.node.resource_type),
            status=str(run.status),
            message=run.message or "",
            failures=run.failures or 0,
            seconds=run.execution_time,
        )
        for run in getattr(result.result, "results", None) or []
    ]
    error = str(result.exception) if result.exception else None
    return DbtOutcome(success=bool(result.success), nodes=nodes, error=error)
