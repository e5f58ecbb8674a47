"""`repradar run` (the daily flow once), `repradar demo` (every step on a simulated
company) and `repradar serve` (the schedules). `demo` and `run` go through the same step
sequence, `pipelines.steps.run_steps`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from pipelines.cli.common import (
    MappingOption,
    WarehouseOption,
    check_mapping,
    echo_lines,
    errors_exit,
    parse_as_of,
    require_directory,
    say,
)
from pipelines.cli.output import (
    print_alerts,
    print_kpis,
    print_scores,
    print_training,
    print_transform,
    query_hint,
)
from pipelines.errors import EXIT_UNDELIVERED


def run_command(
    source: Annotated[
        Path, typer.Option(help="Directory of the day's export files (as for `ingest`).")
    ],
    warehouse: WarehouseOption = None,
    mapping: MappingOption = None,
) -> None:
    """Run the `daily` flow once, as the schedule would: ingest -> transform -> train (when
    no model exists or it is 30 days old) -> score -> alerts. A Prefect flow run (uses
    $PREFECT_API_URL, else a temporary local server). With only CRM or only HR exports the
    run still succeeds; it says which marts are empty and which steps it skipped, and why."""
    require_directory(source, "--source")
    check_mapping(mapping)
    from pipelines.flows.operations import daily_flow
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    state = daily_flow(source=str(source), warehouse=str(path), mapping=mapping, return_state=True)
    if state.is_failed():
        say(f"error: the daily run failed: {state.message}")
        say(f"the marts and scores of the last good run in {path} are unchanged")
        raise typer.Exit(1)
    result = state.result()
    echo_lines(result.notes)  # what a partial load left empty, steps skipped and why
    print_alerts(result.alerts)
    typer.echo(f"warehouse: {path}")
    if result.alerts.failed:
        raise typer.Exit(EXIT_UNDELIVERED)


class DemoPrinter:
    """Prints each step of the demo as it finishes: the load summary, what dbt built and
    the headline KPIs, the backtest and risk by team, what the alerts run did."""

    def __init__(self, exports: Path, warehouse: Path, summary: dict) -> None:
        self.exports = exports
        self.warehouse = warehouse
        self.summary = summary
        self.loaded: Any = None
        self.trained: Any = None

    def __call__(self, step: str, result: Any) -> None:
        getattr(self, f"after_{step}")(result)

    def after_ingest(self, loaded: Any) -> None:
        from pipelines.ingest import summary_lines

        self.loaded = loaded
        summary = self.summary
        typer.echo("")
        typer.echo("repradar demo")
        typer.echo(
            f"  exports:      {self.exports}/  ({sum(summary['rows'].values()):,} rows in "
            f"{len(summary['rows'])} tables)"
        )
        typer.echo(f"  ground truth: {self.exports}/_truth/summary.json")
        typer.echo(
            f"  simulated voluntary attrition {summary['annual_voluntary_attrition']:.1%} a "
            f"year; {summary['revenue_lost_on_departure']['all_accounts']:.1%} of a leaver's "
            "revenue lost"
        )
        if loaded.rejections:
            echo_lines(summary_lines(loaded), "  ")
        else:
            say("building the marts (dbt build) ...")

    def after_transform(self, built: Any) -> None:
        from pipelines.ingest import summary_lines

        if not built.success:
            print_transform(built)
            return
        typer.echo(
            f"  warehouse:    {self.warehouse}  (schemas raw, quarantine, ops, staging, "
            "intermediate, marts, restricted)"
        )
        typer.echo(f"  validation:   {self.loaded.report}")
        typer.echo("")
        typer.echo("Load summary:")
        echo_lines(summary_lines(self.loaded), "  ")
        typer.echo("")
        print_transform(built)
        print_kpis(self.warehouse)
        typer.echo(f"Analysts query the marts: {query_hint(self.warehouse)}")
        typer.echo("")
        say("training the models (rolling-origin backtest) ...")

    def after_train(self, trained: Any) -> None:
        self.trained = trained
        say("scoring the latest month ...")

    def after_score(self, scored: Any) -> None:
        from pipelines.steps import Skipped

        if isinstance(scored, Skipped):
            typer.echo(str(scored))
            return
        if not scored.success:
            print_transform(scored.build)
            return
        typer.echo("Attrition model:")
        if isinstance(self.trained, Skipped):
            typer.echo(str(self.trained))
        else:
            print_training(self.trained)
        typer.echo("")
        print_scores(scored.scores, self.warehouse)
        typer.echo("")
        say("writing the leadership report ...")

    def after_report(self, _report: Any) -> None:
        say("drafting and delivering HR alerts ...")

    def after_alerts(self, alerts: Any) -> None:
        print_alerts(alerts)


def demo_command(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo lives.")] = Path(
        "data/demo"
    ),
    seed: Annotated[int, typer.Option(help="Random seed of the simulated company.")] = 42,
) -> None:
    """Generate a company under data/demo/ and run every pipeline step: ingest,
    transform, train (with its backtest), score, the leadership report and HR alerts.

    The warehouse (data/demo/warehouse.duckdb), the models (data/demo/models/) and the
    outbox (data/demo/outbox/) are rebuilt from scratch on every run.
    """
    from models_ml.train import TrainResult
    from pipelines.alerts.channels import FileChannel
    from pipelines.alerts.run import outbox_directory
    from pipelines.generate import GenerateRequest, generate
    from pipelines.pseudonyms import write_demo_key
    from pipelines.steps import PipelineRequest, StepFailed, Steps, run_steps
    from pipelines.transform.publish import analytics_path
    from pipelines.warehouse import remove_database

    exports = directory / "exports"
    summary = generate(GenerateRequest(out=exports, seed=seed, as_of=parse_as_of(None)), say)
    warehouse = directory / "warehouse.duckdb"
    remove_database(warehouse)
    write_demo_key(warehouse)  # a new secret per demo, used unless one is configured
    shutil.rmtree(directory / "models", ignore_errors=True)
    shutil.rmtree(directory / "outbox", ignore_errors=True)
    say("ingesting the exports ...")
    request = PipelineRequest(
        source=exports,
        warehouse=warehouse,
        reports=directory / "reports" / "validation",
        report=True,
        # simulated people: only ever to the demo's own file outbox, whatever is configured
        channels=[FileChannel(outbox_directory(warehouse, "hr"))],
    )
    printer = DemoPrinter(exports, warehouse, summary)
    with errors_exit():
        try:
            run = run_steps(request, Steps(say), on_step=printer)
        except StepFailed as failed:  # the printer has said what failed
            raise typer.Exit(failed.exit_code) from failed
    typer.echo("")
    typer.echo("Results:")
    typer.echo(f"  warehouse:  {warehouse}")
    typer.echo(f"  analysts:   {analytics_path(warehouse)}")
    if run.report is not None:
        typer.echo(f"  report:     {run.report.html}")
        typer.echo(f"              {run.report.pdf}")
    alerts = run.alerts
    typer.echo(f"  HR outbox:  {alerts.outbox_directory or ', '.join(alerts.channels)}")
    if isinstance(run.train, TrainResult):
        typer.echo(f"  model card: {run.train.card_path}")
    typer.echo(
        f"Next: `repradar alerts list --warehouse {warehouse}`; `repradar serve` runs the "
        "schedules (README: Schedules)."
    )


def serve_command(
    deployments: Annotated[
        Path,
        typer.Option(
            "--deployments", help="The prefect.yaml whose deployments and schedules to serve."
        ),
    ] = Path("prefect.yaml"),
) -> None:
    """Run the schedules of prefect.yaml (daily, weekly_report) in this process until
    stopped (Ctrl-C). Needs a Prefect API: `prefect server start` in another terminal and
    PREFECT_API_URL=http://127.0.0.1:4200/api (see README for a production setup with a
    work pool and a process worker)."""
    from pipelines.flows.schedules import serve_deployments

    with errors_exit():
        serve_deployments(deployments, progress=say)
