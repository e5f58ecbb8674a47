"""`repradar forget`: erase one person from the warehouse and the files beside it."""

from __future__ import annotations

from typing import Annotated

import typer

from pipelines.cli.common import WarehouseOption, errors_exit, say
from pipelines.cli.output import print_transform

REMAINS = (
    "What remains: aggregates already published (reports sent, analyst databases copied "
    "elsewhere), alerts and reports already delivered by e-mail or chat, the CRM and HR "
    "exports themselves (erase the person at the source: a later export that brings them "
    "back is erased again by the next build), and models trained before today (the next "
    "`repradar train` learns without the person)."
)


def forget_command(
    person_id: Annotated[
        str,
        typer.Argument(metavar="EMPLOYEE_ID", help="The person's HR employee id (or CRM user id)."),
    ],
    warehouse: WarehouseOption = None,
) -> None:
    """Erase one person from every schema, the alert outbox and the files beside the
    warehouse, then rebuild every mart and the analyst database without them.

    Their HR rows, CRM user and account-team rows, rejected rows, scores, drivers and
    alerts go; the CRM records they owned stay as the company's, with no owner; every
    other mention of their id, name or e-mail in `ops` and in the text files repradar
    wrote (alert files, validation and leadership reports, dbt's logs) becomes
    `[forgotten]`. All of it on the build copy, so a failure changes nothing. Recorded in
    `ops.erasures` (no id); `ops.forgotten_people` keeps an HMAC of the id under the
    pseudonym key so a later export that brings the person back is erased again.
    """
    from pipelines.erasure import known_person
    from pipelines.errors import UsageError
    from pipelines.transform.build import build_duckdb
    from pipelines.warehouse import read_only, resolve_warehouse

    path = resolve_warehouse(warehouse)
    with errors_exit():
        if not path.exists():
            raise UsageError(f"{path} does not exist")
        with read_only(path) as con:
            if not known_person(con, person_id):
                raise UsageError(
                    f"{path} has no employee or CRM user with the id given "
                    "(it may have been erased already)"
                )
            (scored,) = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ml' "
                "AND table_name = 'rep_attrition_scores'"
            ).fetchone() or (0,)
        say("erasing the person and rebuilding every mart ...")
        result = build_duckdb(
            path, progress=say, forget=[person_id], select=["fqn:*"] if scored else None
        )
    print_transform(result)
    if not result.success:
        raise typer.Exit(result.exit_code)
    erasure = result.erasure
    removed = sum(erasure.removed.values()) if erasure else 0
    changed = sum(erasure.changed.values()) if erasure else 0
    typer.echo(
        f"forgotten: {removed} rows removed and {changed} rows changed in the warehouse, "
        f"{len(result.cleaned_files)} files cleaned beside it; recorded in ops.erasures"
    )
    typer.echo(REMAINS)
