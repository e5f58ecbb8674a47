"""How commands print their steps' results (aggregates only, never a name, except where
HR commands say so)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pipelines.cli.common import echo_lines, say
from pipelines.safe_text import terminal

if TYPE_CHECKING:
    from models_ml.score import Scores
    from models_ml.train import TrainResult
    from pipelines.alerts.run import DeliveryResult
    from pipelines.ingest.load import IngestResult
    from pipelines.report.build import ReportResult
    from pipelines.transform.build import TransformResult


def query_hint(warehouse: Path) -> str:
    """How an analyst queries the marts: in the analyst database, never the warehouse."""
    from pipelines.transform.publish import analytics_path

    analytics = analytics_path(warehouse)
    return f'duckdb -readonly {analytics} "SELECT * FROM marts.mart_funnel_conversion"'


def print_ingest(result: IngestResult) -> None:
    from pipelines.ingest import summary_lines

    echo_lines(summary_lines(result))
    if result.rejections:
        for rejection in result.rejections:
            say(f"rejected: {rejection}")
        say("nothing was changed in the warehouse (exit code 3)")
    elif any(f.rows_quarantined for f in result.files):
        typer.echo(
            f"quarantined rows: SELECT * FROM quarantine.<table> WHERE _load_id = "
            f"'{result.load_id}'"
        )
    typer.echo(f"load {result.load_id} ({result.status}) into {result.warehouse}")
    typer.echo(f"validation report: {result.report}")


def print_transform(result: TransformResult) -> None:
    if not result.success:
        for problem in result.problems():
            say(f"failed: {problem}")
        kept = (
            f"; the marts of the last good build in {result.warehouse} are unchanged"
            if result.target == "duckdb"
            else ""
        )
        failed = len(result.failed_nodes)
        total = result.models + result.tests
        say(f"dbt build failed ({failed} of {total} models and tests){kept}")
        return
    typer.echo(
        f"built {result.models} models and passed {result.tests} tests on {result.target} in "
        f"{result.seconds:.1f} s (run {result.run_id})"
    )
    if result.analytics is not None:
        typer.echo(f"published the analyst database (no person in it): {result.analytics}")
    if result.erasure is not None and result.erasure.total_people:
        reasons = ", ".join(f"{n} ({why})" for why, n in result.erasure.people.items())
        typer.echo(f"erased people: {reasons}; see ops.erasures")


def print_kpis(warehouse: Path) -> None:
    from pipelines.transform.kpis import format_kpis, headline_kpis

    typer.echo("Headline KPIs:")
    echo_lines(format_kpis(headline_kpis(warehouse)), "  ")


def print_training(result: TrainResult) -> None:
    from models_ml.summary import backtest_lines

    typer.echo(f"trained in {result.seconds:.1f} s (run {result.run_id}); backtest:")
    echo_lines(backtest_lines(result), "  ")
    typer.echo(f"model card: {result.card_path}")


def print_scores(scores: Scores, warehouse: Path) -> None:
    from models_ml.summary import format_risk_by_team, risk_by_team, score_lines

    echo_lines(score_lines(scores))
    typer.echo("")
    typer.echo(
        "Risk by team (marts.mart_risk_by_team; teams under 5 reps suppressed, and the "
        "next-smallest with them):"
    )
    lines = format_risk_by_team(risk_by_team(warehouse))  # team names come from the data
    echo_lines([terminal(line) for line in lines], "  ")
    typer.echo(
        "Names, drivers and the handover worklist (HR only): restricted.mart_rep_risk, "
        "restricted.mart_handover_worklist"
    )


def print_report(result: ReportResult) -> None:
    typer.echo(f"report as of {result.data.as_of}:")
    typer.echo(f"  HTML: {result.html}")
    typer.echo(f"  PDF:  {result.pdf}")


def print_alerts(result: DeliveryResult) -> None:
    echo_lines(result.lines())
