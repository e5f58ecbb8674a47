"""`repradar alerts send`: record the alerts the latest marts call for, then deliver what
is due, most urgent first, up to the daily cap. Also delivers a leadership report.

A crash cannot deliver an alert twice to the same channel: each send sits between a
committed intent and a delivered mark (`ops.alert_deliveries`), and the next run settles
the intents a killed run left (`reconcile`). The file outbox can tell whether it holds a
message (the file appears by an atomic rename), so it is exactly once. E-mail, chat,
webhooks and Prefect blocks cannot be asked: such a delivery becomes unknown, is
reported, and is sent again only when asked (`resend_unknown`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import settings
from pipelines.alerts.channels import (
    Channel,
    DeliveryError,
    FileChannel,
    Message,
    ack_footer,
    configured_channels,
)
from pipelines.alerts.drafts import AlertDraft, hr_alert_drafts, skipped_alerts
from pipelines.alerts.outbox import (
    OutboxAlert,
    acknowledge,
    drop_intent,
    due,
    enqueue,
    ensure_outbox,
    list_alerts,
    mark_delivered,
    mark_failed_attempt,
    mark_sent,
    mark_unknown,
    reconcile,
    record_intent,
    sent_today,
    transaction,
)
from pipelines.errors import RepradarError, WarehouseBusy
from pipelines.warehouse import exclusive_connection

Progress = Callable[[str], None]


class AlertsError(RepradarError):
    """Alerts cannot run (no warehouse, no marts)."""


@dataclass
class DeliveryResult:
    created: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # attempted and not delivered (retried)
    deferred: int = 0  # due but over the daily cap, kept for tomorrow
    channels: list[str] = field(default_factory=list)
    outbox_directory: Path | None = None
    skipped: list[str] = field(default_factory=list)  # kinds of alert skipped, and why
    # found after a crash: channels that may have taken the alert, not sent it again
    unknown: dict[int, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        lines = [
            f"{len(self.created)} new alerts recorded; {len(self.sent)} sent, "
            f"{len(self.failed)} failed (kept pending, retried on the next run)"
            + (
                f", {self.deferred} over the daily cap (sent on a later day)"
                if self.deferred
                else ""
            ),
            f"channels: {', '.join(self.channels)}",
        ]
        if self.outbox_directory is not None:
            lines.append(f"outbox: {self.outbox_directory}")
        if self.unknown:
            lines.append(self._unknown_line())
        return lines + self.skipped

    def _unknown_line(self) -> str:
        alerts = ", ".join(
            f"#{alert_id} ({', '.join(channels)})" for alert_id, channels in self.unknown.items()
        )
        return (
            f"{len(self.unknown)} alerts may have been delivered already (a run stopped "
            f"between the send and its record), not sent again: {alerts}; ask the "
            "recipients, and send them again with `repradar alerts send --resend-unknown` "
            "only if they did not get them"
        )


def daily_cap() -> int:
    value = settings.alert_daily_cap()
    if not value.isdigit():
        raise AlertsError(f"${settings.ALERT_DAILY_CAP.name} must be a whole number, not {value!r}")
    return int(value)


def outbox_directory(warehouse: Path, audience: str) -> Path:
    """The file outbox of an audience: outbox/hr/ or outbox/leadership/ by the warehouse."""
    return warehouse.parent / "outbox" / audience


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _to_send(alert: OutboxAlert, channels: list[Channel], resend_unknown: bool) -> list[Channel]:
    """The channels that have not had the alert, nor may have had it (unless asked)."""
    skip = alert.delivered_to if resend_unknown else alert.delivered_to | alert.unknown
    return [channel for channel in channels if channel.name not in skip]


def _send(
    con: duckdb.DuckDBPyConnection,
    alert_id: int,
    channel: Channel,
    message: Message,
    now: dt.datetime,
) -> str | None:
    """Send one message between its committed intent and its delivered mark, the only
    window in which a crash leaves the delivery unknown; the error if the channel
    refused it (then nothing was delivered and the intent is dropped)."""
    record_intent(con, alert_id, channel.name, now)
    try:
        channel.send(message)
    except DeliveryError as error:
        drop_intent(con, alert_id, channel.name)
        return str(error)
    except OSError as error:  # the file outbox (a full disk, no permission)
        drop_intent(con, alert_id, channel.name)
        return f"{channel.name}: {type(error).__name__}"
    mark_delivered(con, alert_id, channel.name, now)
    return None


def _deliver_one(
    con: duckdb.DuckDBPyConnection,
    alert: OutboxAlert,
    channels: list[Channel],
    now: dt.datetime,
    resend_unknown: bool,
) -> tuple[set[str], list[str]]:
    """Send to every channel that has not had it yet; the channels that took it, and the
    errors of those that did not."""
    delivered, errors = set(alert.delivered_to), []
    message = Message(
        alert_id=alert.alert_id,
        title=alert.title,
        body=alert.body + ack_footer(alert.alert_id) if alert.audience == "hr" else alert.body,
        attachment=Path(alert.attachment) if alert.attachment else None,
    )
    for channel in _to_send(alert, channels, resend_unknown):
        error = _send(con, alert.alert_id, channel, message, now)
        if error is None:
            delivered.add(channel.name)
        else:
            errors.append(error)
    return delivered, errors


def _file_written(directory: Path, alert_id: int) -> bool:
    """The file outbox holds the alert: its file only appears by a rename of a complete
    one (`FileChannel.send`, `<alert id>-<slug>.md`)."""
    return any(directory.glob(f"{alert_id:05d}-*.md"))


def _took_it(channels: list[Channel]) -> Callable[[int, str], bool | None]:
    """Whether a channel holds an alert: known for the file outbox, unknown (None) for
    every other channel, which cannot be asked."""
    files = {
        channel.name: channel.directory for channel in channels if isinstance(channel, FileChannel)
    }

    def took_it(alert_id: int, channel: str) -> bool | None:
        return _file_written(files[channel], alert_id) if channel in files else None

    return took_it


def _finish(
    con: duckdb.DuckDBPyConnection,
    alert: OutboxAlert,
    delivered: set[str],
    errors: list[str],
    now: dt.datetime,
    result: DeliveryResult,
) -> None:
    """Record how the alert's delivery ended: retried, unknown somewhere, or sent."""
    unknown = set(alert.unknown) - delivered
    if errors:
        mark_failed_attempt(con, alert, delivered, "; ".join(errors), now)
        result.failed.append(alert.alert_id)
    elif unknown:
        mark_unknown(con, alert, delivered, unknown, now)
    else:
        mark_sent(con, alert, delivered, now)
        result.sent.append(alert.alert_id)


def deliver(
    con: duckdb.DuckDBPyConnection,
    audience: str,
    channels: list[Channel],
    now: dt.datetime,
    cap: int | None,
    result: DeliveryResult,
    resend_unknown: bool = False,
) -> None:
    """Settle what a killed run left, then send the due alerts of `audience`, at most
    `cap` a day (None: no cap); with `resend_unknown`, also to the channels that may
    have had them already."""
    result.unknown.update(reconcile(con, audience, _took_it(channels), now))
    waiting = due(con, audience, now, resend_unknown)
    for alert in [a for a in waiting if not _to_send(a, channels, resend_unknown)]:
        _finish(con, alert, set(alert.delivered_to), [], now, result)  # nothing left to send
    waiting = [a for a in waiting if _to_send(a, channels, resend_unknown)]
    if cap is not None:
        budget = max(0, cap - sent_today(con, audience, now))
        result.deferred += max(0, len(waiting) - budget)
        waiting = waiting[:budget]
    for alert in waiting:
        delivered, errors = _deliver_one(con, alert, channels, now, resend_unknown)
        _finish(con, alert, delivered, errors, now, result)


def _record(
    con: duckdb.DuckDBPyConnection, drafts: list[AlertDraft], now: dt.datetime
) -> list[int]:
    with transaction(con):
        return enqueue(con, drafts, now)


def _check_marts(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    built = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
    ).fetchone()[0]
    if not built:
        raise AlertsError(f"{warehouse} has no marts; run `repradar transform` first")


def _channels_and_result(
    warehouse: Path, audience: str, channels: list[Channel] | None = None
) -> tuple[list[Channel], DeliveryResult]:
    """The audience's channels (configured unless given), and an empty result naming them."""
    directory = outbox_directory(warehouse, audience)
    channels = channels if channels is not None else configured_channels(audience, directory)
    result = DeliveryResult(channels=[c.name for c in channels])
    if any(isinstance(c, FileChannel) for c in channels):
        result.outbox_directory = directory
    return channels, result


def send_alerts(
    warehouse: Path,
    *,
    now: dt.datetime | None = None,
    cap: int | None = None,
    channels: list[Channel] | None = None,
    progress: Progress | None = None,
    resend_unknown: bool = False,
) -> DeliveryResult:
    """Record new HR alerts (deduplicated per risk episode) and deliver the due ones.

    `channels` overrides the configured ones (the demo uses its file outbox only). The
    alerts are recorded before the channels are even read, so a broken channel setting
    loses nothing: the alerts wait in the outbox for the next run. `resend_unknown`:
    a person has checked that the alerts a crash left unknown did not arrive; send them.
    """
    if not warehouse.exists():
        raise AlertsError(f"{warehouse} does not exist; run `repradar ingest` first")
    say = progress or (lambda _message: None)
    now = now or utc_now()
    with exclusive_connection(warehouse) as con:
        _check_marts(con, warehouse)
        ensure_outbox(con)
        created = _record(con, hr_alert_drafts(con), now)
        con.execute("CHECKPOINT")
        say(f"{len(created)} new alerts; delivering ...")
        configured, result = _channels_and_result(warehouse, "hr", channels)
        result.created = created
        result.skipped = skipped_alerts(con)
        limit = daily_cap() if cap is None else cap
        deliver(con, "hr", configured, now, limit, result, resend_unknown)
        con.execute("CHECKPOINT")
    return result


def send_report(
    warehouse: Path, draft: AlertDraft, *, now: dt.datetime | None = None
) -> DeliveryResult:
    """Record a leadership report in the outbox (once per ISO week, see
    `report_delivery`) and deliver it, with any earlier report delivery still pending."""
    now = now or utc_now()
    with exclusive_connection(warehouse) as con:
        ensure_outbox(con)
        created = _record(con, [draft], now)
        channels, result = _channels_and_result(warehouse, "leadership")
        result.created = created
        deliver(con, "leadership", channels, now, None, result)
        con.execute("CHECKPOINT")
    return result


def list_outbox(warehouse: Path, status: str | None, limit: int) -> pd.DataFrame:
    if not warehouse.exists():
        raise AlertsError(f"{warehouse} does not exist")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as error:
        raise WarehouseBusy(f"{warehouse} is being written by another run; try again") from error
    with con:
        if not _has_outbox(con):
            return pd.DataFrame()
        return list_alerts(con, status, limit)


def _has_outbox(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'ops' AND table_name = 'alert_outbox'"
        ).fetchone()[0]
    )


def acknowledge_alert(warehouse: Path, alert_id: int, by: str, action: str) -> None:
    if not warehouse.exists():
        raise AlertsError(f"{warehouse} does not exist")
    with exclusive_connection(warehouse) as con:
        ensure_outbox(con)
        acknowledge(con, alert_id, by, action, utc_now())
        con.execute("CHECKPOINT")
