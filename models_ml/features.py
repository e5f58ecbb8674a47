"""The models' inputs, read from the warehouse.

Attrition: the point-in-time rep-month snapshots (`intermediate.int_rep_month_snapshots`),
plus a few derived columns that put HR's rules of thumb into the feature space (pay below
band, promotion overdue, a new manager, the first year). Account loss: the handover
features of past departures (`intermediate.int_handover_features`) for training, and every
live account's current state (`marts.mart_account_coverage`) for scoring, on the same
columns. Protected attributes (gender, birth year) are in neither table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

KEYS = ["snapshot_id", "employee_key", "month_end"]
LABEL = "left_voluntarily_within_horizon"
# Horizons of the risk, in calendar months after the month-end; the one shown is the dbt
# var `attrition_horizon_months` (the LABEL's), one of these.
HORIZONS = (1, 3, 6, 12)
TIME_TO_EVENT = ["months_to_exit", "exit_type", "follow_up_months"]
# Everything in int_rep_month_snapshots that describes the rep at the month-end. Team is
# left out (its name means nothing to another company; team_exits_6m carries the effect).
SNAPSHOT_FEATURES = [
    "job_level",
    "tenure_months",
    "attainment_3m",
    "attainment_6m",
    "attainment_trend",
    "pay_vs_band",
    "months_since_promotion",
    "manager_changes_12m",
    "months_since_manager_change",
    "last_engagement",
    "engagement_change",
    "last_satisfaction",
    "last_intent_to_stay",
    "months_since_survey",
    "last_rating",
    "rating_change",
    "activities_3m",
    "activity_trend",
    "team_exits_6m",
    "team_voluntary_exits_6m",
    "accounts_owned",
    "single_threaded_share",
    "open_opportunities",
    "open_pipeline",
]
PROMOTION_EXPECTED_MONTHS = 18
# What the attrition model learns from: the drivers HR research keeps finding (pay against
# the market, a stalled promotion, a new manager, engagement and intent to stay, colleagues
# leaving, the first year, missing quota). Adding every other snapshot column did not
# improve the backtest (benchmarks/model_quality.py, "all columns AUC").
FEATURES = [
    "attainment_shortfall_3m",
    "pay_below_band",
    "promotion_overdue_months",
    "new_manager_6m",
    "last_engagement",
    "last_satisfaction",
    "last_intent_to_stay",
    "team_voluntary_exits_6m",
    "first_year",
]

ACCOUNT_LABEL = "lost"
ACCOUNT_FEATURES = [
    "segment",
    "industry",
    "is_key_account",
    "is_single_threaded",
    "people_engaged_180d",
    "supporting_team_members",
    "documentation_completeness",
    "revenue_12m",
    "open_opportunities",
    "open_pipeline",
]


def add_derived_features(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Shortfall against quota, pay below the band midpoint, months a promotion is
    overdue (beyond 18 months), a manager change in the last 6 months, the first year."""
    frame = snapshots.copy()
    frame["attainment_shortfall_3m"] = (1 - frame["attainment_3m"]).clip(lower=0, upper=1)
    frame["pay_below_band"] = (-frame["pay_vs_band"]).clip(lower=0)
    frame["promotion_overdue_months"] = (
        frame["months_since_promotion"] - PROMOTION_EXPECTED_MONTHS
    ).clip(lower=0, upper=60)
    frame["new_manager_6m"] = (frame["months_since_manager_change"] < 6).astype("float64")
    frame["first_year"] = (frame["tenure_months"] < 12).astype("float64")
    return frame


def _read(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


def load_snapshots(warehouse: Path) -> pd.DataFrame:
    """Every rep-month snapshot in month order, features as floats, label as 0/1/NA."""
    columns = ", ".join([*KEYS, "team", *SNAPSHOT_FEATURES, LABEL, "label_status", *TIME_TO_EVENT])
    frame = _read(
        warehouse,
        f"SELECT {columns} FROM intermediate.int_rep_month_snapshots "
        "ORDER BY month_end, employee_key",
    )
    frame[SNAPSHOT_FEATURES] = frame[SNAPSHOT_FEATURES].astype("float64")
    frame["month_end"] = pd.to_datetime(frame["month_end"])
    frame[LABEL] = frame[LABEL].astype("Int8")
    frame["months_to_exit"] = frame["months_to_exit"].astype("Int64")
    frame["follow_up_months"] = frame["follow_up_months"].astype("Int64")
    return add_derived_features(frame)


def horizon_label(snapshots: pd.DataFrame, months: int) -> pd.Series:
    """Left voluntarily within `months` calendar months after the month-end: 1 / 0, NA
    when censored (an involuntary exit within the window, or a window the data has not
    seen whole). The same rule as the dbt LABEL at its horizon."""
    to_exit = snapshots["months_to_exit"]
    exited = to_exit.notna() & (to_exit <= months)
    voluntary = exited & (snapshots["exit_type"] == "voluntary")
    seen = snapshots["follow_up_months"] >= months
    label = pd.Series(pd.NA, index=snapshots.index, dtype="Int8")
    label[exited.fillna(False) & voluntary.fillna(False)] = 1
    label[~exited.fillna(False) & seen.fillna(False)] = 0
    return label


def _account_types(frame: pd.DataFrame) -> pd.DataFrame:
    numeric = [c for c in ACCOUNT_FEATURES if c not in ("segment", "industry")]
    frame[numeric] = frame[numeric].astype("float64")
    frame[["segment", "industry"]] = frame[["segment", "industry"]].astype(object)
    return frame


def load_handovers(warehouse: Path) -> pd.DataFrame:
    """Past handovers with a final outcome, in departure order: the account features on
    the departure date and `lost` (no activity and no business within 12 months)."""
    frame = _read(
        warehouse,
        """SELECT handover_id, account_id, departed_employee_key, departed_on,
            segment, industry, is_key_account, is_single_threaded, people_engaged_180d,
            supporting_team_members, documentation_completeness,
            revenue_12m_before AS revenue_12m, open_opportunities, open_pipeline,
            NOT retained_12m AS lost
        FROM intermediate.int_handover_features
        WHERE is_outcome_final
        ORDER BY departed_on, account_id""",
    )
    frame["departed_on"] = pd.to_datetime(frame["departed_on"])
    frame[ACCOUNT_LABEL] = frame[ACCOUNT_LABEL].astype(int)
    return _account_types(frame)


def load_live_accounts(warehouse: Path) -> pd.DataFrame:
    """Accounts owned today by someone still employed, on the handover feature columns."""
    frame = _read(
        warehouse,
        """SELECT account_id, owner_employee_key AS employee_key, owner_team AS team,
            segment, industry, is_key_account, is_single_threaded, people_engaged_180d,
            supporting_team_members, documentation_completeness,
            trailing_12m_revenue AS revenue_12m, open_opportunities, open_pipeline
        FROM marts.mart_account_coverage
        WHERE owner_employee_key IS NOT NULL AND NOT owner_has_left
        ORDER BY account_id""",
    )
    return _account_types(frame)
