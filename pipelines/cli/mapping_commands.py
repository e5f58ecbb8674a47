"""`repradar mapping ...`: list, show and dry-run the mapping files that read exports
written by other systems (Salesforce, HubSpot, Zoho, FxiaoKe, BambooHR, Workday, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.cli.common import require_directory, say

if TYPE_CHECKING:
    from pipelines.ingest.options import IngestOptions

mapping_app = typer.Typer(
    help="Mapping files: how exports that do not follow repradar's contract are read "
    "(file names, encodings, column renames, value maps, date formats, derived rows).",
    no_args_is_help=True,
)

MappingArgument = Annotated[
    str,
    typer.Argument(
        help="A mapping file, or the name of a shipped one (see `repradar mapping list`).",
        show_default=False,
    ),
]


def _read(mapping: str) -> IngestOptions:
    from pipelines.ingest.options import MappingError, read_mapping

    try:
        return read_mapping(mapping)
    except MappingError as error:
        raise typer.BadParameter(str(error), param_hint="MAPPING") from error


@mapping_app.command("list")
def list_command() -> None:
    """List the shipped mappings, by the name `--mapping` accepts."""
    from pipelines.ingest.options import read_mapping, shipped_mappings

    for name, path in shipped_mappings().items():
        options = read_mapping(path)
        typer.echo(f"{name:<12} {options.description}")


@mapping_app.command("show")
def show_command(mapping: MappingArgument) -> None:
    """Print a mapping file, to start your own from a shipped one.

    `repradar mapping show salesforce > mine.yaml`, then edit the column names that
    differ in your export and check it with `repradar mapping check mine.yaml --source DIR`.
    """
    options = _read(mapping)  # a mapping that `ingest` would refuse is not shown
    typer.echo(options.path.read_text(encoding="utf-8"), nl=False)


@mapping_app.command("check")
def check_command(
    mapping: MappingArgument,
    source: Annotated[
        Path, typer.Option(help="Directory of the export files to read.", show_default=False)
    ],
) -> None:
    """Dry run: read SOURCE through MAPPING as `repradar ingest` would, into a throw-away
    database, and show per table the file it reads, where each contract column comes
    from, the source columns nothing reads, unknown values, the rule failures with their
    first row, and the first rows as they would load. The warehouse is not touched.

    Exit code 0 when the load would succeed, 3 when it would be rejected, 2 for a
    mapping or source that cannot be used.
    """
    from pipelines.ingest.dryrun import dry_run, report_lines
    from pipelines.ingest.options import MappingError
    from pipelines.ingest.read import SourceError

    options = _read(mapping)
    require_directory(source, "--source")
    say(f"checking {source} through {options.path} (dry run) ...")
    try:
        check = dry_run(source, options)
    except SourceError as error:
        raise typer.BadParameter(str(error), param_hint="--source") from error
    except MappingError as error:
        raise typer.BadParameter(str(error), param_hint="MAPPING") from error
    for line in report_lines(check):
        typer.echo(line)
    raise typer.Exit(check.exit_code)
