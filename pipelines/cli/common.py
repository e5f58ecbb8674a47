"""What every command shares: the options defined once, messages, and errors to exit codes.

Nothing here imports a step: a command imports its step's code inside its body, so
`repradar --help` loads no heavy library.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pipelines.errors import EXIT_FAILURE, RepradarError
from pipelines.safe_text import terminal_lines

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State

WarehouseOption = Annotated[
    Path | None,
    typer.Option(
        help="The DuckDB warehouse. Default: $REPRADAR_WAREHOUSE, else data/warehouse.duckdb.",
        show_default=False,
    ),
]
PrefectOption = Annotated[
    bool,
    typer.Option(
        "--prefect",
        help="Run as a tracked Prefect flow run (starts a temporary local server when "
        "$PREFECT_API_URL is not set).",
    ),
]
MappingOption = Annotated[
    str | None,
    typer.Option(
        help="How to read exports that do not follow the contract: a YAML mapping file, or "
        "a shipped one by name (salesforce, hubspot, zoho, fxiaoke, bamboohr, workday, "
        "maven_crm; see `repradar mapping list`).",
        show_default=False,
    ),
]


class Target(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def say(message: str) -> None:
    """Progress and errors go to stderr; results to stdout. Messages quote the data
    (file names, values, labels): they reach the terminal as plain text."""
    typer.echo(terminal_lines(message), err=True)


def echo_lines(lines: list[str], indent: str = "") -> None:
    """Result lines on stdout, as plain text (they may quote the data)."""
    for line in lines:
        typer.echo(terminal_lines(f"{indent}{line}"))


def parse_as_of(value: str | None) -> dt.date:
    """--as-of as a date; default the last day of the previous month."""
    from pipelines.generate.calendar import end_of_previous_month

    if value is None:
        return end_of_previous_month(dt.date.today())
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"expected a date like 2026-10-31, got {value!r}") from error


def require_directory(path: Path, option: str) -> None:
    if not path.is_dir():
        raise typer.BadParameter(f"{path} is not a directory", param_hint=option)


def check_mapping(mapping: str | None) -> None:
    """A usage error (exit 2) naming --mapping when the mapping cannot be read."""
    from pipelines.ingest.options import MappingError, read_mapping

    if mapping:
        try:
            read_mapping(mapping)
        except MappingError as error:
            raise typer.BadParameter(str(error), param_hint="--mapping") from error


@contextlib.contextmanager
def errors_exit() -> Iterator[None]:
    """A domain error ends the command with its exit code and its message (busy 4,
    rejected 3, usage 2, anything else 1); a missing file exits 1 with its message, and
    so does a full disk that no step reported as `DiskFull` itself."""
    try:
        yield
    except RepradarError as error:
        say(f"error: {error}")
        raise typer.Exit(error.exit_code) from error
    except FileNotFoundError as error:
        say(f"error: {error}")
        raise typer.Exit(EXIT_FAILURE) from error
    except Exception as error:
        from pipelines.warehouse import is_disk_full, unexpected_disk_full  # errors only

        if not is_disk_full(error):
            raise
        say(f"error: {unexpected_disk_full(error)}")
        raise typer.Exit(EXIT_FAILURE) from error


def flow_result(state: State, expected_failure: type[Exception]) -> Any:
    """The result of a finished flow run; an expected failure (a rejected load, a failed
    build) carries its result and is reported like a local run; anything else raises."""
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, expected_failure):
        return outcome.result
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
