"""`repradar`: the one command line of the product. Every subcommand has --help.

Exit codes: 0 success, 1 failure with a message, 2 usage error, 3 input rejected by
validation (nothing changed), 4 the warehouse is busy (another run holds it), 5 some
alerts could not be delivered (kept pending, retried on the next run).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

# People data: no usage telemetry from the temporary Prefect server unless asked for (it
# also races the server's SQLite file: "database is locked"). Set before Prefect loads.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from models_ml.score import ScoreResult, ScoringError, score
from models_ml.store import UntrustedModelFile
from models_ml.summary import backtest_lines, format_risk_by_team, risk_by_team, score_lines
from models_ml.train import TrainingError, TrainResult, train
from pipelines.alerts.channels import ChannelConfigError, FileChannel
from pipelines.alerts.outbox import UnknownAlert
from pipelines.alerts.run import (
    AlertsError,
    DeliveryResult,
    acknowledge_alert,
    list_outbox,
    outbox_directory,
    send_alerts,
    send_report,
    utc_now,
)
from pipelines.flows.schedules import DeploymentsError
from pipelines.generate import GenerateRequest, generate
from pipelines.generate.calendar import end_of_previous_month
from pipelines.ingest import IngestRequest, IngestResult, ingest, summary_lines
from pipelines.ingest.errors import WarehouseBusy
from pipelines.ingest.options import IngestOptions, MappingError, read_mapping
from pipelines.ingest.read import SourceError
from pipelines.ingest.warehouse import remove_database, resolve_warehouse
from pipelines.mapping_commands import mapping_app
from pipelines.report import (
    ReportDataError,
    ReportResult,
    build_report,
    default_report_directory,
)
from pipelines.report.build import report_delivery
from pipelines.transform import (
    TransformError,
    TransformResult,
    build_duckdb,
    format_kpis,
    headline_kpis,
)
from pipelines.transform.docs import generate_docs

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State

app = typer.Typer(
    name="repradar",
    help=(
        "repradar turns CRM and HR exports into KPI marts, a leadership report and an "
        "attrition early warning for sales teams."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Target(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


EXIT_BUSY = 4
EXIT_UNDELIVERED = 5


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _parse_as_of(value: str | None) -> dt.date:
    if value is None:
        return end_of_previous_month(dt.date.today())
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"expected a date like 2026-10-31, got {value!r}") from error


@app.command("generate")
def generate_command(
    out: Annotated[
        Path,
        typer.Option(
            help="Directory to write the exports into (created if "
            "missing). Ground truth goes to OUT/_truth/."
        ),
    ],
    reps: Annotated[
        int,
        typer.Option(
            min=6, help="Account executives at the start (teams of 6-10 under a manager)."
        ),
    ] = 150,
    months: Annotated[
        int, typer.Option(min=6, max=240, help="Months of history ending with the as-of month.")
    ] = 36,
    seed: Annotated[
        int,
        typer.Option(
            help="Random seed: the same seed, size and as-of date give byte-identical files."
        ),
    ] = 42,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The day the exports are taken "
            "(YYYY-MM-DD). Default: the last day of the "
            "previous month.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet.")] = (
        ExportFormat.csv
    ),
    dirty: Annotated[
        bool,
        typer.Option(
            "--dirty",
            help="Add realistic defects for ingestion "
            "tests (duplicates, bad and impossible dates, unknown "
            "and mixed-case stages, orphan owners, blank and "
            "negative amounts, a GBK file, a UTF-8 BOM, a missing "
            "column), listed in _truth/dirty_manifest.csv. CSV "
            "only.",
        ),
    ] = False,
) -> None:
    """Write a simulated company's CRM and HR exports in the canonical contract.

    The company is simulated month by month: reps sell through the stage funnel, get
    reviewed, paid against a band and surveyed, and leave with a hazard driven by quota
    shortfall, pay below band, stalled promotion, manager changes, falling engagement,
    teammates' exits and tenure. Their accounts are handed over, and some are lost.
    """
    if dirty and fmt is ExportFormat.parquet:
        raise typer.BadParameter(
            "--dirty writes CSV (encoding defects only exist in text files); drop --format parquet",
            param_hint="--dirty",
        )
    request = GenerateRequest(
        out=out,
        reps=reps,
        months=months,
        seed=seed,
        as_of=_parse_as_of(as_of),
        fmt=fmt.value,
        dirty=dirty,
    )
    summary = generate(request, progress=_say)
    typer.echo(
        f"wrote {len(summary['rows'])} tables to {out}/ "
        f"({sum(summary['rows'].values()):,} rows); ground truth in {out}/_truth/"
    )
    typer.echo(
        f"annual voluntary attrition {summary['annual_voluntary_attrition']:.1%}; "
        f"revenue lost on a departure "
        f"{summary['revenue_lost_on_departure']['all_accounts']:.1%}"
    )


def _print_ingest(result: IngestResult) -> None:
    for line in summary_lines(result):
        typer.echo(line)
    if result.rejections:
        for rejection in result.rejections:
            _say(f"rejected: {rejection}")
        _say("nothing was changed in the warehouse (exit code 3)")
    elif any(f.rows_quarantined for f in result.files):
        typer.echo(
            f"quarantined rows: SELECT * FROM quarantine.<table> WHERE _load_id = "
            f"'{result.load_id}'"
        )
    typer.echo(f"load {result.load_id} ({result.status}) into {result.warehouse}")
    typer.echo(f"validation report: {result.report}")


def _flow_result(state: State, expected_failure: type[Exception]):
    """The result of a finished flow run; an expected failure (a rejected load, a failed
    build) carries its result and is reported like a local run; anything else raises."""
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, expected_failure):
        return outcome.result
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _ingest_under_prefect(
    source: Path, warehouse: Path, mapping: str | None, reports: Path, force: bool
) -> IngestResult:
    from pipelines.flows.ingest import IngestRejected, ingest_flow

    state = ingest_flow(
        source=str(source),
        warehouse=str(warehouse),
        mapping=mapping,
        reports=str(reports),
        force=force,
        return_state=True,
    )
    return _flow_result(state, IngestRejected)


@app.command("ingest")
def ingest_command(
    source: Annotated[
        Path,
        typer.Option(
            help="Directory of export files, one per contract table, named after it "
            "(crm_opportunities.csv, hr_employees.xlsx, ...): CSV, Parquet or Excel."
        ),
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            help="How to read exports that do not follow the contract: a YAML mapping "
            "file, or a shipped one by name (salesforce, hubspot, zoho, fxiaoke, bamboohr, "
            "workday, maven_crm; see `repradar mapping list`).",
            show_default=False,
        ),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="DuckDB file to load into. Default: $REPRADAR_WAREHOUSE, else "
            "data/warehouse.duckdb.",
            show_default=False,
        ),
    ] = None,
    reports: Annotated[
        Path | None,
        typer.Option(
            help="Where the HTML validation report goes. Default: reports/validation/ "
            "next to the warehouse.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Validate and load files again even if the same file (checksum) was "
            "loaded before, e.g. after changing a rule's policy.",
        ),
    ] = False,
    prefect: Annotated[
        bool,
        typer.Option(
            "--prefect",
            help="Run as a Prefect flow run (tracked by the Prefect API; starts a "
            "temporary local server when none is configured).",
        ),
    ] = False,
) -> None:
    """Validate the exports and load them into the warehouse's raw schema.

    Every row is either loaded into raw.<table> or quarantined verbatim in
    quarantine.<table> with the rule it failed and why. Rows that are already loaded and
    unchanged stay as they were; changed rows replace the old ones by key; a file loaded
    before (same checksum) is skipped. The whole run is one transaction: if any file is
    rejected (missing required column, unreadable or empty file, too many failing rows)
    nothing changes and the exit code is 3.
    """
    if not source.is_dir():
        raise typer.BadParameter(f"{source} is not a directory", param_hint="--source")
    try:
        options = read_mapping(mapping) if mapping else IngestOptions()
    except MappingError as error:
        raise typer.BadParameter(str(error), param_hint="--mapping") from error
    target = resolve_warehouse(warehouse)
    request = IngestRequest(
        source=source,
        warehouse=target,
        reports=reports or target.parent / "reports" / "validation",
        options=options,
        force=force,
    )
    try:
        if prefect:
            result = _ingest_under_prefect(source, target, mapping, request.reports, force)
        else:
            result = ingest(request, progress=_say)
    except WarehouseBusy as error:
        _say(f"error: {error}")
        raise typer.Exit(EXIT_BUSY) from error
    except MappingError as error:
        raise typer.BadParameter(str(error), param_hint="--mapping") from error
    except SourceError as error:
        raise typer.BadParameter(str(error), param_hint="--source") from error
    _print_ingest(result)
    raise typer.Exit(result.exit_code)


def query_hint(warehouse: Path) -> str:
    return f'duckdb -readonly {warehouse} "SELECT * FROM marts.mart_funnel_conversion"'


def _print_transform(result: TransformResult) -> None:
    if not result.success:
        for problem in result.problems():
            _say(f"failed: {problem}")
        kept = (
            f"; the marts of the last good build in {result.warehouse} are unchanged"
            if result.target == "duckdb"
            else ""
        )
        failed = len(result.failed_nodes)
        total = result.models + result.tests
        _say(f"dbt build failed ({failed} of {total} models and tests){kept}")
        return
    typer.echo(
        f"built {result.models} models and passed {result.tests} tests on {result.target} in "
        f"{result.seconds:.1f} s (run {result.run_id})"
    )


@contextlib.contextmanager
def _errors_exit() -> Iterator[None]:
    """A busy warehouse exits 4; a step that cannot start (no raw data, no marts, no
    trained model, an untrusted model file) exits 1, with the reason."""
    try:
        yield
    except WarehouseBusy as error:
        _say(f"error: {error}")
        raise typer.Exit(EXIT_BUSY) from error
    except (
        TransformError,
        TrainingError,
        ScoringError,
        FileNotFoundError,
        UntrustedModelFile,
        ReportDataError,
        AlertsError,
        UnknownAlert,
        ChannelConfigError,
        DeploymentsError,
    ) as error:
        _say(f"error: {error}")
        raise typer.Exit(1) from error


def _transform_under_prefect(warehouse: Path, target: Target) -> TransformResult:
    from pipelines.flows.transform import TransformFailed, transform_flow

    state = transform_flow(warehouse=str(warehouse), target=target.value, return_state=True)
    return _flow_result(state, TransformFailed)


@app.command("transform")
def transform_command(
    target: Annotated[
        Target,
        typer.Option(
            help="duckdb builds the marts into the warehouse file; spark hands the raw "
            "tables to a local Spark session (as Parquet) and builds the same project there."
        ),
    ] = Target.duckdb,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="DuckDB warehouse holding the raw data. Default: $REPRADAR_WAREHOUSE, "
            "else data/warehouse.duckdb.",
            show_default=False,
        ),
    ] = None,
    prefect: Annotated[
        bool,
        typer.Option("--prefect", help="Run as a Prefect flow run (flow `transform`)."),
    ] = False,
) -> None:
    """Build the KPI marts: `dbt build` of staging, intermediate and mart models with
    every data test and unit test.

    On DuckDB the build runs on a copy of the warehouse that replaces it only when
    everything passed, so a failed build leaves the last good marts in place (exit 1).
    Prints headline KPIs and how to query the marts.
    """
    path = resolve_warehouse(warehouse)
    with _errors_exit():
        if prefect:
            result = _transform_under_prefect(path, target)
        elif target is Target.spark:
            from pipelines.transform.spark import build_spark

            result = build_spark(path, progress=_say)
        else:
            result = build_duckdb(path, progress=_say)
    _print_transform(result)
    if not result.success:
        raise typer.Exit(result.exit_code)
    from pipelines.transform.gaps import data_gaps

    for gap in data_gaps(path):
        typer.echo(f"partial data: {gap}")
    if target is Target.duckdb:
        typer.echo("")
        typer.echo("Headline KPIs:")
        for line in format_kpis(headline_kpis(path)):
            typer.echo(f"  {line}")
        typer.echo("")
        typer.echo(f"Query the marts: {query_hint(path)}")
    else:
        typer.echo(f"Spark tables: {result.warehouse}")


@app.command("docs")
def docs_command(
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="DuckDB warehouse whose marts are documented. Default: "
            "$REPRADAR_WAREHOUSE, else data/warehouse.duckdb.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the catalog. Default: docs/ next to the warehouse.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Generate the dbt docs catalog of every model and column: one self-contained HTML
    page (open it in a browser, no server needed) plus manifest.json and catalog.json."""
    path = resolve_warehouse(warehouse)
    with _errors_exit():
        page = generate_docs(path, out or path.parent / "docs")
    typer.echo(f"docs: {page}")


def _print_training(result: TrainResult) -> None:
    typer.echo(f"trained in {result.seconds:.1f} s (run {result.run_id}); backtest:")
    for line in backtest_lines(result):
        typer.echo(f"  {line}")
    typer.echo(f"model card: {result.card_path}")


def _print_scores(result: ScoreResult, warehouse: Path) -> None:
    for line in score_lines(result):
        typer.echo(line)
    typer.echo("")
    typer.echo(
        "Risk by team (marts.mart_risk_by_team; teams under 5 reps suppressed, and the "
        "next-smallest with them):"
    )
    for line in format_risk_by_team(risk_by_team(warehouse)):
        typer.echo(f"  {line}")
    typer.echo(
        "Names, drivers and the handover worklist (HR only): restricted.mart_rep_risk, "
        "restricted.mart_handover_worklist"
    )


WAREHOUSE_OPTION_HELP = (
    "DuckDB warehouse with the built marts. Default: $REPRADAR_WAREHOUSE, else "
    "data/warehouse.duckdb."
)


@app.command("train")
def train_command(
    warehouse: Annotated[
        Path | None, typer.Option(help=WAREHOUSE_OPTION_HELP, show_default=False)
    ] = None,
    prefect: Annotated[
        bool, typer.Option("--prefect", help="Run as a Prefect flow run (flow `train`).")
    ] = False,
) -> None:
    """Train the attrition-risk and account-loss models from the marts.

    Runs a rolling-origin backtest of a regularised logistic regression and gradient
    boosting, keeps the better one (pooled ROC AUC), calibrates it, audits fairness by
    gender and age band, and stores the models (skops) and a model card under models/
    next to the warehouse. Metrics go to ml.backtests. With nothing to learn from yet (no
    HR exports, no voluntary exits with a full outcome, too little history) training is
    skipped: it says why and exits 0.
    """
    from models_ml.train import TrainingSkipped

    path = resolve_warehouse(warehouse)
    try:
        with _errors_exit():
            if prefect:
                from pipelines.flows.models import Skipped, train_flow

                result = train_flow(warehouse=str(path))  # a failed run re-raises its error
                if isinstance(result, Skipped):
                    typer.echo(str(result))
                    return
            else:
                result = train(path, progress=_say)
    except TrainingSkipped as skipped:  # nothing to learn from: not a failure
        typer.echo(f"train skipped: {skipped}")
        return
    _print_training(result)


@app.command("score")
def score_command(
    warehouse: Annotated[
        Path | None, typer.Option(help=WAREHOUSE_OPTION_HELP, show_default=False)
    ] = None,
    prefect: Annotated[
        bool, typer.Option("--prefect", help="Run as a Prefect flow run (flow `score`).")
    ] = False,
) -> None:
    """Score every rep of the latest month with the latest trained models.

    Writes ml.rep_attrition_scores (probability, band, change), ml.rep_risk_drivers (top
    drivers in words), ml.account_loss_scores and ml.feature_drift, and builds the risk
    marts (marts.mart_risk_by_team; restricted.mart_rep_risk and mart_handover_worklist)
    on a copy of the warehouse that replaces it only if every model and test passed.
    Without HR exports, or without a model because training had nothing to learn from,
    scoring is skipped: it says why and exits 0.
    """
    from models_ml.score import ScoringSkipped

    path = resolve_warehouse(warehouse)
    try:
        with _errors_exit():
            if prefect:
                from pipelines.flows.models import ScoreFailed, Skipped, score_flow

                state = score_flow(warehouse=str(path), return_state=True)
                result = _flow_result(state, ScoreFailed)
                if isinstance(result, Skipped):
                    typer.echo(str(result))
                    return
            else:
                result = score(path, progress=_say)
    except ScoringSkipped as skipped:  # nothing to score: not a failure
        typer.echo(f"score skipped: {skipped}")
        return
    if not result.success:
        _print_transform(result.build)
        raise typer.Exit(result.build.exit_code)
    _print_scores(result, path)


@app.command("demo")
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
    exports = directory / "exports"
    request = GenerateRequest(out=exports, seed=seed, as_of=end_of_previous_month(dt.date.today()))
    summary = generate(request, progress=_say)
    warehouse = directory / "warehouse.duckdb"
    remove_database(warehouse)
    shutil.rmtree(directory / "models", ignore_errors=True)
    shutil.rmtree(directory / "outbox", ignore_errors=True)
    _say("ingesting the exports ...")
    loaded = ingest(
        IngestRequest(
            source=exports, warehouse=warehouse, reports=directory / "reports" / "validation"
        ),
        progress=_say,
    )
    typer.echo("")
    typer.echo("repradar demo")
    typer.echo(
        f"  exports:      {exports}/  ({sum(summary['rows'].values()):,} rows in "
        f"{len(summary['rows'])} tables)"
    )
    typer.echo(f"  ground truth: {exports}/_truth/summary.json")
    typer.echo(
        f"  simulated voluntary attrition {summary['annual_voluntary_attrition']:.1%} a "
        f"year; {summary['revenue_lost_on_departure']['all_accounts']:.1%} of a leaver's "
        "revenue lost"
    )
    if loaded.rejections:
        for line in summary_lines(loaded):
            typer.echo(f"  {line}")
        raise typer.Exit(loaded.exit_code)
    _say("building the marts (dbt build) ...")
    built = build_duckdb(warehouse, progress=_say)
    if not built.success:
        _print_transform(built)
        raise typer.Exit(built.exit_code)
    typer.echo(
        f"  warehouse:    {warehouse}  (schemas raw, quarantine, ops, staging, "
        "intermediate, marts, restricted)"
    )
    typer.echo(f"  validation:   {loaded.report}")
    typer.echo("")
    typer.echo("Load summary:")
    for line in summary_lines(loaded):
        typer.echo(f"  {line}")
    typer.echo("")
    _print_transform(built)
    typer.echo("Headline KPIs:")
    for line in format_kpis(headline_kpis(warehouse)):
        typer.echo(f"  {line}")
    typer.echo(f"Query the marts: {query_hint(warehouse)}")
    typer.echo("")
    _say("training the models (rolling-origin backtest) ...")
    with _errors_exit():
        trained = train(warehouse, progress=_say)
        _say("scoring the latest month ...")
        scored = score(warehouse, progress=_say)
    if not scored.success:
        _print_transform(scored.build)
        raise typer.Exit(scored.build.exit_code)
    typer.echo("Attrition model:")
    _print_training(trained)
    typer.echo("")
    _print_scores(scored, warehouse)
    typer.echo("")
    with _errors_exit():
        _say("writing the leadership report ...")
        report = build_report(warehouse, progress=_say)
        _say("drafting and delivering HR alerts ...")
        # simulated people: only ever to the demo's own file outbox, whatever is configured
        outbox = FileChannel(outbox_directory(warehouse, "hr"))
        alerts = send_alerts(warehouse, channels=[outbox], progress=_say)
    _print_alerts(alerts)
    typer.echo("")
    typer.echo("Results:")
    typer.echo(f"  warehouse:  {warehouse}")
    typer.echo(f"  report:     {report.html}")
    typer.echo(f"              {report.pdf}")
    typer.echo(f"  HR outbox:  {alerts.outbox_directory or ', '.join(alerts.channels)}")
    typer.echo(f"  model card: {trained.card_path}")
    typer.echo(
        f"Next: `repradar alerts list --warehouse {warehouse}`; `repradar serve` runs the "
        "schedules (README: Schedules)."
    )


def _print_report(result: ReportResult) -> None:
    typer.echo(f"report as of {result.data.as_of}:")
    typer.echo(f"  HTML: {result.html}")
    typer.echo(f"  PDF:  {result.pdf}")


def _print_alerts(result: DeliveryResult) -> None:
    for line in result.lines():
        typer.echo(line)


@app.command("report")
def report_command(
    warehouse: Annotated[
        Path | None, typer.Option(help=WAREHOUSE_OPTION_HELP, show_default=False)
    ] = None,
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
    accounts, and recommended actions. Aggregates only: no names; groups under 5 people
    suppressed.
    """
    path = resolve_warehouse(warehouse)
    result, delivered = None, None
    with _errors_exit():
        if prefect and deliver:
            from pipelines.flows.operations import weekly_report

            # a failed run re-raises its error
            delivered = weekly_report(warehouse=str(path), out=str(out) if out else None)
            typer.echo(f"report written to {out or default_report_directory(path)}/")
        elif prefect:
            from pipelines.flows.operations import report_flow

            result = report_flow(warehouse=str(path), out=str(out) if out else None)
        else:
            result = build_report(path, out, progress=_say)
            if deliver:
                delivered = send_report(path, report_delivery(result, utc_now()))
    if result is not None:
        _print_report(result)
        for section in result.content.sections:  # a partial load: what it could not show
            if section.missing:
                typer.echo(f"report section skipped: {section.title} ({section.missing})")
    if delivered is not None:
        _print_alerts(delivered)
        if delivered.failed:
            raise typer.Exit(EXIT_UNDELIVERED)


alerts_app = typer.Typer(
    help="HR risk alerts: send the new ones, list the outbox, acknowledge an alert.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(alerts_app, name="alerts")
app.add_typer(mapping_app, name="mapping")


@alerts_app.command("send")
def alerts_send_command(
    warehouse: Annotated[
        Path | None, typer.Option(help=WAREHOUSE_OPTION_HELP, show_default=False)
    ] = None,
    cap: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Most alerts to send per day (default $REPRADAR_ALERT_DAILY_CAP, else 20); "
            "the rest wait for the next day, most urgent first.",
            show_default=False,
        ),
    ] = None,
    prefect: Annotated[
        bool, typer.Option("--prefect", help="Run as a Prefect flow run (flow `alerts`).")
    ] = False,
) -> None:
    """Record the alerts the latest scores call for, then deliver what is due.

    A rep is alerted when their risk enters the High band or rises by a band, once per
    risk episode (until they are back to Low) unless the band rises again; a team when it
    loses 2 or more reps in a quarter. Every alert is written to ops.alert_outbox before it
    is sent; failed deliveries are retried on the next run with backoff. Channels:
    $REPRADAR_ALERT_URLS (apprise URLs) or $REPRADAR_ALERT_BLOCKS (Prefect notification
    blocks), else markdown files in outbox/ next to the warehouse. Exit 5 when some
    deliveries failed.
    """
    path = resolve_warehouse(warehouse)
    with _errors_exit():
        if prefect:
            from pipelines.flows.operations import alerts_flow

            result = alerts_flow(warehouse=str(path), cap=cap)
        else:
            result = send_alerts(path, cap=cap, progress=_say)
    _print_alerts(result)
    if result.failed:
        raise typer.Exit(EXIT_UNDELIVERED)


class AlertStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


@alerts_app.command("list")
def alerts_list_command(
    warehouse: Annotated[
        Path | None, typer.Option(help=WAREHOUSE_OPTION_HELP, show_default=False)
    ] = None,
    status: Annotated[
        AlertStatus | None,
        typer.Option(help="Only alerts in this state.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N alerts.")] = 50,
) -> None:
    """List the outbox, newest first: id, when, kind, band, delivery status, attempts,
    who acknowledged it, and the title (HR only: titles name people)."""
    path = resolve_warehouse(warehouse)
    with _errors_exit():
        frame = list_outbox(path, status.value if status else None, limit)
    if frame.empty:
        typer.echo("no alerts")
        return
    for row in frame.itertuples():
        acked = f"acked by {row.acked_by}" if isinstance(row.acked_by, str) else "not acked"
        typer.echo(
            f"#{row.alert_id:<5} {row.created_at:%Y-%m-%d %H:%M}  {row.status:<7} "
            f"attempts {row.attempts}  {acked:<22} {row.title}"
        )


@alerts_app.command("ack")
def alerts_ack_command(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (see `alerts list`).")],
    by: Annotated[str, typer.Option("--by", help="Who acknowledges it.")],
    action: Annotated[
        str,
        typer.Option(
            "--action", help="What was done or decided, e.g. 'stay interview booked for Friday'."
        ),
    ],
    warehouse: Annotated[
        Path | None, typer.Option(help=WAREHOUSE_OPTION_HELP, show_default=False)
    ] = None,
) -> None:
    """Record who acknowledged an alert and what action was taken (the human oversight
    trail in ops.alert_events; earlier acknowledgements are kept)."""
    path = resolve_warehouse(warehouse)
    with _errors_exit():
        acknowledge_alert(path, alert_id, by, action)
    typer.echo(f"alert {alert_id} acknowledged by {by}")


@app.command("run")
def run_command(
    source: Annotated[
        Path, typer.Option(help="Directory of the day's export files (as for `ingest`).")
    ],
    warehouse: Annotated[
        Path | None, typer.Option(help=WAREHOUSE_OPTION_HELP, show_default=False)
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            help="YAML mapping of the exports, or a shipped mapping's name (as for `ingest`).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the `daily` flow once, as the schedule would: ingest -> transform -> train (when
    no model exists or it is 30 days old) -> score -> alerts. A Prefect flow run (uses
    $PREFECT_API_URL, else a temporary local server). With only CRM or only HR exports the
    run still succeeds; it says which marts are empty and which steps it skipped, and why."""
    if not source.is_dir():
        raise typer.BadParameter(f"{source} is not a directory", param_hint="--source")
    if mapping:
        try:
            read_mapping(mapping)
        except MappingError as error:
            raise typer.BadParameter(str(error), param_hint="--mapping") from error
    from pipelines.flows.operations import daily_flow

    path = resolve_warehouse(warehouse)
    state = daily_flow(
        source=str(source),
        warehouse=str(path),
        mapping=mapping,
        return_state=True,
    )
    if state.is_failed():
        _say(f"error: the daily run failed: {state.message}")
        _say(f"the marts and scores of the last good run in {path} are unchanged")
        raise typer.Exit(1)
    result = state.result()
    for note in result.notes:  # what a partial load left empty, steps skipped and why
        typer.echo(note)
    _print_alerts(result.alerts)
    typer.echo(f"warehouse: {path}")
    if result.alerts.failed:
        raise typer.Exit(EXIT_UNDELIVERED)


@app.command("serve")
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

    with _errors_exit():
        serve_deployments(deployments, progress=_say)


if __name__ == "__main__":
    app()
