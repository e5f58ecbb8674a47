"""Headline facts of a generated company, computed from its tables and ground truth.

They are written to `_truth/summary.json` so a user (and the tests) can see at a glance
whether the simulated company looks like a real sales organisation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REP_TITLE_PREFIXES = ("Account Executive", "Senior Account", "Principal Account")


def is_rep(employees: pd.DataFrame) -> pd.Series:
    return employees["job_title"].str.startswith(REP_TITLE_PREFIXES)


def annual_voluntary_attrition(
    tables: dict[str, pd.DataFrame], as_of: pd.Timestamp, months: int
) -> float:
    """Voluntary rep exits in the window / average month-end rep headcount, per year."""
    e = tables["hr_employees"][is_rep(tables["hr_employees"])]
    month_ends = pd.date_range(end=as_of, periods=months, freq="ME")
    hired, left = e["hire_date"].to_numpy(), e["termination_date"].to_numpy()
    headcount = [((hired <= m) & ~(left <= m)).sum() for m in month_ends.to_numpy()]
    window_start = month_ends[0] - pd.offsets.MonthBegin(1)
    exits = (
        (e["termination_type"] == "voluntary")
        & (e["termination_date"] >= window_start)
        & (e["termination_date"] <= as_of)
    ).sum()
    return float(exits / np.mean(headcount) * 12 / months)


def revenue_lost_on_departure(
    tables: dict[str, pd.DataFrame], handovers: pd.DataFrame
) -> dict[str, float]:
    """Share of the leavers' accounts' trailing-12-month bookings that was lost."""
    won = tables["crm_opportunities"]
    won = won[won["is_won"].astype(bool)][["account_id", "close_date", "amount"]]
    joined = handovers.merge(won, on="account_id", how="left")
    in_window = (joined["close_date"] <= joined["termination_date"]) & (
        joined["close_date"] > joined["termination_date"] - pd.Timedelta(days=365)
    )
    joined["revenue"] = joined["amount"].where(in_window, 0.0).fillna(0.0)
    per_account = joined.groupby(
        ["account_id", "termination_date", "single_threaded", "lost"], as_index=False
    )["revenue"].sum()

    def share(frame: pd.DataFrame) -> float:
        total = frame["revenue"].sum()
        return float(frame.loc[frame["lost"], "revenue"].sum() / total) if total else float("nan")

    return {
        "all_accounts": share(per_account),
        "single_threaded": share(per_account[per_account["single_threaded"]]),
        "multi_threaded": share(per_account[~per_account["single_threaded"]]),
    }


def summarize(
    tables: dict[str, pd.DataFrame],
    truth: dict[str, pd.DataFrame],
    as_of: pd.Timestamp,
    months: int,
) -> dict:
    employees = tables["hr_employees"]
    reps = employees[is_rep(employees)]
    return {
        "reps_at_as_of": int(reps["termination_date"].isna().sum()),
        "teams": int(employees["team"].nunique()),
        "annual_voluntary_attrition": round(annual_voluntary_attrition(tables, as_of, months), 4),
        "revenue_lost_on_departure": {
            k: round(v, 4) for k, v in revenue_lost_on_departure(tables, truth["handovers"]).items()
        },
        "rows": {name: len(frame) for name, frame in tables.items()},
    }
