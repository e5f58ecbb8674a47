"""Delivery for real: e-mail to an SMTP server on 127.0.0.1 (aiosmtpd), a webhook to an
HTTP server on 127.0.0.1; retries after an outage, exactly once; secrets never logged."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from aiosmtpd.controller import Controller

from pipelines.alerts.channels import ChannelConfigError
from pipelines.alerts.run import send_alerts, send_report
from pipelines.report import build_report
from pipelines.report.build import report_delivery

NOW = dt.datetime(2026, 11, 2, 6, 0)
SECRET = "S3cret-Pa55word"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict], int]]:
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, server.server_address[1]
    server.shutdown()


def mail_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=repradar@example.com&to=hr@example.com"


def outbox(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM ops.alert_outbox ORDER BY alert_id").df()


def html_part(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_an_email_alert_arrives_with_the_drivers_and_actions(
    unalerted: Path, smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    monkeypatch.setenv("REPRADAR_ALERT_URLS", mail_url(port))
    result = send_alerts(unalerted, now=NOW)
    assert len(inbox.messages) == len(result.created) == len(result.sent) > 0
    first = outbox(unalerted).iloc[0]
    [message] = [m for m in inbox.messages if m["Subject"] == first["title"]]
    assert message["To"] == "hr@example.com"
    body = html_part(message)
    assert "Why (top drivers):" in body and "Recommended actions:" in body
    assert f"repradar alerts ack {first['alert_id']}" in body


def test_account_names_in_an_email_are_text_not_markup(
    unalerted: Path, smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    monkeypatch.setenv("REPRADAR_ALERT_URLS", mail_url(port))
    send_alerts(unalerted, now=NOW)
    bodies = [html_part(m) for m in inbox.messages]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in b for b in bodies)
    assert any("[x](https://evil.example)" in b for b in bodies)  # shown, as text
    assert not any("<script" in b.lower() or "<b>sons" in b.lower() for b in bodies)
    assert not any('href="https://evil' in b for b in bodies)


def test_a_webhook_alert_reaches_the_http_endpoint(
    unalerted: Path, webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    received, port = webhook
    monkeypatch.setenv("REPRADAR_ALERT_URLS", f"json://127.0.0.1:{port}/hooks/hr")
    result = send_alerts(unalerted, now=NOW)
    assert len(received) == len(result.sent) > 0
    titles = {payload["title"] for payload in received}
    assert titles == set(outbox(unalerted)["title"])
    assert all("Recommended actions" in payload["message"] for payload in received)


def test_smtp_down_keeps_alerts_pending_then_delivers_each_exactly_once(
    unalerted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = Inbox()
    port = free_port()
    monkeypatch.setenv("REPRADAR_ALERT_URLS", mail_url(port))

    down = send_alerts(unalerted, now=NOW)  # nothing listens on the port yet
    pending = outbox(unalerted)
    assert down.sent == [] and len(down.failed) == len(down.created) > 0
    assert (pending["status"] == "pending").all() and (pending["attempts"] == 1).all()
    assert (pending["next_attempt_at"] > pd.Timestamp(NOW)).all()

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        too_soon = send_alerts(unalerted, now=NOW + dt.timedelta(minutes=5))  # backoff: wait
        delivered_too_soon = len(inbox.messages)
        back = send_alerts(unalerted, now=NOW + dt.timedelta(hours=1))
        again = send_alerts(unalerted, now=NOW + dt.timedelta(hours=2))
    finally:
        controller.stop()
    assert too_soon.sent == [] and delivered_too_soon == 0
    assert sorted(back.sent) == sorted(down.created)
    assert again.sent == [] and again.created == []
    subjects = [m["Subject"] for m in inbox.messages]
    assert sorted(subjects) == sorted(pending["title"])  # each exactly once
    assert (outbox(unalerted)["attempts"] == 2).all()


def test_a_retry_skips_the_channels_that_already_took_the_alert(
    unalerted: Path, webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    received, hook_port = webhook
    monkeypatch.setenv(
        "REPRADAR_ALERT_URLS", f"json://127.0.0.1:{hook_port}/h {mail_url(free_port())}"
    )
    first = send_alerts(unalerted, now=NOW)
    assert len(received) == len(first.failed) > 0  # webhook fine, e-mail down
    monkeypatch.setenv("REPRADAR_ALERT_URLS", f"json://127.0.0.1:{hook_port}/h")
    send_alerts(unalerted, now=NOW + dt.timedelta(hours=1))
    assert len(received) == len(first.failed)  # the webhook got nothing twice
    assert (outbox(unalerted)["status"] == "sent").all()


def test_secrets_in_channel_urls_never_reach_logs_or_the_outbox(
    unalerted: Path, caplog: pytest.LogCaptureFixture, capfd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "REPRADAR_ALERT_URLS",
        f"mailto://hr-bot:{SECRET}@127.0.0.1:{free_port()}?from=repradar@example.com"
        "&to=hr@example.com",
    )
    with caplog.at_level(1):  # every level, apprise's TRACE included
        result = send_alerts(unalerted, now=NOW)
    assert result.failed
    captured = capfd.readouterr()
    assert SECRET not in caplog.text + captured.out + captured.err
    table = outbox(unalerted)
    assert not table["last_error"].str.contains(SECRET).any()
    assert table["last_error"].str.startswith("mailto-1").all()


def test_a_url_that_does_not_parse_is_named_not_logged_and_the_alerts_wait(
    unalerted: Path, caplog: pytest.LogCaptureFixture, capfd, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = f"mailtos://hr-bot:Pa55/{SECRET}#@smtp.example.com?to=hr@example.com"
    monkeypatch.setenv("REPRADAR_ALERT_URLS", broken)
    with caplog.at_level(1), pytest.raises(ChannelConfigError, match=r"REPRADAR_ALERT_URLS"):
        send_alerts(unalerted, now=NOW)
    captured = capfd.readouterr()
    assert SECRET not in caplog.text + captured.out + captured.err
    waiting = outbox(unalerted)
    assert len(waiting) > 0 and (waiting["status"] == "pending").all()
    assert (waiting["attempts"] == 0).all()


def test_the_weekly_report_email_carries_the_pdf(
    unalerted: Path, smtp, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    inbox, port = smtp
    monkeypatch.setenv("REPRADAR_REPORT_URLS", mail_url(port).replace("hr@", "vp-sales@"))
    report = build_report(unalerted, tmp_path / "report")
    sent = send_report(unalerted, report_delivery(report, NOW), now=NOW)
    resent = send_report(unalerted, report_delivery(report, NOW + dt.timedelta(days=1)), now=NOW)
    assert len(sent.sent) == 1 and resent.created == []  # one report per week
    [message] = inbox.messages
    assert message["To"] == "vp-sales@example.com"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == report.pdf.name
    assert attachment.get_content().startswith(b"%PDF")
    assert message["Subject"].startswith("repradar leadership report: Data as of")
    assert "Bookings" in html_part(message)


def test_a_prefect_notification_block_is_a_channel(
    prefect_server, unalerted: Path, webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    received, port = webhook
    CustomWebhookNotificationBlock(
        name="hr-test",
        url=f"http://127.0.0.1:{port}/hooks/prefect",
        json_data={"subject": "{{subject}}", "text": "{{body}}"},
    ).save("hr-test", overwrite=True)
    monkeypatch.delenv("REPRADAR_ALERT_URLS", raising=False)
    monkeypatch.setenv("REPRADAR_ALERT_BLOCKS", "custom-webhook/hr-test")
    result = send_alerts(unalerted, now=NOW)
    assert len(received) == len(result.sent) == len(result.created) > 0
    assert {payload["subject"] for payload in received} == set(outbox(unalerted)["title"])
    assert set(outbox(unalerted)["delivered_to"]) == {"block-custom-webhook/hr-test"}
