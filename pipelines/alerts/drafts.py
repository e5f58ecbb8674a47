"""Which HR alerts the latest scoring calls for, and what they say.

Rep alert: a rep whose band is High, or went up a band since the last scoring run. A risk
episode is the run of scorings since the rep was last Low; within one episode a rep is
alerted once per band (so again only if the band rises). Team alert: a team with
`TEAM_EXITS` or more voluntary exits in a calendar quarter (this quarter or the last),
once per team and quarter.

Reads the restricted marts (names, drivers, accounts): this is an HR-only flow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipelines.alerts.actions import recommended_actions, team_actions
from pipelines.formatting import money
from pipelines.safe_text import markdown, subject

TEAM_EXITS = 2
ACCOUNTS_TO_HAND_OVER = 3
BAND_RANK = {"Low": 0, "Medium": 1, "High": 2}
PRIORITY = {"rep-High": 3, "team": 2, "rep-Medium": 1}
NAME_LIMIT = 120  # characters of a name, team, account or driver in an alert
CURRENCY_LIMIT = 8


@dataclass(frozen=True)
class AlertDraft:
    kind: str  # rep_risk | team_exits | leadership_report
    audience: str  # hr | leadership
    subject_key: str  # employee_key, team, or report date
    episode: str  # first score run of the risk episode, the quarter, or the report date
    band: str | None
    priority: int
    revenue_at_risk: float
    title: str
    body: str  # markdown
    score_run_id: str | None = None
    attachment: str | None = None


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def _has_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    if not _table_exists(con, schema, table):
        return False
    return con.execute(f"SELECT EXISTS (SELECT 1 FROM {schema}.{table})").fetchone()[0]


def _episodes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per rep, the first scoring run of the current streak of Medium/High bands, and
    whether the streak rose from a Low score (not just began at the first scoring)."""
    return con.execute(
        """WITH runs AS (
            SELECT scores.employee_key, scores.band, scores.score_run_id, score_runs.scored_at
            FROM restricted.stg_ml__rep_attrition_scores AS scores
            JOIN restricted.stg_ml__score_runs AS score_runs USING (score_run_id)
        ),
        last_low AS (
            SELECT employee_key, max(scored_at) AS last_low_at FROM runs
            WHERE band = 'Low' GROUP BY employee_key
        )
        SELECT runs.employee_key, arg_min(runs.score_run_id, runs.scored_at) AS episode,
            bool_or(last_low.last_low_at IS NOT NULL) AS rose_from_low
        FROM runs LEFT JOIN last_low USING (employee_key)
        WHERE runs.scored_at > coalesce(last_low.last_low_at, TIMESTAMP '1900-01-01')
        GROUP BY runs.employee_key"""
    ).df()


def _rep_candidates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Latest scores that are High, or Medium in an episode that rose from Low. Read from
    the score history, not the last run's change, so a rise is not missed when a scoring
    ran without an alerts run after it; the outbox keeps it to one alert per band."""
    reps = con.execute("SELECT * FROM restricted.mart_rep_risk WHERE band <> 'Low'").df()
    reps = reps.merge(_episodes(con), on="employee_key", how="left")
    rose = reps["rose_from_low"].fillna(False).astype(bool)
    return reps[(reps["band"] == "High") | ((reps["band"] == "Medium") & rose)]


def _drivers(con: duckdb.DuckDBPyConnection, score_run_id: str) -> pd.DataFrame:
    return con.execute(
        """SELECT employee_key, feature_name FROM restricted.stg_ml__rep_risk_drivers
        WHERE score_run_id = ? ORDER BY employee_key, driver_rank""",
        [score_run_id],
    ).df()


def _accounts(con: duckdb.DuckDBPyConnection, score_run_id: str) -> pd.DataFrame:
    return con.execute(
        """SELECT losses.owner_employee_key AS employee_key, coverage.account_name,
            losses.segment, losses.is_key_account, losses.is_single_threaded,
            losses.revenue_12m, losses.loss_probability, losses.exposure
        FROM restricted.stg_ml__account_loss_scores AS losses
        JOIN marts.mart_account_coverage AS coverage USING (account_id)
        WHERE losses.score_run_id = ?
        ORDER BY losses.owner_employee_key, losses.exposure DESC, losses.account_id""",
        [score_run_id],
    ).df()


def _horizon(rep: pd.Series) -> int:
    """The horizon of the rep's probability and band (3 months before issue #19)."""
    months = rep.get("horizon_months")
    return 3 if months is None or pd.isna(months) else int(months)


def _other_horizons(rep: pd.Series) -> list[str]:
    """The risk over the other horizons, when the scoring has them."""
    shown = _horizon(rep)
    parts = [
        f"{months} month{'s' if months > 1 else ''} {rep[f'probability_{months}m']:.0%}"
        for months in (1, 3, 6, 12)
        if months != shown and pd.notna(rep.get(f"probability_{months}m"))
    ]
    return [f"- Over other horizons: {', '.join(parts)}"] if parts else []


def _change_text(rep: pd.Series) -> str:
    if pd.isna(rep["previous_band"]) or pd.isna(rep["probability_change"]):
        return "first scoring"
    points = rep["probability_change"] * 100
    return f"was {_name(rep['previous_band'])} at the last run ({points:+.1f} pts)"


def accounts_to_hand_over(accounts: pd.DataFrame) -> pd.DataFrame:
    """The rep's accounts with the most exposure, then any single-threaded key account
    not among them (accounts arrive ranked by exposure)."""
    top = accounts.head(ACCOUNTS_TO_HAND_OVER)
    key_single = accounts[accounts["is_key_account"] & accounts["is_single_threaded"]]
    return pd.concat([top, key_single[~key_single.index.isin(top.index)]])


def _account_lines(accounts: pd.DataFrame, currency: str) -> list[str]:
    lines = []
    for number, account in enumerate(accounts_to_hand_over(accounts).itertuples(), 1):
        flags = [
            flag
            for flag, on in (
                ("key account", account.is_key_account),
                ("single-threaded", account.is_single_threaded),
            )
            if on
        ]
        lines.append(
            f"{number}. {_name(account.account_name)} ({_name(account.segment)}"
            + (f", {', '.join(flags)}" if flags else "")
            + f"): {money(account.revenue_12m, currency)} in 12 months, "
            f"{account.loss_probability:.0%} likely lost if the rep leaves"
        )
    return lines


def _name(value: object) -> str:
    """A value from the data (a name, team, account, driver, band) as markdown text, at
    most NAME_LIMIT characters; "n/a" when missing."""
    text = markdown(value, NAME_LIMIT) if pd.notna(value) else ""
    return text or "n/a"


def _title_name(value: object) -> str:
    """A value from the data for a message title (plain, one line, no markup)."""
    text = subject(value, NAME_LIMIT) if pd.notna(value) else ""
    return text or "n/a"


def compose_rep_alert(
    rep: pd.Series, features: list[str], accounts: pd.DataFrame, currency: str
) -> tuple[str, str]:
    """Title and markdown body of one rep's alert; every value from the data is escaped
    (`safe_text.markdown` in the body, `safe_text.subject` in the title) so a name cannot
    carry markup, links, images, mentions, line breaks or control characters."""
    drivers = [_name(d) for d in (rep["driver_1"], rep["driver_2"], rep["driver_3"]) if pd.notna(d)]
    key_single = int((accounts["is_key_account"] & accounts["is_single_threaded"]).sum())
    actions = recommended_actions(features, rep["band"], key_single)
    name, team = _name(rep["employee_name"]), _name(rep["team"])
    band = _name(rep["band"])
    title = (
        f"Attrition risk {_title_name(rep['band'])}: {_title_name(rep['employee_name'])} "
        f"({_title_name(rep['team'])})"
    )
    lines = [
        f"**{name}**, {team}; manager: {_name(rep['manager_name'])}",
        "",
        f"- Risk of leaving within {_horizon(rep)} months: **{rep['probability']:.0%} "
        f"({band})**, {_change_text(rep)}",
        *_other_horizons(rep),
        f"- Scored on the month ending {rep['month_end']:%d %b %Y}",
        f"- Revenue at risk: **{money(rep['revenue_at_risk'], currency)}** "
        f"(of {money(rep['book_revenue_12m'], currency)} booked on their accounts in 12 months)",
        "",
        "Why (top drivers):",
        *([f"- {driver}" for driver in drivers] or ["- no single driver stands out"]),
        "",
        "Accounts to hand over first:",
        *(_account_lines(accounts, currency) or ["- no accounts with revenue"]),
    ]
    if pd.notna(rep["suggested_successor_name"]):
        lines += ["", f"Suggested successor: {_name(rep['suggested_successor_name'])}"]
    lines += ["", "Recommended actions:", *[f"- [ ] {action}" for action in actions]]
    return title, "\n".join(lines)


def rep_alert_drafts(con: duckdb.DuckDBPyConnection, currency: str) -> list[AlertDraft]:
    if not _table_exists(con, "restricted", "mart_rep_risk"):
        return []
    candidates = _rep_candidates(con)
    if candidates.empty:
        return []
    score_run_id = str(candidates["score_run_id"].iloc[0])
    features = _drivers(con, score_run_id).groupby("employee_key")["feature_name"].agg(list)
    accounts = _accounts(con, score_run_id)
    drafts = []
    for _, rep in candidates.iterrows():
        mine = accounts[accounts["employee_key"] == rep["employee_key"]]
        title, body = compose_rep_alert(rep, features.get(rep["employee_key"], []), mine, currency)
        drafts.append(
            AlertDraft(
                kind="rep_risk",
                audience="hr",
                subject_key=str(rep["employee_key"]),
                episode=str(rep["episode"]) if pd.notna(rep["episode"]) else score_run_id,
                band=str(rep["band"]),
                priority=PRIORITY[f"rep-{rep['band']}"],
                revenue_at_risk=float(rep["revenue_at_risk"] or 0.0),
                title=title,
                body=body,
                score_run_id=score_run_id,
            )
        )
    return drafts


def _quarter_label(day: dt.date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def _team_exits(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Teams with TEAM_EXITS or more voluntary exits in this quarter or the last, where
    "this quarter" is the one holding the latest month of data."""
    return con.execute(
        f"""WITH quarters AS (
            SELECT team, {_sql_quarter("month_start")} AS quarter_start,
                sum(voluntary_exits) AS voluntary_exits, sum(exits) AS exits
            FROM marts.mart_headcount_attrition WHERE NOT is_company_total
            GROUP BY team, quarter_start
        ),
        latest AS (
            SELECT max(month_start) AS month_start FROM marts.mart_headcount_attrition
        ),
        headcount AS (
            SELECT team, closing_headcount FROM marts.mart_headcount_attrition
            WHERE NOT is_company_total
              AND month_start = (SELECT month_start FROM latest)
        )
        SELECT quarters.*, coalesce(headcount.closing_headcount, 0) AS headcount
        FROM quarters LEFT JOIN headcount USING (team)
        WHERE quarters.voluntary_exits >= {TEAM_EXITS}
          AND quarters.quarter_start >= (SELECT {_sql_quarter("month_start")} FROM latest)
              - INTERVAL 3 MONTH
        ORDER BY quarters.quarter_start, quarters.team"""
    ).df()


def _sql_quarter(column: str) -> str:
    return f"date_trunc('quarter', {column})::DATE"


def team_alert_drafts(con: duckdb.DuckDBPyConnection) -> list[AlertDraft]:
    if not _table_exists(con, "marts", "mart_headcount_attrition"):
        return []
    teams = _team_exits(con)
    if teams.empty:
        return []
    at_risk = (
        con.execute(
            "SELECT team, employee_name, band FROM restricted.mart_rep_risk "
            "WHERE band IN ('High', 'Medium') ORDER BY probability DESC"
        ).df()
        if _table_exists(con, "restricted", "mart_rep_risk")
        else pd.DataFrame(columns=["team", "employee_name", "band"])
    )
    managers = (
        con.execute(
            """SELECT team, mode(manager_name) AS manager_name FROM restricted.dim_people
        WHERE termination_date IS NULL GROUP BY team"""
        )
        .df()
        .set_index("team")["manager_name"]
    )
    drafts = []
    for team in teams.itertuples():
        quarter = _quarter_label(team.quarter_start)
        watch = at_risk[at_risk["team"] == team.team]
        lines = [
            f"**{_name(team.team)}** lost {int(team.voluntary_exits)} reps who chose to leave in "
            f"{quarter} ({int(team.exits)} exits in all); {int(team.headcount)} reps remain.",
            f"Manager: {_name(managers.get(team.team))}",
            "",
            "When teammates leave, the people who stay are more likely to follow (peer contagion).",
            "",
            "Reps of this team in the High or Medium band now:",
            *(
                [f"- {_name(row.employee_name)} ({_name(row.band)})" for row in watch.itertuples()]
                or ["- none"]
            ),
            "",
            "Recommended actions:",
            *[f"- [ ] {action}" for action in team_actions(len(watch))],
        ]
        drafts.append(
            AlertDraft(
                kind="team_exits",
                audience="hr",
                subject_key=str(team.team),
                episode=quarter,
                band=None,
                priority=PRIORITY["team"],
                revenue_at_risk=0.0,
                title=f"Team alert: {_title_name(team.team)} lost "
                f"{int(team.voluntary_exits)} reps in {quarter}",
                body="\n".join(lines),
            )
        )
    return drafts


def skipped_alerts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The kinds of alert the marts cannot call for yet, and why (a partial load, or no
    scoring yet)."""
    skipped = []
    if not _table_exists(con, "restricted", "mart_rep_risk"):
        skipped.append(
            "rep alerts skipped: no risk scores (`repradar score` needs HR exports and a "
            "trained attrition model)"
        )
    if not _has_rows(con, "marts", "mart_headcount_attrition"):
        skipped.append("team alerts skipped: no HR employees loaded (team exits come from HR)")
    return skipped


def hr_alert_drafts(warehouse_con: duckdb.DuckDBPyConnection) -> list[AlertDraft]:
    """Every alert the current marts call for (before dedupe against the outbox)."""
    currency = warehouse_con.execute(
        "SELECT coalesce(mode(currency), '') FROM marts.fct_opportunities"
    ).fetchone()[0]
    currency = markdown(currency, CURRENCY_LIMIT)
    return rep_alert_drafts(warehouse_con, currency) + team_alert_drafts(warehouse_con)
