"""Prefect flow `ingest`: validate and load exports, write the report, publish a summary.

A rejected load fails the flow run (raising `IngestRejected`, which carries the result),
so a scheduled run that changed nothing shows up red in Prefect.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from pipelines.file_modes import keep_files_private
from pipelines.ingest import IngestRequest, IngestResult, markdown_summary, report
from pipelines.ingest.load import run
from pipelines.ingest.options import IngestOptions, read_mapping
from pipelines.warehouse import resolve_warehouse


class IngestRejected(Exception):
    """The load was rejected by validation; nothing changed in the warehouse."""

    def __init__(self, result: IngestResult) -> None:
        self.result = result
        super().__init__("; ".join(str(r) for r in result.rejections))

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        """Unpickled (a Prefect result read back) from its result, not its message."""
        return (type(self), (self.result,))


@task(name="validate-and-load")
def validate_and_load(request: IngestRequest) -> IngestResult:
    return run(request, progress=get_run_logger().info)


@task(name="write-validation-report")
def write_validation_report(result: IngestResult, directory: Path) -> Path:
    return report.write(result, directory)


@flow(name="ingest")
def ingest_flow(
    source: str,
    warehouse: str | None = None,
    mapping: str | None = None,
    reports: str | None = None,
    force: bool = False,
) -> IngestResult:
    """Validate the exports in `source` and load them into the warehouse's raw schema."""
    keep_files_private()
    target = resolve_warehouse(Path(warehouse) if warehouse else None)
    request = IngestRequest(
        source=Path(source),
        warehouse=target,
        reports=Path(reports) if reports else target.parent / "reports" / "validation",
        options=read_mapping(Path(mapping)) if mapping else IngestOptions(),
        force=force,
    )
    result = validate_and_load(request)
    result.report = write_validation_report(result, request.reports)
    create_markdown_artifact(
        key="ingest-load-summary",
        markdown=markdown_summary(result),
        description=f"load {result.load_id}: {result.status}",
    )
    if result.rejections:
        raise IngestRejected(result)
    return result
