"""`repradar`: the one command line of the product. Every subcommand has --help.

Exit codes: 0 success, 1 failure with a message, 2 usage error, 3 input rejected by
validation (nothing changed).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipelines.generate import GenerateRequest, generate
from pipelines.generate.calendar import end_of_previous_month

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

NOT_BUILT_YET = (
    ("ingest", "validate and load exports into the warehouse (issue #3)"),
    ("transform", "dbt build of the KPI marts (issue #4)"),
    ("train / score", "attrition and customer-loss models (issue #5)"),
    ("report / alerts / run / serve", "leadership report, HR alerts, schedules (issue #6)"),
)


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


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


@app.command("demo")
def demo_command(
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo lives.")] = Path(
        "data/demo"
    ),
    seed: Annotated[int, typer.Option(help="Random seed of the simulated company.")] = 42,
) -> None:
    """Generate a company under data/demo/ and run every pipeline step that exists."""
    exports = directory / "exports"
    request = GenerateRequest(out=exports, seed=seed, as_of=end_of_previous_month(dt.date.today()))
    summary = generate(request, progress=_say)
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
    typer.echo("")
    typer.echo("Not built yet, so the demo stops here:")
    for step, what in NOT_BUILT_YET:
        typer.echo(f"  - {step}: {what}")


if __name__ == "__main__":
    app()
