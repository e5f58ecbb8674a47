"""`repradar ingest`: validate exports and load them into the warehouse's raw schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.cli.common import (
    MappingOption,
    PrefectOption,
    WarehouseOption,
    errors_exit,
    flow_result,
    require_directory,
    say,
)
from pipelines.cli.output import print_ingest

if TYPE_CHECKING:
    from pipelines.ingest.load import IngestResult


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
    return flow_result(state, IngestRejected)


def ingest_command(
    source: Annotated[
        Path,
        typer.Option(
            help="Directory of export files, one per contract table, named after it "
            "(crm_opportunities.csv, hr_employees.xlsx, ...): CSV, Parquet or Excel."
        ),
    ],
    mapping: MappingOption = None,
    warehouse: WarehouseOption = None,
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
    prefect: PrefectOption = False,
) -> None:
    """Validate the exports and load them into the warehouse's raw schema.

    Every row is either loaded into raw.<table> or quarantined verbatim in
    quarantine.<table> with the rule it failed and why. Rows that are already loaded and
    unchanged stay as they were; changed rows replace the old ones by key; a file loaded
    before (same checksum) is skipped. The whole run is one transaction: if any file is
    rejected (missing required column, unreadable or empty file, too many failing rows)
    nothing changes and the exit code is 3.
    """
    require_directory(source, "--source")
    from pipelines.ingest import IngestRequest, ingest
    from pipelines.ingest.options import IngestOptions, MappingError, read_mapping
    from pipelines.ingest.read import SourceError
    from pipelines.warehouse import resolve_warehouse

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
    with errors_exit():
        try:
            if prefect:
                result = _ingest_under_prefect(source, target, mapping, request.reports, force)
            else:
                result = ingest(request, progress=say)
        except MappingError as error:  # found while reading the files
            raise typer.BadParameter(str(error), param_hint="--mapping") from error
        except SourceError as error:
            raise typer.BadParameter(str(error), param_hint="--source") from error
    print_ingest(result)
    raise typer.Exit(result.exit_code)
