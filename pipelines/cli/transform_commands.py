"""`repradar transform` (dbt build of the marts) and `repradar docs` (the catalog)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.cli.common import (
    PrefectOption,
    Target,
    WarehouseOption,
    errors_exit,
    flow_result,
    say,
)
from pipelines.cli.output import print_kpis, print_transform, query_hint

if TYPE_CHECKING:
    from pipelines.transform.build import TransformResult


def _transform_under_prefect(warehouse: Path, target: Target) -> TransformResult:
    from pipelines.flows.transform import TransformFailed, transform_flow

    state = transform_flow(warehouse=str(warehouse), target=target.value, return_state=True)
    return flow_result(state, TransformFailed)


def transform_command(
    target: Annotated[
        Target,
        typer.Option(
            help="duckdb builds the marts into the warehouse file; spark hands the raw "
            "tables to a local Spark session (as Parquet) and builds the same project there "
            "(needs the `spark` extra)."
        ),
    ] = Target.duckdb,
    warehouse: WarehouseOption = None,
    prefect: PrefectOption = False,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            metavar="SELECTOR",
            help="spark only: build just these dbt nodes (dbt selection syntax, e.g. "
            "+mart_sales_cycle) and the tests whose parents are all selected. Repeatable.",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SELECTOR",
            help="spark only: leave out these dbt nodes (e.g. resource_type:test). Repeatable.",
        ),
    ] = None,
) -> None:
    """Build the KPI marts: `dbt build` of staging, intermediate and mart models with
    every data test and unit test.

    On DuckDB the build runs on a copy of the warehouse that replaces it only when
    everything passed, so a failed build leaves the last good marts in place (exit 1);
    it is always whole, since the analyst database is published from it. Prints headline
    KPIs and how to query the marts.
    """
    from pipelines.errors import UsageError
    from pipelines.transform.gaps import data_gaps
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    with errors_exit():
        if (select or exclude) and (target is not Target.spark or prefect):
            raise UsageError(
                "--select and --exclude are for `--target spark` without --prefect: a DuckDB "
                "build is always whole (the analyst database is published from it)"
            )
        if prefect:
            result = _transform_under_prefect(path, target)
        elif target is Target.spark:
            from pipelines.transform.spark import build_spark

            result = build_spark(path, select=select, exclude=exclude, progress=say)
        else:
            from pipelines.transform.build import build_duckdb

            result = build_duckdb(path, progress=say)
    print_transform(result)
    if not result.success:
        raise typer.Exit(result.exit_code)
    for gap in data_gaps(path):
        typer.echo(f"partial data: {gap}")
    if target is Target.duckdb:
        typer.echo("")
        print_kpis(path)
        typer.echo("")
        typer.echo(f"Analysts query the marts: {query_hint(path)}")
    else:
        typer.echo(f"Spark tables: {result.warehouse}")


def docs_command(
    warehouse: WarehouseOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the catalog. Default: docs/ next to the warehouse.",
            show_default=False,
        ),
    ] = None,
    analysts: Annotated[
        bool,
        typer.Option(
            "--analysts",
            help="Document the analyst database instead (analytics.html: its tables and "
            "columns only, readable by the owner's group).",
        ),
    ] = False,
) -> None:
    """Generate the dbt docs catalog of every model and column of the HR warehouse: one
    self-contained HTML page (open it in a browser, no server needed) plus manifest.json
    and catalog.json. With --analysts, the catalog of the analyst database instead."""
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    with errors_exit():
        if analysts:
            from pipelines.transform.analytics_docs import write_analytics_docs

            page = write_analytics_docs(path, out or path.parent / "docs")
        else:
            from pipelines.transform.docs import generate_docs

            page = generate_docs(path, out or path.parent / "docs")
    typer.echo(f"docs: {page}")
