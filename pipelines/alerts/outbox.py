"""`ops.alert_outbox`: every alert is recorded here before any attempt to send it.

Status: pending (waiting, or waiting to retry at `next_attempt_at`), sent, failed (gave up
after MAX_ATTEMPTS), unknown (every channel took it or may have: a run was killed between
a send and its record, so a person decides; see `ops.alert_deliveries`).
`ops.alert_events` is the trail: created, attempt failed, delivery unknown, sent,
acknowledged (who, when, what action). Person-level content: HR only, like `restricted`.

`ops.alert_deliveries` is the ledger of one alert on one channel: the intent (`sending`)
is committed immediately before the send and marked `delivered` immediately after, so a
row still `sending` when the next run starts was interrupted by a crash (`reconcile`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipelines.alerts.drafts import BAND_RANK, AlertDraft
from pipelines.errors import RepradarError

MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=15)
LONGEST_RETRY = dt.timedelta(hours=24)

OUTBOX_TABLE = """CREATE TABLE IF NOT EXISTS ops.alert_outbox (
    alert_id BIGINT PRIMARY KEY,
    kind VARCHAR NOT NULL,
    audience VARCHAR NOT NULL,
    subject_key VARCHAR NOT NULL,
    episode VARCHAR NOT NULL,
    band VARCHAR,
    priority INTEGER NOT NULL,
    revenue_at_risk DOUBLE,
    title VARCHAR NOT NULL,
    body VARCHAR NOT NULL,
    attachment VARCHAR,
    score_run_id VARCHAR,
    created_at TIMESTAMP NOT NULL,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_error VARCHAR,
    delivered_to VARCHAR,
    sent_at TIMESTAMP,
    acked_at TIMESTAMP,
    acked_by VARCHAR,
    ack_action VARCHAR
)"""
EVENTS_TABLE = """CREATE TABLE IF NOT EXISTS ops.alert_events (
    alert_id BIGINT NOT NULL,
    event_at TIMESTAMP NOT NULL,
    event VARCHAR NOT NULL,
    detail VARCHAR
)"""
DELIVERIES_TABLE = """CREATE TABLE IF NOT EXISTS ops.alert_deliveries (
    alert_id BIGINT NOT NULL,
    channel VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    intent_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
)"""
SENDING, DELIVERED, UNKNOWN = "sending", "delivered", "unknown"


class UnknownAlert(RepradarError):
    """`ack` of an alert id that is not in the outbox."""


@dataclass(frozen=True)
class OutboxAlert:
    alert_id: int
    audience: str
    title: str
    body: str
    attachment: str | None
    attempts: int
    delivered_to: frozenset[str]
    unknown: frozenset[str] = frozenset()  # channels that may have taken it (a crash)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All of the block's writes, or none of them."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def ensure_outbox(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute(OUTBOX_TABLE)
    con.execute(EVENTS_TABLE)
    con.execute(DELIVERIES_TABLE)  # added by issue 16: created in older warehouses too


def _event(
    con: duckdb.DuckDBPyConnection, alert_id: int, at: dt.datetime, event: str, detail: str | None
) -> None:
    con.execute("INSERT INTO ops.alert_events VALUES (?, ?, ?, ?)", [alert_id, at, event, detail])


def is_new(con: duckdb.DuckDBPyConnection, draft: AlertDraft) -> bool:
    """Not alerted yet for this subject and episode, or only at a lower band."""
    rows = con.execute(
        "SELECT band FROM ops.alert_outbox WHERE kind = ? AND subject_key = ? AND episode = ?",
        [draft.kind, draft.subject_key, draft.episode],
    ).fetchall()
    if not rows:
        return True
    if draft.band is None:
        return False
    alerted = max(BAND_RANK.get(band, -1) for (band,) in rows)
    return BAND_RANK[draft.band] > alerted


def enqueue(
    con: duckdb.DuckDBPyConnection, drafts: list[AlertDraft], now: dt.datetime
) -> list[int]:
    """Record the drafts that are new (see `is_new`) as pending; their ids."""
    ids = []
    for draft in drafts:
        if not is_new(con, draft):
            continue
        alert_id = con.execute(
            "SELECT coalesce(max(alert_id), 0) + 1 FROM ops.alert_outbox"
        ).fetchone()[0]
        con.execute(
            """INSERT INTO ops.alert_outbox (alert_id, kind, audience, subject_key, episode,
                band, priority, revenue_at_risk, title, body, attachment, score_run_id,
                created_at, status, attempts, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)""",
            [
                alert_id,
                draft.kind,
                draft.audience,
                draft.subject_key,
                draft.episode,
                draft.band,
                draft.priority,
                draft.revenue_at_risk,
                draft.title,
                draft.body,
                draft.attachment,
                draft.score_run_id,
                now,
                now,
            ],
        )
        _event(con, alert_id, now, "created", draft.title)
        ids.append(alert_id)
    return ids


def sent_today(con: duckdb.DuckDBPyConnection, audience: str, now: dt.datetime) -> int:
    return con.execute(
        "SELECT count(*) FROM ops.alert_outbox WHERE audience = ? AND status = 'sent' "
        "AND CAST(sent_at AS DATE) = ?",
        [audience, now.date()],
    ).fetchone()[0]


def due(
    con: duckdb.DuckDBPyConnection, audience: str, now: dt.datetime, resend_unknown: bool = False
) -> list[OutboxAlert]:
    """Pending alerts whose time has come, most urgent first (band, then revenue); with
    `resend_unknown`, also the alerts whose delivery is unknown."""
    statuses = ["pending", "unknown"] if resend_unknown else ["pending"]
    rows = con.execute(
        """SELECT o.alert_id, o.audience, o.title, o.body, o.attachment, o.attempts,
            o.delivered_to,
            (SELECT string_agg(d.channel, ',') FROM ops.alert_deliveries d
             WHERE d.alert_id = o.alert_id AND d.state = 'unknown')
        FROM ops.alert_outbox o
        WHERE o.audience = ? AND list_contains(?, o.status)
          AND (o.status = 'unknown' OR o.next_attempt_at <= ?)
        ORDER BY o.priority DESC, o.revenue_at_risk DESC NULLS LAST, o.alert_id""",
        [audience, statuses, now],
    ).fetchall()
    return [
        OutboxAlert(
            alert_id=row[0],
            audience=row[1],
            title=row[2],
            body=row[3],
            attachment=row[4],
            attempts=row[5],
            delivered_to=_channel_set(row[6]),
            unknown=_channel_set(row[7]),
        )
        for row in rows
    ]


def _channel_set(names: str | None) -> frozenset[str]:
    return frozenset(filter(None, (names or "").split(",")))


def record_intent(
    con: duckdb.DuckDBPyConnection, alert_id: int, channel: str, now: dt.datetime
) -> None:
    """Commit that `channel` is about to be sent `alert_id`: call immediately before the
    send (replaces an earlier unknown or dropped intent of the same pair)."""
    with transaction(con):
        con.execute(
            "DELETE FROM ops.alert_deliveries WHERE alert_id = ? AND channel = ?",
            [alert_id, channel],
        )
        con.execute(
            "INSERT INTO ops.alert_deliveries VALUES (?, ?, 'sending', ?, NULL)",
            [alert_id, channel, now],
        )


def drop_intent(con: duckdb.DuckDBPyConnection, alert_id: int, channel: str) -> None:
    """The send did not happen (the channel refused it): forget the intent."""
    con.execute(
        "DELETE FROM ops.alert_deliveries WHERE alert_id = ? AND channel = ? AND state = 'sending'",
        [alert_id, channel],
    )


def mark_delivered(
    con: duckdb.DuckDBPyConnection, alert_id: int, channel: str, now: dt.datetime
) -> None:
    """Record that `channel` took `alert_id`: call immediately after the send. The
    alert's `delivered_to` gains the channel in the same transaction, so a later run
    never sends it there again, whatever happens to the rest of this one."""
    with transaction(con):
        con.execute(
            "UPDATE ops.alert_deliveries SET state = 'delivered', delivered_at = ? "
            "WHERE alert_id = ? AND channel = ?",
            [now, alert_id, channel],
        )
        (names,) = con.execute(
            "SELECT delivered_to FROM ops.alert_outbox WHERE alert_id = ?", [alert_id]
        ).fetchone()
        con.execute(
            "UPDATE ops.alert_outbox SET delivered_to = ? WHERE alert_id = ?",
            [",".join(sorted(_channel_set(names) | {channel})), alert_id],
        )


def reconcile(
    con: duckdb.DuckDBPyConnection,
    audience: str,
    took_it: Callable[[int, str], bool | None],
    now: dt.datetime,
) -> dict[int, list[str]]:
    """Settle the deliveries a killed run left between intent and record (run it under
    the writer lock, so no live run is sending). `took_it(alert_id, channel)` says whether
    the channel has the alert (True), has not (False) or cannot tell (None). True: marked
    delivered; False: the intent is dropped, so the alert is sent there again; None:
    marked unknown and not sent again unless a person asks. The channels marked unknown,
    by alert id."""
    interrupted = con.execute(
        """SELECT d.alert_id, d.channel FROM ops.alert_deliveries d
        JOIN ops.alert_outbox o USING (alert_id)
        WHERE d.state = 'sending' AND o.audience = ? ORDER BY d.alert_id, d.channel""",
        [audience],
    ).fetchall()
    unknown: dict[int, list[str]] = {}
    for alert_id, channel in interrupted:
        verdict = took_it(alert_id, channel)
        if verdict is True:
            mark_delivered(con, alert_id, channel, now)
        elif verdict is False:
            drop_intent(con, alert_id, channel)
        else:
            _mark_unknown_delivery(con, alert_id, channel, now)
            unknown.setdefault(alert_id, []).append(channel)
    return unknown


def _mark_unknown_delivery(
    con: duckdb.DuckDBPyConnection, alert_id: int, channel: str, now: dt.datetime
) -> None:
    with transaction(con):
        con.execute(
            "UPDATE ops.alert_deliveries SET state = 'unknown' WHERE alert_id = ? AND channel = ?",
            [alert_id, channel],
        )
        _event(
            con,
            alert_id,
            now,
            "delivery unknown",
            f"{channel}: may have been delivered (a run stopped between the send and its "
            "record); not sent again",
        )


def backoff(attempts: int) -> dt.timedelta:
    """15 minutes after the first failure, doubling, at most a day."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def mark_sent(
    con: duckdb.DuckDBPyConnection, alert: OutboxAlert, channels: set[str], now: dt.datetime
) -> None:
    with transaction(con):
        con.execute(
            """UPDATE ops.alert_outbox SET status = 'sent', attempts = attempts + 1,
                sent_at = ?, delivered_to = ?, next_attempt_at = NULL, last_error = NULL
            WHERE alert_id = ?""",
            [now, ",".join(sorted(channels)), alert.alert_id],
        )
        _event(con, alert.alert_id, now, "sent", ",".join(sorted(channels)))


def mark_unknown(
    con: duckdb.DuckDBPyConnection,
    alert: OutboxAlert,
    delivered: set[str],
    unknown: set[str],
    now: dt.datetime,
) -> None:
    """Every channel took the alert or may have (`unknown`, after a crash): nothing is
    left to send, and whether it arrived everywhere is for a person to check."""
    with transaction(con):
        con.execute(
            """UPDATE ops.alert_outbox SET status = 'unknown', attempts = attempts + 1,
                delivered_to = ?, next_attempt_at = NULL, last_error = ?
            WHERE alert_id = ?""",
            [
                ",".join(sorted(delivered)) or None,
                f"may have been delivered: {', '.join(sorted(unknown))}",
                alert.alert_id,
            ],
        )


def mark_failed_attempt(
    con: duckdb.DuckDBPyConnection,
    alert: OutboxAlert,
    delivered: set[str],
    error: str,
    now: dt.datetime,
) -> None:
    """Count the attempt; retry after `backoff`, or give up after MAX_ATTEMPTS. Channels
    that did receive it are remembered so a retry does not send it there twice."""
    attempts = alert.attempts + 1
    gave_up = attempts >= MAX_ATTEMPTS
    with transaction(con):
        con.execute(
            """UPDATE ops.alert_outbox SET attempts = ?, status = ?, next_attempt_at = ?,
                last_error = ?, delivered_to = ? WHERE alert_id = ?""",
            [
                attempts,
                "failed" if gave_up else "pending",
                None if gave_up else now + backoff(attempts),
                error[:1000],
                ",".join(sorted(delivered)) or None,
                alert.alert_id,
            ],
        )
        _event(con, alert.alert_id, now, "gave up" if gave_up else "attempt failed", error[:1000])


def acknowledge(
    con: duckdb.DuckDBPyConnection, alert_id: int, by: str, action: str, now: dt.datetime
) -> None:
    """Record who acknowledged an alert and what they did (kept in the events trail too,
    so a later acknowledgement never erases an earlier one)."""
    found = con.execute(
        "SELECT count(*) FROM ops.alert_outbox WHERE alert_id = ?", [alert_id]
    ).fetchone()[0]
    if not found:
        raise UnknownAlert(f"no alert {alert_id} in ops.alert_outbox; see `repradar alerts list`")
    with transaction(con):
        con.execute(
            "UPDATE ops.alert_outbox SET acked_at = ?, acked_by = ?, ack_action = ? "
            "WHERE alert_id = ?",
            [now, by, action, alert_id],
        )
        _event(con, alert_id, now, "acknowledged", f"{by}: {action}")


def list_alerts(
    con: duckdb.DuckDBPyConnection, status: str | None = None, limit: int = 50
) -> pd.DataFrame:
    """The outbox, newest first; `unknown_channels`: those that may have taken the alert
    before a crash (see `reconcile`; none in a warehouse older than the ledger, which a
    read-only connection cannot add)."""
    where = "WHERE status = ?" if status else ""
    unknown = (
        """(SELECT string_agg(d.channel, ',' ORDER BY d.channel) FROM ops.alert_deliveries d
            WHERE d.alert_id = o.alert_id AND d.state = 'unknown')"""
        if _has_deliveries(con)
        else "CAST(NULL AS VARCHAR)"
    )
    return con.execute(
        f"""SELECT alert_id, created_at, kind, audience, band, status, attempts, sent_at,
            acked_by, title, {unknown} AS unknown_channels
        FROM ops.alert_outbox o {where} ORDER BY alert_id DESC LIMIT ?""",
        [status, limit] if status else [limit],
    ).df()


def _has_deliveries(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'ops' AND table_name = 'alert_deliveries'"
        ).fetchone()[0]
    )
