"""`repradar report`: the leadership report, HTML and PDF, optionally delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import WarehouseOption, errors_exit, say
from pipelines.cli.output import print_alerts, print_report
from pipelines.errors import EXIT_UNDELIVERED


def report_command(
    warehouse: WarehouseOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the HTML and PDF. Default: reports/leadership/ next to the "
            "warehouse.",
            show_default=False,
        ),
    ] = None,
    deliver: Annotated[
        bool,
        typer.Option(
            "--deliver",
            help="Also send it to the leadership list ($REPRADAR_REPORT_URLS or "
            "$REPRADAR_REPORT_BLOCKS; else the file outbox), as the weekly run does.",
        ),
    ] = False,
    prefect: Annotated[
        bool,
        typer.Option(
            "--prefect",
            help="Run as a Prefect flow run (flow `report`, or `weekly_report` with --deliver).",
        ),
    ] = False,
) -> None:
    """Write the leadership report: one self-contained HTML file and a PDF.

    Headline KPIs against the prior 3 months, funnel and the stage with the biggest drop,
    cycle-length trend, quota attainment, 20/80 concentration, headcount and attrition,
    exit reasons, expected exits and revenue at risk by team, the largest single-threaded
    accounts, and recommended actions. Read from the analyst database beside the
    warehouse (analytics.duckdb), never from the HR warehouse: aggregates only, no names,
    counts under 5 people suppressed, risk by team in bands.
    """
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    result, delivered = None, None
    with errors_exit():
        if prefect and deliver:
            from pipelines.flows.operations import weekly_report
            from pipelines.report import default_report_directory

            # a failed run re-raises its error
            delivered = weekly_report(warehouse=str(path), out=str(out) if out else None)
            typer.echo(f"report written to {out or default_report_directory(path)}/")
        elif prefect:
            from pipelines.flows.operations import report_flow

            result = report_flow(warehouse=str(path), out=str(out) if out else None)
        else:
            from pipelines.alerts.run import send_report, utc_now
            from pipelines.report.build import build_report, report_delivery

            result = build_report(path, out, progress=say)
            if deliver:
                delivered = send_report(path, report_delivery(result, utc_now()))
    if result is not None:
        print_report(result)
        for section in result.content.sections:  # a partial load: what it could not show
            if section.missing:
                typer.echo(f"report section skipped: {section.title} ({section.missing})")
    if delivered is not None:
        print_alerts(delivered)
        if delivered.failed:
            raise typer.Exit(EXIT_UNDELIVERED)
