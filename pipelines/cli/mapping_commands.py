"""`repradar mapping ...`: list, show and dry-run the mapping files that read exports
written by other systems (Salesforce, HubSpot, Zoho, FxiaoKe, BambooHR, Workday, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.cli.common import echo_lines, require_directory, say

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
    echo_lines(report_lines(check))
    raise typer.Exit(check.exit_code)


@mapping_app.command("detect")
def detect_command(
    source: Annotated[
        Path, typer.Option(help="Directory of the export files to read.", show_default=False)
    ],
    write: Annotated[
        Path | None,
        typer.Option(
            help="Write a starter mapping here: the matching shipped mapping (extends:) "
            "plus the values of this export it does not map, as guessed.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Recognise which system wrote the files of SOURCE (from their names and headers),
    name the shipped mapping that reads them, dry-run it, and list the values of the
    export that it does not map with the guess the ingest makes for each.

    Exit code 0 when a shipped mapping fits and its dry run loads, 3 when the dry run
    would be rejected, 2 when no shipped mapping fits the files.
    """
    from pipelines.ingest.detect import best, detect, starter
    from pipelines.ingest.dryrun import report_lines
    from pipelines.ingest.read import SourceError

    require_directory(source, "--source")
    say(f"detecting the system that wrote {source} ...")
    try:
        matches, check = detect(source)
    except SourceError as error:
        raise typer.BadParameter(str(error), param_hint="--source") from error
    for match in matches:
        typer.echo(match.describe())
    chosen = best(matches)
    if chosen is None or check is None:
        typer.echo("no shipped mapping fits these files; start one with `repradar mapping show`")
        raise typer.Exit(2)
    typer.echo(f"\nmatches the shipped mapping {chosen.name}: {chosen.options.description}")
    typer.echo(f"dry run of `repradar ingest --source {source} --mapping {chosen.name}`:")
    echo_lines(report_lines(check))
    if write is not None:
        text, guessed, unguessed = starter(check, chosen, source)
        write.write_text(text, encoding="utf-8")
        typer.echo(
            f"wrote {write}: extends {chosen.name}, {guessed} guessed value(s) to confirm, "
            f"{len(unguessed)} without a guess; check it with "
            f"`repradar mapping check {write} --source {source}`"
        )
    raise typer.Exit(check.exit_code)
