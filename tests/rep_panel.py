"""An independent rep-month panel built with pandas straight from the exports.

Used to check that the simulated causes are visible in what a company's systems show,
without looking inside the generator.
"""

from __future__ import annotations

import pandas as pd

from pipelines.generate.summary import is_rep

HORIZON = pd.Timedelta(days=91)


def _asof(panel: pd.DataFrame, events: pd.DataFrame, on: str, columns: list[str]) -> pd.DataFrame:
    events = events.sort_values(on)[["employee_id", on, *columns]]
    merged = pd.merge_asof(
        panel.sort_values("month_end"),
        events,
        left_on="month_end",
        right_on=on,
        by="employee_id",
        direction="backward",
    )
    return merged.drop(columns=on)


def rep_month_panel(company: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per active rep per month-end with pay gap, engagement, team and outcome."""
    people = company["hr_employees"][is_rep(company["hr_employees"])]
    month_ends = sorted(company["sales_quotas"]["period_end"].unique())
    panel = pd.concat([people.assign(month_end=me) for me in month_ends], ignore_index=True)
    active = (panel["hire_date"] <= panel["month_end"]) & ~(
        panel["termination_date"] <= panel["month_end"]
    )
    panel = panel.loc[active, ["employee_id", "month_end", "termination_date", "termination_type"]]
    pay = company["hr_compensation"].assign(
        pay_gap=lambda c: c["base_salary"].astype(float) / c["band_midpoint"].astype(float) - 1
    )
    panel = _asof(panel, pay, "effective_date", ["pay_gap"])
    surveys = company["hr_engagement_surveys"].sort_values(["employee_id", "survey_date"])
    surveys = surveys.assign(
        engagement=surveys["engagement"].astype(int),
        engagement_change=lambda s: (
            s["engagement"] - s.groupby("employee_id")["engagement"].shift()
        ),
    )
    panel = _asof(panel, surveys, "survey_date", ["engagement", "engagement_change"])
    jobs = company["hr_job_history"]
    panel = _asof(panel, jobs[jobs["change_type"] != "termination"], "effective_date", ["team"])
    panel["team_exits_6m"] = _team_exits_before(panel, company)
    panel["leaves_in_3m"] = (
        (panel["termination_type"] == "voluntary")
        & (panel["termination_date"] > panel["month_end"])
        & (panel["termination_date"] <= panel["month_end"] + HORIZON)
    )
    last_full = pd.Timestamp(month_ends[-1]) - HORIZON
    return panel[panel["month_end"] <= last_full]


def _team_exits_before(panel: pd.DataFrame, company: dict[str, pd.DataFrame]) -> pd.Series:
    """Voluntary rep exits from the rep's team in the 6 months up to the month-end."""
    exits = company["hr_job_history"]
    exits = exits[exits["change_type"] == "termination"].merge(
        company["hr_employees"][["employee_id", "termination_type", "job_title"]],
        on="employee_id",
    )
    exits = exits[(exits["termination_type"] == "voluntary") & is_rep(exits)]
    counts = []
    for team, month_end in zip(panel["team"], panel["month_end"], strict=True):
        same = exits[exits["team"] == team]["effective_date"]
        counts.append(
            int(((same > month_end - pd.Timedelta(days=182)) & (same <= month_end)).sum())
        )
    return pd.Series(counts, index=panel.index)


def exit_rate(panel: pd.DataFrame, mask: pd.Series) -> float:
    return float(panel.loc[mask, "leaves_in_3m"].mean())
