"""`repradar alerts send`: record the alerts the latest marts call for, then deliver what
is due, most urgent first, up to the daily cap. Also delivers a leadership report."""

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
    due,
    enqueue,
    ensure_outbox,
    list_alerts,
    mark_failed_attempt,
    mark_sent,
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
        return lines + self.skipped


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


def _deliver_one(alert: OutboxAlert, channels: list[Channel]) -> tuple[set[str], list[str]]:
    """Send to every channel that has not had it yet; the channels that took it, and the
    errors of those that did not."""
    delivered, errors = set(alert.delivered_to), []
    message = Message(
        alert_id=alert.alert_id,
        title=alert.title,
        body=alert.body + ack_footer(alert.alert_id) if alert.audience == "hr" else alert.body,
        attachment=Path(alert.attachment) if alert.attachment else None,
    )
    for channel in channels:
        if channel.name in delivered:
            continue
        try:
            channel.send(message)
            delivered.add(channel.name)
        except DeliveryError as error:
            errors.append(str(error))
        except OSError as error:  # the file outbox (a full disk, no permission)
            errors.append(f"{channel.name}: {type(error).__name__}")
    return delivered, errors


def deliver(
    con: duckdb.DuckDBPyConnection,
    audience: str,
    channels: list[Channel],
    now: dt.datetime,
    cap: int | None,
    result: DeliveryResult,
) -> None:
    """Send the due alerts of `audience`, at most `cap` a day (None: no cap)."""
    waiting = due(con, audience, now)
    if cap is not None:
        budget = max(0, cap - sent_today(con, audience, now))
        result.deferred += max(0, len(waiting) - budget)
        waiting = waiting[:budget]
    for alert in waiting:
        delivered, errors = _deliver_one(alert, channels)
        if errors:
            mark_failed_attempt(con, alert, delivered, "; ".join(errors), now)
            result.failed.append(alert.alert_id)
        else:
            mark_sent(con, alert, delivered, now)
            result.sent.append(alert.alert_id)


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
) -> DeliveryResult:
    """Record new HR alerts (deduplicated per risk episode) and deliver the due ones.

    `channels` overrides the configured ones (the demo uses its file outbox only). The
    alerts are recorded before the channels are even read, so a broken channel setting
    loses nothing: the alerts wait in the outbox for the next run.
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
        deliver(con, "hr", configured, now, daily_cap() if cap is None else cap, result)
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
