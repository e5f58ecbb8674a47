"""Hostile names in every output: each sink of `pipelines.safe_text` shows markup, links,
mentions and headings as text, drops control and bidi-override characters, shortens what
is too long; the real renderers (alert bodies, Slack, Teams, e-mail, the file outbox, the
report's HTML and PDF, `alerts list`) use them and do not crash."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import socket
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pypdfium2 as pdfium
import pytest
import requests
from aiosmtpd.controller import Controller
from apprise.conversion import markdown_to_html
from typer.testing import CliRunner

from pipelines import safe_text
from pipelines.alerts.channels import AppriseChannel, FileChannel, Message, ack_footer
from pipelines.alerts.drafts import compose_rep_alert, team_alert_drafts
from pipelines.cli import app
from pipelines.cli.output import print_scores
from pipelines.report.charts import funnel_chart
from pipelines.report.content import ReportContent, Section, Table, _key_accounts
from pipelines.report.render import render_html, render_pdf

IMG = "<img src=x onerror=alert(1)>"
CHANNEL = "<!channel>"
USER = "<@U123>"
SLACK_LINK = "<http://evil|click>"
MD_LINK = "[x](https://evil.example)"
HEADING = "# heading\nline"
HEADER_INJECTION = "a\r\nBcc: x@evil"
RTL = "\u202egnp.exe"
ANSI = "\x1b[31mred"
NUL = "\x00"
LONG = "Acme " * 300  # 1,500 characters
CHINESE = "张伟"
CORPUS = [IMG, CHANNEL, USER, SLACK_LINK, MD_LINK, HEADING, HEADER_INJECTION, RTL, ANSI, NUL]
SINKS = [
    safe_text.plain,
    safe_text.subject,
    safe_text.html,
    safe_text.markdown,
    safe_text.terminal,
    safe_text.table_cell,
]
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_characters(text: str) -> list[str]:
    """Control characters (C0, DEL, C1, line breaks) and bidi overrides left in `text`."""
    return [c for c in text if unicodedata.category(c) == "Cc" or c in BIDI]


# --- the sinks, one by one ---------------------------------------------------------------


@pytest.mark.parametrize("sink", SINKS, ids=lambda sink: sink.__name__)
@pytest.mark.parametrize("hostile", [*CORPUS, LONG])
def test_no_sink_lets_a_control_or_bidi_override_character_through(sink, hostile: str) -> None:
    assert unsafe_characters(sink(hostile)) == []


@pytest.mark.parametrize("sink", SINKS, ids=lambda sink: sink.__name__)
def test_every_sink_passes_chinese_names_unchanged(sink) -> None:
    assert sink(CHINESE) == CHINESE
    assert sink("Jürgen Müller") == "Jürgen Müller"


def test_plain_collapses_line_breaks_and_tabs_to_one_space() -> None:
    assert safe_text.plain(HEADING) == "# heading line"
    assert safe_text.plain(HEADER_INJECTION) == "a Bcc: x@evil"
    assert safe_text.plain("a\t\tb\u2028c") == "a b c"
    assert safe_text.plain("Ann  Lee") == "Ann  Lee"


def test_plain_removes_bidi_overrides_escape_characters_and_nul() -> None:
    assert safe_text.plain(RTL) == "gnp.exe"
    assert safe_text.plain("\u2066x\u2069\u200by") == "xy"
    assert safe_text.plain(ANSI) == "[31mred"
    assert safe_text.plain(NUL) == ""
    assert safe_text.plain("a\x85b\x9bc") == "a bc"


def test_plain_keeps_the_joiners_and_marks_that_scripts_need() -> None:
    assert safe_text.plain("\u0645\u200c\u06cc\u200f") == "\u0645\u200c\u06cc\u200f"


def test_plain_shortens_to_the_limit_with_an_ellipsis() -> None:
    assert safe_text.plain("x" * 1500, 80) == "x" * 79 + "…"
    assert safe_text.plain("short", 80) == "short"
    assert len(safe_text.plain(LONG, 80)) <= 80


def test_subject_is_one_short_line_without_markup() -> None:
    assert safe_text.subject(HEADER_INJECTION) == "a Bcc: x@evil"
    assert safe_text.subject(MD_LINK) == "xhttps://evil.example"
    assert safe_text.subject(IMG) == "img src=x onerror=alert1"
    assert safe_text.subject(CHANNEL) == "channel"
    assert len(safe_text.subject(LONG)) == safe_text.SUBJECT_LIMIT
    assert safe_text.subject(LONG).endswith("…")


def test_html_escapes_tags_ampersands_and_quotes() -> None:
    assert safe_text.html(IMG) == "&lt;img src=x onerror=alert(1)&gt;"
    assert safe_text.html("\"Tom\" & 'Jerry'") == "&quot;Tom&quot; &amp; &#x27;Jerry&#x27;"


def test_markdown_escapes_tags_links_and_headings() -> None:
    assert safe_text.markdown(IMG) == "&lt;img src=x onerror=alert(1)&gt;"
    assert safe_text.markdown(MD_LINK) == r"\[x\](https://evil.example)"
    assert safe_text.markdown(HEADING) == r"\# heading line"
    assert safe_text.markdown("*bold* _it_ `code`") == r"\*bold\* \_it\_ \`code\`"


@pytest.mark.parametrize("hostile", [*CORPUS, "*bold* & __strong__ `code` ![i](x.png)"])
def test_markdown_renders_to_html_as_exactly_the_plain_text(hostile: str) -> None:
    rendered = markdown_to_html(f"- {safe_text.markdown(hostile)}")
    assert re.sub(r"</?(ul|li)>|\n", "", rendered) == safe_text.html(hostile, None).replace(
        "&quot;", '"'
    ).replace("&#x27;", "'")


def test_terminal_prints_no_escape_sequence() -> None:
    assert safe_text.terminal(ANSI + "\x1b]0;title\x07") == "[31mred]0;title"


def test_table_cell_caps_a_long_name_at_80_characters() -> None:
    cell = safe_text.table_cell(LONG)
    assert len(cell) == 80
    assert cell.endswith("Acme…")


# --- alert drafts -------------------------------------------------------------------------


def hostile_rep(name: str) -> pd.Series:
    return pd.Series(
        {
            "employee_name": name,
            "team": f"Team {MD_LINK}",
            "manager_name": IMG,
            "band": "High",
            "previous_band": None,
            "probability_change": None,
            "probability": 0.8,
            "month_end": dt.date(2026, 10, 31),
            "revenue_at_risk": 1000.0,
            "book_revenue_12m": 5000.0,
            "driver_1": HEADING,
            "driver_2": CHANNEL,
            "driver_3": None,
            "suggested_successor_name": USER,
        }
    )


def hostile_accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_name": [LONG, SLACK_LINK],
            "segment": [RTL, "Mid"],
            "is_key_account": [True, False],
            "is_single_threaded": [True, False],
            "revenue_12m": [1000.0, 500.0],
            "loss_probability": [0.5, 0.2],
            "exposure": [500.0, 100.0],
        }
    )


def test_rep_alert_title_is_one_line_without_markup() -> None:
    title, _ = compose_rep_alert(hostile_rep(HEADER_INJECTION), [], hostile_accounts(), "USD")
    assert title == "Attrition risk High: a Bcc: x@evil (Team xhttps://evil.example)"


def test_rep_alert_body_shows_every_hostile_value_as_text() -> None:
    _, body = compose_rep_alert(hostile_rep(f"Ann{ANSI}\n# Boss"), [], hostile_accounts(), "USD")
    assert body.splitlines()[0] == (
        r"**Ann\[31mred \# Boss**, Team \[x\](https://evil.example); "
        "manager: &lt;img src=x onerror=alert(1)&gt;"
    )
    assert "- \\# heading line" in body.splitlines()
    assert "- &lt;!channel&gt;" in body.splitlines()
    assert "Suggested successor: &lt;@U123&gt;" in body
    assert "1. " + safe_text.markdown(LONG, 120) + " (gnp.exe, key account" in body
    assert "<" not in body and "\u202e" not in body and "\x1b" not in body


def test_rep_alert_body_has_no_line_injected_by_a_name() -> None:
    _, clean = compose_rep_alert(hostile_rep("Ann"), [], hostile_accounts(), "USD")
    _, hostile = compose_rep_alert(hostile_rep("Ann\n\n# Boss\n- x"), [], hostile_accounts(), "USD")
    assert len(hostile.splitlines()) == len(clean.splitlines())
    assert not [line for line in hostile.splitlines() if line.startswith("#")]


def team_warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with one team of two voluntary exits and a hostile rep."""
    con = duckdb.connect()
    for schema in ("marts", "restricted"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute(
        "CREATE TABLE marts.mart_headcount_attrition AS SELECT ? AS team, "
        "DATE '2026-10-01' AS month_start, 2 AS voluntary_exits, 2 AS exits, "
        "5 AS closing_headcount, false AS is_company_total",
        [f"{CHANNEL} Team\r\nBcc: x@evil"],
    )
    con.execute(
        "CREATE TABLE restricted.mart_rep_risk AS SELECT team, ? AS employee_name, "
        "'High' AS band, 0.9 AS probability FROM marts.mart_headcount_attrition",
        [f"{IMG} {SLACK_LINK} {USER}"],
    )
    con.execute(
        "CREATE TABLE restricted.dim_people AS SELECT team, ? AS manager_name, "
        "NULL::DATE AS termination_date FROM marts.mart_headcount_attrition",
        [MD_LINK],
    )
    return con


def test_team_alert_escapes_the_team_the_manager_and_the_reps_at_risk() -> None:
    [draft] = team_alert_drafts(team_warehouse())
    lines = draft.body.splitlines()
    assert lines[0].startswith(r"**&lt;!channel&gt; Team Bcc: x@evil** lost 2 reps")
    assert lines[1] == r"Manager: \[x\](https://evil.example)"
    assert (
        r"- &lt;img src=x onerror=alert(1)&gt; &lt;http://evil\|click&gt; &lt;@U123&gt; (High)"
        in lines
    )
    assert "<" not in draft.body


def test_team_alert_title_is_one_line_without_markup() -> None:
    [draft] = team_alert_drafts(team_warehouse())
    assert draft.title == "Team alert: channel Team Bcc: x@evil lost 2 reps in 2026 Q4"


# --- channels -------------------------------------------------------------------------------


def hostile_message() -> Message:
    """A team alert's message as `alerts send` delivers it (title as an old outbox row may
    hold it: with a line break)."""
    [draft] = team_alert_drafts(team_warehouse())
    return Message(7, f"Team alert: Ann\r\nBcc: x@evil {CHANNEL}", draft.body + ack_footer(7))


def captured_payload(url: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The JSON that an apprise channel of `url` posts for the hostile message."""
    posted: list[str] = []

    def post(*_args, data=None, **_kwargs) -> requests.Response:
        posted.append(data)
        response = requests.Response()
        response.status_code, response._content = 200, b"ok"
        return response

    monkeypatch.setattr(requests, "post", post)
    monkeypatch.setattr(requests, "request", post)
    AppriseChannel(url, 1).send(hostile_message())
    [payload] = posted
    return json.loads(payload)


def test_slack_payload_has_no_mention_link_or_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = captured_payload("slack://T1234567/B1234567/abcdefghijklmnopqrstuvwx", monkeypatch)
    [attachment] = payload["attachments"]
    text = attachment["text"]
    assert "&lt;!channel&gt; Team Bcc: x@evil" in text
    assert "&lt;img src=x onerror=alert(1)&gt; &lt;http://evil|click&gt; &lt;@U123&gt;" in text
    assert not re.search(r"<[!@]|<http|<img", text)
    assert attachment["title"] == "Team alert: Ann Bcc: x@evil &lt;!channel&gt;"


def test_teams_card_has_no_mention_link_or_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = captured_payload("workflows://host:443/wf123/sig456", monkeypatch)
    [attachment] = payload["attachments"]
    texts = [block.get("text", "") for block in attachment["content"]["body"]]
    assert "Team alert: Ann Bcc: x@evil <!channel>" in texts  # plain text, no mention form
    body = texts[-1]
    assert r"Manager: \[x\](https://evil.example)" in body
    assert "<at>" not in body and "<img" not in body
    assert not re.search(r"(?<!\\)\]\(", body)  # no link: every "]" is escaped
    assert "entities" not in attachment["content"]["msteams"]  # no mention resolved


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_email_with_a_line_break_in_the_title_is_delivered_with_a_one_line_subject(
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=repradar@example.com&to=hr@example.com"
    AppriseChannel(url, 1).send(hostile_message())
    [message] = inbox.messages
    assert message["Subject"] == "Team alert: Ann Bcc: x@evil <!channel>"
    assert message["Bcc"] is None
    html = message.get_body(("html",)).get_content()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "href=" not in html


def test_file_outbox_heading_is_one_line(tmp_path: Path) -> None:
    FileChannel(tmp_path).send(hostile_message())
    [path] = tmp_path.glob("*.md")
    assert path.read_text(encoding="utf-8").splitlines()[0] == (
        "# Team alert: Ann Bcc: x@evil <!channel>"
    )


# --- the report ---------------------------------------------------------------------------


def key_accounts_section(name: str) -> Section:
    """The report's key-account section for one account called `name`."""
    data = SimpleNamespace(
        sources=SimpleNamespace(has=lambda _needs: True),
        currency="USD",
        key_accounts=pd.DataFrame(
            {
                "account_name": [name],
                "segment": [RTL],
                "team": [f"{CHANNEL}\n# Team"],
                "trailing_12m_revenue": [1000.0],
                "days_since_last_touch": [3],
                "documentation_completeness": [0.5],
            }
        ),
    )
    return _key_accounts(data)


def test_report_table_shortens_a_long_account_name_with_an_ellipsis() -> None:
    [row] = key_accounts_section(LONG).table.rows
    assert row[:3] == [safe_text.table_cell(LONG), "gnp.exe", "<!channel> # Team"]
    assert len(row[0]) == 80 and row[0].endswith("…")


def report_with(section: Section) -> ReportContent:
    return ReportContent("repradar leadership report", "Data as of 1 Nov 2026", [section], "f")


def test_report_pdf_with_a_1500_character_account_name_is_written(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    render_pdf(report_with(key_accounts_section(LONG)), {}, dt.datetime(2026, 11, 2), path)
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(path))
    assert "Acme Acme" in text and "…" in text
    assert LONG.strip() not in text


def test_report_pdf_survives_a_long_name_sent_straight_to_a_narrow_column(
    tmp_path: Path,
) -> None:
    """Even a table built without `table_cell` cannot make a row taller than a page."""
    table = Table(["Account", "Team"], [["x" * 1500, LONG]])
    path = tmp_path / "report.pdf"
    render_pdf(
        report_with(Section("Accounts", LONG, table=table)), {}, dt.datetime(2026, 11, 2), path
    )
    assert len(pdfium.PdfDocument(path)) >= 1


def test_report_pdf_shows_hostile_names_as_text(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    render_pdf(report_with(key_accounts_section(IMG)), {}, dt.datetime(2026, 11, 2), path)
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(path))
    assert IMG in text
    assert "\u202e" not in text


def test_report_html_escapes_hostile_names_and_shortens_long_ones() -> None:
    content = report_with(key_accounts_section(f"{IMG} {MD_LINK}"))
    html = render_html(content, {}, dt.datetime(2026, 11, 2))
    assert "<td>&lt;img src=x onerror=alert(1)&gt; [x](https://evil.example)</td>" in html
    assert "<img src=x" not in html and "\u202e" not in html
    long_html = render_html(report_with(key_accounts_section(LONG)), {}, dt.datetime(2026, 11, 2))
    assert f"<td>{safe_text.table_cell(LONG)}</td>" in long_html


def test_funnel_chart_draws_stage_names_with_mathtext_and_long_names() -> None:
    stages = [r"Won $\frac{$ deals", LONG, f"{ANSI}{RTL}Lost"]
    data = SimpleNamespace(
        funnel=pd.DataFrame(
            {"stage_name": stages, "conversion_rate": [0.5, 0.4, 0.3], "entered": [10, 8, 4]}
        ),
        biggest_drop_stage=stages[0],
    )
    assert funnel_chart(data).startswith(b"\x89PNG")


# --- the terminal ---------------------------------------------------------------------------


def test_alerts_list_prints_titles_without_escape_sequences(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {
            "alert_id": [1],
            "created_at": [pd.Timestamp("2026-11-02 06:00")],
            "status": ["sent"],
            "attempts": [1],
            "acked_by": [f"{ANSI}Eve"],
            "title": [f"Attrition risk High: {RTL}\r\n{ANSI}"],
        }
    )
    monkeypatch.setattr("pipelines.alerts.run.list_outbox", lambda *_args: frame)
    result = CliRunner().invoke(app, ["alerts", "list", "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "#1     2026-11-02 06:00  sent    attempts 1  acked by [31mredEve    "
        "Attrition risk High: gnp.exe [31mred"
    ]


def test_score_output_prints_team_names_without_escape_sequences(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {
            "team": [f"{ANSI}West\r\n{RTL}"],
            "reps": [6],
            "high_risk_reps": [1],
            "expected_exits_3m": [0.9],
            "revenue_at_risk": [1000.0],
        }
    )
    monkeypatch.setattr("models_ml.summary.score_lines", lambda _scores: [])
    monkeypatch.setattr("models_ml.summary.risk_by_team", lambda _warehouse: frame)
    print_scores(SimpleNamespace(), tmp_path / "w.duckdb")
    output = capsys.readouterr().out
    assert output.splitlines()[3].startswith("  [31mredWest gnp.ex ")
    assert unsafe_characters(output.replace("\n", "")) == []
