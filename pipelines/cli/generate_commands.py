"""`repradar generate`: a simulated company's exports in the canonical contract."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import parse_as_of, say


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


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
    from pipelines.generate import GenerateRequest, generate

    request = GenerateRequest(
        out=out,
        reps=reps,
        months=months,
        seed=seed,
        as_of=parse_as_of(as_of),
        fmt=fmt.value,
        dirty=dirty,
    )
    summary = generate(request, progress=say)
    typer.echo(
        f"wrote {len(summary['rows'])} tables to {out}/ "
        f"({sum(summary['rows'].values()):,} rows); ground truth in {out}/_truth/"
    )
    typer.echo(
        f"annual voluntary attrition {summary['annual_voluntary_attrition']:.1%}; "
        f"revenue lost on a departure "
        f"{summary['revenue_lost_on_departure']['all_accounts']:.1%}"
    )
