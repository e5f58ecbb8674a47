"""HR alerts: who is alerted, what the alert says, one alert per risk episode unless the
band rises, the daily cap, acknowledgements, and the recommended actions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.alerts.actions import (
    CAREER_TALK,
    MANAGER_FOLLOW_UP,
    PAY_REVIEW,
    STAY_INTERVIEW,
    recommended_actions,
)
from pipelines.alerts.drafts import AlertDraft, _episodes, accounts_to_hand_over
from pipelines.alerts.outbox import enqueue, ensure_outbox
from pipelines.alerts.run import send_alerts
from tests.conftest import run_repradar

NOW = dt.datetime(2026, 11, 2, 6, 0)


def outbox(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT * FROM ops.alert_outbox ORDER BY alert_id").df()


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def test_daily_run_alerted_every_high_risk_rep_into_the_file_outbox(operated: Path) -> None:
    high = query(operated, "SELECT employee_key FROM restricted.mart_rep_risk WHERE band = 'High'")
    sent = outbox(operated)
    reps = sent[sent["kind"] == "rep_risk"]
    assert len(high) > 0
    assert set(reps["subject_key"]) == set(high["employee_key"])
    assert (reps["status"] == "sent").all()
    files = sorted((operated.parent / "outbox" / "hr").glob("*.md"))
    assert len(files) == len(sent)


def test_rep_alert_says_who_why_what_is_at_risk_and_what_to_do(unalerted: Path) -> None:
    send_alerts(unalerted, now=NOW)
    rep = query(
        unalerted,
        "SELECT * FROM restricted.mart_rep_risk WHERE band = 'High' "
        "ORDER BY revenue_at_risk DESC LIMIT 1",
    ).iloc[0]
    alert_id = outbox(unalerted).set_index("subject_key").loc[rep["employee_key"], "alert_id"]
    [path] = (unalerted.parent / "outbox" / "hr").glob(f"{alert_id:05d}-*.md")
    text = path.read_text()
    assert rep["employee_name"] in text and rep["team"] in text and rep["manager_name"] in text
    assert f"Risk of leaving within 3 months: **{rep['probability']:.0%} (High)**" in text
    assert f"12 months {rep['probability_12m']:.0%}" in text
    assert f"1 month {rep['probability_1m']:.0%}," in text
    assert rep["driver_1"] in text
    assert "Accounts to hand over first:\n1. " in text
    assert "Recommended actions:\n- [ ] " + STAY_INTERVIEW in text
    assert "repradar alerts ack" in text


def test_outbox_files_are_readable_by_their_owner_only(unalerted: Path) -> None:
    send_alerts(unalerted, now=NOW)
    directory = unalerted.parent / "outbox" / "hr"
    assert directory.stat().st_mode & 0o777 == 0o700
    assert {path.stat().st_mode & 0o777 for path in directory.glob("*.md")} == {0o600}


def test_a_medium_rep_who_rose_from_low_is_alerted_though_a_scoring_ran_in_between(
    unalerted: Path,
) -> None:
    """The rise is read from the score history, not from the last run's change."""
    medium = query(
        unalerted, "SELECT employee_key FROM restricted.mart_rep_risk WHERE band = 'Medium'"
    )["employee_key"]
    risen, steady = medium.iloc[0], medium.iloc[1]
    with duckdb.connect(str(unalerted)) as con:
        con.execute(
            """INSERT INTO ml.score_runs SELECT * REPLACE ('old-run' AS score_run_id,
                TIMESTAMP '2020-01-01' AS scored_at) FROM ml.score_runs LIMIT 1"""
        )
        con.execute(
            """INSERT INTO ml.rep_attrition_scores SELECT * REPLACE ('old-run' AS
                score_run_id, 'Low' AS band) FROM ml.rep_attrition_scores
            WHERE employee_key = ? LIMIT 1""",
            [risen],
        )
    send_alerts(unalerted, now=NOW)
    alerted = outbox(unalerted).query("kind == 'rep_risk'")
    assert risen in set(alerted["subject_key"])
    assert alerted.set_index("subject_key").loc[risen, "band"] == "Medium"
    assert steady not in set(alerted["subject_key"])  # Medium from its first scoring


def test_a_second_run_sends_nothing_new(unalerted: Path) -> None:
    first = send_alerts(unalerted, now=NOW)
    second = send_alerts(unalerted, now=NOW + dt.timedelta(days=1))
    assert first.created and first.sent
    assert second.created == [] and second.sent == []


def test_team_alert_for_two_exits_in_a_quarter(unalerted: Path) -> None:
    send_alerts(unalerted, now=NOW)
    rows = query(
        unalerted,
        """SELECT team, date_trunc('quarter', month_start) AS quarter,
            sum(voluntary_exits) AS exits
        FROM marts.mart_headcount_attrition WHERE NOT is_company_total
          AND month_start >= DATE '2026-07-01'
        GROUP BY ALL HAVING sum(voluntary_exits) >= 2""",
    )
    expected = {
        (r.team, f"{r.quarter.year} Q{(r.quarter.month - 1) // 3 + 1}") for r in rows.itertuples()
    }
    assert expected, "seed 7 has teams with 2 exits in a recent quarter"
    teams = outbox(unalerted).query("kind == 'team_exits'")
    assert set(zip(teams["subject_key"], teams["episode"], strict=True)) == expected


def test_the_daily_cap_holds_the_rest_for_the_next_day(unalerted: Path) -> None:
    first = send_alerts(unalerted, now=NOW, cap=2)
    later_today = send_alerts(unalerted, now=NOW + dt.timedelta(hours=3), cap=2)
    tomorrow = send_alerts(unalerted, now=NOW + dt.timedelta(days=1), cap=2)
    assert len(first.created) > 4
    assert len(first.sent) == 2 and first.deferred == len(first.created) - 2
    assert later_today.sent == []
    assert len(tomorrow.sent) == 2
    sent = outbox(unalerted).query("status == 'sent'")
    assert (
        sent["priority"].min() >= outbox(unalerted).query("status == 'pending'")["priority"].max()
    )


def test_ack_records_who_and_what_in_the_trail(unalerted: Path) -> None:
    send_alerts(unalerted, now=NOW)
    run_repradar(
        "alerts",
        "ack",
        "1",
        "--by",
        "hr.partner@example.com",
        "--action",
        "stay interview booked",
        "--warehouse",
        str(unalerted),
    )
    run_repradar(
        "alerts",
        "ack",
        "1",
        "--by",
        "hrbp2",
        "--action",
        "pay review opened",
        "--warehouse",
        str(unalerted),
    )
    row = outbox(unalerted).set_index("alert_id").loc[1]
    assert (row["acked_by"], row["ack_action"]) == ("hrbp2", "pay review opened")
    trail = query(
        unalerted,
        "SELECT detail FROM ops.alert_events WHERE event = 'acknowledged' ORDER BY event_at",
    )
    assert list(trail["detail"]) == [
        "hr.partner@example.com: stay interview booked",
        "hrbp2: pay review opened",
    ]


def test_ack_of_an_unknown_alert_fails_with_a_clear_message(unalerted: Path) -> None:
    finished = run_repradar(
        "alerts",
        "ack",
        "999",
        "--by",
        "x",
        "--action",
        "y",
        "--warehouse",
        str(unalerted),
        check=False,
    )
    assert finished.returncode == 1
    assert "no alert 999" in finished.stderr


def test_alerts_list_shows_the_outbox(unalerted: Path) -> None:
    send_alerts(unalerted, now=NOW)
    listed = run_repradar("alerts", "list", "--warehouse", str(unalerted), "--status", "sent")
    assert listed.stdout.count("\n") == len(outbox(unalerted))
    assert "Attrition risk High" in listed.stdout


def draft(subject: str, episode: str, band: str | None, kind: str = "rep_risk") -> AlertDraft:
    return AlertDraft(
        kind=kind,
        audience="hr",
        subject_key=subject,
        episode=episode,
        band=band,
        priority=1,
        revenue_at_risk=0.0,
        title=f"{subject} {band}",
        body="",
    )


@pytest.fixture
def empty_outbox() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_outbox(con)
    return con


def test_one_alert_per_episode_unless_the_band_rises(empty_outbox) -> None:
    con = empty_outbox
    assert enqueue(con, [draft("rep-1", "run-1", "Medium")], NOW) == [1]
    assert enqueue(con, [draft("rep-1", "run-1", "Medium")], NOW) == []
    assert enqueue(con, [draft("rep-1", "run-1", "High")], NOW) == [2]  # rose a band
    assert enqueue(con, [draft("rep-1", "run-1", "High")], NOW) == []
    assert enqueue(con, [draft("rep-1", "run-1", "Medium")], NOW) == []  # fell: no alert
    assert enqueue(con, [draft("rep-1", "run-7", "High")], NOW) == [3]  # a new episode


def test_team_alerts_once_per_team_and_quarter(empty_outbox) -> None:
    con = empty_outbox
    assert enqueue(con, [draft("SMB 1", "2026 Q3", None, "team_exits")], NOW) == [1]
    assert enqueue(con, [draft("SMB 1", "2026 Q3", None, "team_exits")], NOW) == []
    assert enqueue(con, [draft("SMB 1", "2026 Q4", None, "team_exits")], NOW) == [2]


def test_a_risk_episode_starts_after_the_last_low_score() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA restricted")
    con.execute(
        """CREATE TABLE restricted.stg_ml__score_runs AS SELECT * FROM (VALUES
            ('r1', TIMESTAMP '2026-01-01'), ('r2', TIMESTAMP '2026-02-01'),
            ('r3', TIMESTAMP '2026-03-01'), ('r4', TIMESTAMP '2026-04-01'))
            AS t(score_run_id, scored_at)"""
    )
    con.execute(
        """CREATE TABLE restricted.stg_ml__rep_attrition_scores AS SELECT * FROM (VALUES
            ('a', 'r1', 'Medium'), ('a', 'r2', 'Low'), ('a', 'r3', 'Medium'), ('a', 'r4', 'High'),
            ('b', 'r1', 'High'), ('b', 'r2', 'High'), ('b', 'r3', 'Medium'), ('b', 'r4', 'High'),
            ('c', 'r3', 'Low'), ('c', 'r4', 'Low'))
            AS t(employee_key, score_run_id, band)"""
    )
    episodes = _episodes(con).set_index("employee_key")["episode"].to_dict()
    assert episodes == {"a": "r3", "b": "r1"}


def test_actions_follow_the_drivers_without_repeats() -> None:
    actions = recommended_actions(
        ["pay_below_band", "last_engagement", "promotion_overdue_months", "last_satisfaction"],
        band="Medium",
        single_threaded_key_accounts=0,
    )
    assert actions == [PAY_REVIEW, STAY_INTERVIEW, CAREER_TALK]


def test_high_band_always_gets_a_stay_interview_and_key_accounts_a_handover_plan() -> None:
    actions = recommended_actions(["new_manager_6m"], band="High", single_threaded_key_accounts=2)
    assert actions[:2] == [STAY_INTERVIEW, MANAGER_FOLLOW_UP]
    assert actions[2].startswith("Handover plan for 2 single-threaded key accounts")


def test_single_threaded_key_accounts_join_the_top_three_to_hand_over() -> None:
    accounts = pd.DataFrame(
        {
            "account_name": ["A", "B", "C", "D", "E"],
            "is_key_account": [False, True, False, False, True],
            "is_single_threaded": [True, False, False, False, True],
        }
    )
    assert list(accounts_to_hand_over(accounts)["account_name"]) == ["A", "B", "C", "E"]
