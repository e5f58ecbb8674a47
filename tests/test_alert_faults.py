"""`repradar alerts send` killed (SIGKILL) mid-delivery: no channel gets an alert twice.

The crash is injected from outside the product: a `python -c` wrapper replaces one
function with one that kills its own process at the k-th call, then runs the real CLI.
E-mail goes to a real SMTP server on 127.0.0.1 (aiosmtpd); the file outbox is on disk.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from pipelines.alerts.drafts import hr_alert_drafts
from pipelines.alerts.run import list_outbox, send_alerts
from pipelines.cli import app
from tests.conftest import REPO
from tests.test_alert_delivery import Inbox, free_port, mail_url

K = 3  # the alert (in delivery order) during which the run is killed

CRASH_AT_K = """
import os, signal, sys
import importlib
module_name, attribute, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
owner = importlib.import_module(module_name)
*path, name = attribute.split(".")
for part in path:
    owner = getattr(owner, part)
real, calls = getattr(owner, name), [0]
def crash_at_k(*args, **kwargs):
    calls[0] += 1
    if calls[0] == k:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
setattr(owner, name, crash_at_k)
from pipelines.cli import app
app(sys.argv[4:], prog_name="repradar")
"""

# The moments a run can be killed at, as (module, function) replaced by the wrapper.
BEFORE_THE_EMAIL = ("pipelines.alerts.channels", "AppriseChannel.send")
BEFORE_THE_FILE = ("pipelines.alerts.channels", "FileChannel.send")
AFTER_THE_SEND = ("pipelines.alerts.run", "mark_delivered")  # sent, not yet recorded
AFTER_THE_RECORD = ("pipelines.alerts.run", "mark_sent")  # recorded, alert not closed


@pytest.fixture
def unsent(unalerted: Path) -> Path:
    """`unalerted` with an empty delivery ledger too (its alert ids start again at 1)."""
    with duckdb.connect(str(unalerted)) as con:
        con.execute("DELETE FROM ops.alert_deliveries")
    return unalerted


@pytest.fixture
def alerts(unsent: Path) -> int:
    """How many alerts the daily-run warehouse calls for (read before any run)."""
    with duckdb.connect(str(unsent), read_only=True) as con:
        count = len(hr_alert_drafts(con))
    assert count > K, "the warehouse must call for more alerts than the one killed"
    return count


@pytest.fixture
def by_email(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """Alerts go to an SMTP server on 127.0.0.1 only (the killed run inherits this)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.delenv("REPRADAR_ALERT_BLOCKS", raising=False)
    monkeypatch.setenv("REPRADAR_ALERT_URLS", mail_url(controller.port))
    yield inbox
    controller.stop()


@pytest.fixture
def by_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """No channel configured: the file outbox next to the warehouse."""
    monkeypatch.delenv("REPRADAR_ALERT_URLS", raising=False)
    monkeypatch.delenv("REPRADAR_ALERT_BLOCKS", raising=False)


def killed_send(warehouse: Path, moment: tuple[str, str]) -> None:
    """`repradar alerts send`, killed with SIGKILL at the K-th call of `moment`."""
    command = ["alerts", "send", "--warehouse", str(warehouse)]
    finished = subprocess.run(
        [sys.executable, "-c", CRASH_AT_K, *moment, str(K), *command],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert finished.returncode == -signal.SIGKILL, finished.stderr


def rerun(warehouse: Path, *options: str) -> str:
    """`repradar alerts send` in-process; its output."""
    command = ["alerts", "send", "--warehouse", str(warehouse), *options]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    return result.output


def statuses(warehouse: Path) -> dict[int, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("SELECT alert_id, status FROM ops.alert_outbox").fetchall())


def deliveries(warehouse: Path) -> dict[tuple[int, str], str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT alert_id, channel, state FROM ops.alert_deliveries")
        return {(alert_id, channel): state for alert_id, channel, state in rows.fetchall()}


def alert_titled(warehouse: Path, title: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        query = "SELECT alert_id FROM ops.alert_outbox WHERE title = ?"
        return con.execute(query, [title]).fetchone()[0]


def subjects(inbox: Inbox) -> list[str]:
    return [message["Subject"] for message in inbox.messages]


def outbox_files(warehouse: Path) -> list[Path]:
    return sorted((warehouse.parent / "outbox" / "hr").iterdir())


def test_killed_after_the_email_went_out_that_alert_is_not_sent_again(
    unsent: Path, by_email: Inbox, alerts: int
) -> None:
    killed_send(unsent, AFTER_THE_SEND)
    assert len(by_email.messages) == K
    crashed = alert_titled(unsent, subjects(by_email)[K - 1])
    assert deliveries(unsent)[crashed, "mailto-1"] == "sending"

    output = rerun(unsent)
    assert len(by_email.messages) == len(set(subjects(by_email))) == alerts  # none twice
    assert statuses(unsent) == {
        alert_id: "unknown" if alert_id == crashed else "sent" for alert_id in range(1, alerts + 1)
    }
    assert deliveries(unsent)[crashed, "mailto-1"] == "unknown"
    assert (
        f"1 alerts may have been delivered already (a run stopped between the send and its "
        f"record), not sent again: #{crashed} (mailto-1)"
    ) in output


def test_killed_before_the_email_went_out_that_alert_is_unknown_too(
    unsent: Path, by_email: Inbox, alerts: int
) -> None:
    """An SMTP server cannot be asked what it received: the intent alone makes the
    delivery unknown, so the alert is held back rather than risk a second e-mail."""
    killed_send(unsent, BEFORE_THE_EMAIL)
    assert len(by_email.messages) == K - 1
    [crashed] = [key[0] for key, state in deliveries(unsent).items() if state == "sending"]

    rerun(unsent)
    assert len(by_email.messages) == len(set(subjects(by_email))) == alerts - 1
    assert crashed not in {alert_titled(unsent, title) for title in subjects(by_email)}
    assert statuses(unsent) == {
        alert_id: "unknown" if alert_id == crashed else "sent" for alert_id in range(1, alerts + 1)
    }


def test_an_unknown_alert_is_sent_again_only_when_asked_and_then_once(
    unsent: Path, by_email: Inbox, alerts: int
) -> None:
    killed_send(unsent, AFTER_THE_SEND)
    crashed_title = subjects(by_email)[K - 1]
    rerun(unsent)
    assert rerun(unsent).count("may have been delivered") == 0  # reported once
    assert len(by_email.messages) == alerts

    assert "recorded; 1 sent," in rerun(unsent, "--resend-unknown")
    again = send_alerts(unsent, resend_unknown=True)
    crashed = alert_titled(unsent, crashed_title)
    assert again.sent == []
    assert subjects(by_email).count(crashed_title) == 2  # a person's decision
    assert len(by_email.messages) == alerts + 1
    assert set(statuses(unsent).values()) == {"sent"}
    assert deliveries(unsent)[crashed, "mailto-1"] == "delivered"


def test_alerts_list_shows_the_unknown_delivery(unsent: Path, by_email: Inbox) -> None:
    killed_send(unsent, AFTER_THE_SEND)
    rerun(unsent)
    crashed = alert_titled(unsent, subjects(by_email)[K - 1])
    command = ["alerts", "list", "--warehouse", str(unsent), "--status", "unknown"]
    listed = CliRunner().invoke(app, command)
    [line] = listed.output.splitlines()
    assert line.startswith(f"#{crashed} ") and " unknown " in line
    frame = list_outbox(unsent, "unknown", 50)
    assert list(zip(frame["alert_id"], frame["unknown_channels"], strict=True)) == [
        (crashed, "mailto-1")
    ]


def test_killed_after_the_delivered_mark_the_rerun_closes_the_alert_and_sends_nothing_twice(
    unsent: Path, by_email: Inbox, alerts: int
) -> None:
    killed_send(unsent, AFTER_THE_RECORD)
    assert len(by_email.messages) == K
    output = rerun(unsent)
    assert len(by_email.messages) == len(set(subjects(by_email))) == alerts
    assert set(statuses(unsent).values()) == {"sent"}
    assert "may have been delivered" not in output


def test_killed_after_the_file_was_written_the_file_is_not_written_again(
    unsent: Path, by_file: None, alerts: int
) -> None:
    killed_send(unsent, AFTER_THE_SEND)
    [*_, written] = outbox_files(unsent)
    assert len(outbox_files(unsent)) == K
    inode = written.stat().st_ino

    output = rerun(unsent)
    assert len(outbox_files(unsent)) == alerts
    assert written.stat().st_ino == inode  # the same file, not replaced by a second send
    assert set(statuses(unsent).values()) == {"sent"}
    assert set(deliveries(unsent).values()) == {"delivered"}
    assert "may have been delivered" not in output


def test_killed_before_the_file_was_written_the_rerun_writes_it_once(
    unsent: Path, by_file: None, alerts: int
) -> None:
    killed_send(unsent, BEFORE_THE_FILE)
    assert len(outbox_files(unsent)) == K - 1

    rerun(unsent)
    files = outbox_files(unsent)
    assert [path.name[:6] for path in files] == [f"{n:05d}-" for n in range(1, alerts + 1)]
    assert all(path.suffix == ".md" for path in files)  # no partial file left over
    assert set(statuses(unsent).values()) == {"sent"}
    assert set(deliveries(unsent).values()) == {"delivered"}


def test_a_warehouse_older_than_the_delivery_ledger_lists_and_sends(
    unsent: Path, by_file: None, alerts: int
) -> None:
    with duckdb.connect(str(unsent)) as con:
        con.execute("DROP TABLE ops.alert_deliveries")
    assert list_outbox(unsent, None, 50).empty  # read-only: no ledger, no error
    assert len(send_alerts(unsent).sent) == alerts
    assert set(list_outbox(unsent, None, 50)["unknown_channels"].isna()) == {True}
