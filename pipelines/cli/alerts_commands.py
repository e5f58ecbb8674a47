"""`repradar alerts send | list | ack`: HR risk alerts and their oversight trail."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from pipelines.cli.common import PrefectOption, WarehouseOption, errors_exit, say
from pipelines.cli.output import print_alerts
from pipelines.errors import EXIT_UNDELIVERED
from pipelines.safe_text import terminal

alerts_app = typer.Typer(
    help="HR risk alerts: send the new ones, list the outbox, acknowledge an alert.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class AlertStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    unknown = "unknown"


@alerts_app.command("send")
def alerts_send_command(
    warehouse: WarehouseOption = None,
    cap: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Most alerts to send per day (default $REPRADAR_ALERT_DAILY_CAP, else 20); "
            "the rest wait for the next day, most urgent first.",
            show_default=False,
        ),
    ] = None,
    resend_unknown: Annotated[
        bool,
        typer.Option(
            "--resend-unknown",
            help="Send again the alerts a stopped run left unknown (it may have delivered "
            "them). Use only after checking with the recipients that they did not arrive.",
        ),
    ] = False,
    prefect: PrefectOption = False,
) -> None:
    """Record the alerts the latest scores call for, then deliver what is due.

    A rep is alerted when their risk enters the High band or rises by a band, once per
    risk episode (until they are back to Low) unless the band rises again; a team when it
    loses 2 or more reps in a quarter. Every alert is written to ops.alert_outbox before it
    is sent; failed deliveries are retried on the next run with backoff. A delivery a stopped
    run may or may not have made is marked unknown and not sent again unless
    --resend-unknown is given. Channels:
    $REPRADAR_ALERT_URLS (apprise URLs) or $REPRADAR_ALERT_BLOCKS (Prefect notification
    blocks), else markdown files in outbox/ next to the warehouse. Exit 5 when some
    deliveries failed.
    """
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    with errors_exit():
        if prefect:
            from pipelines.flows.operations import alerts_flow

            result = alerts_flow(warehouse=str(path), cap=cap, resend_unknown=resend_unknown)
        else:
            from pipelines.alerts.run import send_alerts

            result = send_alerts(path, cap=cap, progress=say, resend_unknown=resend_unknown)
    print_alerts(result)
    if result.failed:
        raise typer.Exit(EXIT_UNDELIVERED)


@alerts_app.command("list")
def alerts_list_command(
    warehouse: WarehouseOption = None,
    status: Annotated[
        AlertStatus | None,
        typer.Option(help="Only alerts in this state.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest N alerts.")] = 50,
) -> None:
    """List the outbox, newest first: id, when, kind, band, delivery status, attempts,
    who acknowledged it, and the title (HR only: titles name people). Names are printed
    as plain text: no control character or escape sequence reaches the terminal."""
    from pipelines.alerts.run import list_outbox
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    with errors_exit():
        frame = list_outbox(path, status.value if status else None, limit)
    if frame.empty:
        typer.echo("no alerts")
        return
    for row in frame.itertuples():
        acked = (
            f"acked by {terminal(row.acked_by, 40)}"
            if isinstance(row.acked_by, str)
            else "not acked"
        )
        typer.echo(
            f"#{row.alert_id:<5} {row.created_at:%Y-%m-%d %H:%M}  {row.status:<7} "
            f"attempts {row.attempts}  {acked:<22} {terminal(row.title)}"
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
    warehouse: WarehouseOption = None,
) -> None:
    """Record who acknowledged an alert and what action was taken (the human oversight
    trail in ops.alert_events; earlier acknowledgements are kept)."""
    from pipelines.alerts.run import acknowledge_alert
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    with errors_exit():
        acknowledge_alert(path, alert_id, by, action)
    typer.echo(f"alert {alert_id} acknowledged by {terminal(by)}")
