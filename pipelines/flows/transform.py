"""Prefect flow `transform`: dbt build of the marts, then a summary artifact.

A failed build fails the flow run (raising `TransformFailed`, which carries the result);
the warehouse keeps the marts of the last good build.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from pipelines.file_modes import keep_files_private
from pipelines.transform import TransformResult, build_duckdb, format_kpis, headline_kpis
from pipelines.transform.gaps import data_gaps
from pipelines.transform.spark import build_spark
from pipelines.warehouse import resolve_warehouse


class TransformFailed(Exception):
    """dbt build failed; the previous marts are still in place."""

    def __init__(self, result: TransformResult) -> None:
        self.result = result
        super().__init__("; ".join(result.problems()) or "dbt build failed")

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        """Unpickled (a Prefect result read back) from its result, not its message."""
        return (type(self), (self.result,))


@task(name="dbt-build")
def dbt_build(warehouse: Path, target: str) -> TransformResult:
    log = get_run_logger().info
    if target == "spark":
        return build_spark(warehouse, progress=log)
    return build_duckdb(warehouse, progress=log)


def markdown_summary(result: TransformResult, kpis: list[str], gaps: list[str]) -> str:
    lines = [
        f"# transform {result.run_id} ({result.target}): "
        f"{'success' if result.success else 'FAILED'}",
        "",
        f"{result.models} models, {result.tests} tests, {len(result.failed_nodes)} failed, "
        f"{result.seconds:.1f} s.",
    ]
    if result.problems():
        lines += ["", "## Problems", "", *(f"- {p}" for p in result.problems())]
    if gaps:
        lines += ["", "## Partial data", "", *(f"- {gap}" for gap in gaps)]
    if kpis:
        lines += ["", "## Headline KPIs", "", *(f"- {k}" for k in kpis)]
    return "\n".join(lines)


@flow(name="transform")
def transform_flow(warehouse: str | None = None, target: str = "duckdb") -> TransformResult:
    """Build the KPI marts with dbt (`dbt build`: models, data tests and unit tests), and
    say which marts a partial load left empty, and why."""
    keep_files_private()
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    result = dbt_build(path, target)
    gaps = data_gaps(path)
    for gap in gaps:
        get_run_logger().info(f"partial data: {gap}")
    kpis = format_kpis(headline_kpis(path)) if result.success and target == "duckdb" else []
    create_markdown_artifact(
        key="transform-summary",
        markdown=markdown_summary(result, kpis, gaps),
        description=f"transform {result.run_id}: {'success' if result.success else 'failed'}",
    )
    if not result.success:
        raise TransformFailed(result)
    return result
