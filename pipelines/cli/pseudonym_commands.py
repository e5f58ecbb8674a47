"""`repradar pseudonyms ...`: the secret key behind the pseudonymous employee keys."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pipelines.cli.common import WarehouseOption, errors_exit, say
from pipelines.cli.output import print_transform

pseudonyms_app = typer.Typer(
    help="The pseudonym key: employee keys are HMAC-SHA256 of the employee id under a "
    "secret key ($REPRADAR_PSEUDONYM_KEY or a Prefect Secret block).",
    no_args_is_help=True,
)


@pseudonyms_app.command("rotate")
def rotate_command(
    old_key_stdin: Annotated[
        bool,
        typer.Option(
            "--old-key-stdin",
            help="Read the key the warehouse was made with from standard input (one line).",
        ),
    ] = False,
    warehouse: WarehouseOption = None,
) -> None:
    """Move the warehouse to a new pseudonym key.

    First configure the new key where repradar reads it ($REPRADAR_PSEUDONYM_KEY, the
    Prefect Secret block of $REPRADAR_PSEUDONYM_KEY_BLOCK, or the demo's pseudonym.key),
    then give the old key on standard input:
    `repradar pseudonyms rotate --old-key-stdin < old.key`. The score history and the
    alerts are rewritten to the new keys and every mart rebuilt, on a copy that replaces
    the warehouse only when all of it passed; the analyst database is published again.
    Keys handed out before (exports, analyses) no longer match: that is the point.
    """
    from pipelines.errors import UsageError
    from pipelines.pseudonyms import checked_key
    from pipelines.transform.build import build_duckdb
    from pipelines.warehouse import read_only, resolve_warehouse

    path = resolve_warehouse(warehouse)
    with errors_exit():
        if not old_key_stdin:
            raise UsageError(
                "give the old pseudonym key on standard input with --old-key-stdin "
                "(never as an argument: it would show in the process list and shell history)"
            )
        old_key = checked_key(sys.stdin.readline(), "standard input")
        with read_only(path) as con:
            (scored,) = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ml' "
                "AND table_name = 'rep_attrition_scores'"
            ).fetchone() or (0,)
        say("rewriting the stored employee keys and rebuilding every mart ...")
        result = build_duckdb(
            path, progress=say, previous_key=old_key, select=["fqn:*"] if scored else None
        )
    print_transform(result)
    if not result.success:
        raise typer.Exit(result.exit_code)
    typer.echo(f"{path} now uses the configured pseudonym key; discard the old one")
