"""The marts agree with the same KPIs recomputed in pandas straight from the exports.

Company: seed 7, default size (150 reps, 36 months), as of 2026-10-31. The pandas code
below is written from the definitions in the README, not from the SQL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.contract import STAGES
from pipelines.pseudonyms import EMPLOYEE, pseudonym
from tests.conftest import AS_OF, TEST_PSEUDONYM_KEY
from tests.marts import query

STAGE_ORDER = {stage: i + 1 for i, stage in enumerate(STAGES[:6])}  # ..., Closed Won = 6
AS_OF_DAY = pd.Timestamp(AS_OF)


def employee_key(employee_id: str) -> str:
    return pseudonym(TEST_PSEUDONYM_KEY.encode(), EMPLOYEE, employee_id)


@pytest.fixture(scope="module")
def reporting_start(company: dict[str, pd.DataFrame]) -> pd.Timestamp:
    return company["sales_quotas"]["period_start"].min().to_period("M").to_timestamp()


def test_reporting_dates_come_from_the_exports(warehouse: Path, reporting_start) -> None:
    dates = query(warehouse, "SELECT * FROM intermediate.int_reporting_dates").iloc[0]
    assert pd.Timestamp(dates["as_of_date"]) == AS_OF_DAY
    assert pd.Timestamp(dates["reporting_start_month"]) == reporting_start


def test_funnel_conversion_matches_pandas(warehouse: Path, company, reporting_start) -> None:
    history = company["crm_opportunity_stage_history"]
    history = history[history["stage"].isin(STAGE_ORDER)].assign(
        k=lambda h: h["stage"].map(STAGE_ORDER)
    )
    rows = []
    for _, entries in history.groupby("opportunity_id"):
        recorded = dict(zip(entries["k"], entries["entered_at"], strict=True))
        furthest = entries["k"].max()
        for k in range(1, min(furthest, 5) + 1):
            entered = recorded.get(k, entries.loc[entries["k"] >= k, "entered_at"].min())
            rows.append((entered, k, furthest > k))
    reached = pd.DataFrame(rows, columns=["entered", "k", "advanced"])
    reached = reached[(reached["entered"] >= reporting_start) & (reached["entered"] <= AS_OF_DAY)]
    expected = (
        reached.assign(month=reached["entered"].dt.to_period("M").dt.to_timestamp())
        .groupby(["month", "k"])
        .agg(entered=("advanced", "size"), advanced=("advanced", "sum"))
    )
    mart = query(
        warehouse,
        "SELECT cohort_month AS month, stage_order AS k, sum(entered) AS entered, "
        "sum(advanced) AS advanced FROM marts.mart_funnel_conversion GROUP BY ALL",
    ).set_index(["month", "k"])
    mart.index = mart.index.set_levels(pd.to_datetime(mart.index.levels[0]), level=0)
    joined = expected.join(mart, how="outer", rsuffix="_mart")
    assert len(joined) == len(expected) == len(mart)
    assert (joined["entered"] == joined["entered_mart"]).all()
    assert (joined["advanced"] == joined["advanced_mart"]).all()
    overall = mart.groupby(level="k").sum()
    assert 0.5 < overall.loc[1, "advanced"] / overall.loc[1, "entered"] < 1


def _team_at(company: dict[str, pd.DataFrame], employee_ids: pd.Series, days: pd.Series):
    """HR team of each employee on each day: the state after the latest day of job changes
    on or before it (a day's changes applied as hire, promotion, transfer, manager change),
    the first change's team for days before it, the HR record without any change."""
    changes = company["hr_job_history"]
    changes = changes[(changes["change_type"] != "termination") & changes["team"].notna()]
    sequence = {"hire": 1, "promotion": 2, "transfer": 3, "manager_change": 4}
    changes = changes.assign(step=changes["change_type"].map(sequence)).sort_values(
        ["effective_date", "step"]
    )
    changes = changes.drop_duplicates(["employee_id", "effective_date"], keep="last")
    asked = pd.DataFrame({"employee_id": employee_ids.values, "day": days.values})
    asked["position"] = range(len(asked))
    on_or_before = pd.merge_asof(
        asked.dropna(subset=["employee_id"]).sort_values("day"),
        changes[["employee_id", "effective_date", "team"]],
        left_on="day",
        right_on="effective_date",
        by="employee_id",
    )
    first = changes.groupby("employee_id")["team"].first()
    current = company["hr_employees"].set_index("employee_id")["team"]
    on_or_before["team"] = (
        on_or_before["team"]
        .fillna(on_or_before["employee_id"].map(first))
        .fillna(on_or_before["employee_id"].map(current))
    )
    return on_or_before.set_index("position")["team"].reindex(asked["position"]).values


def test_median_cycle_matches_pandas(warehouse: Path, company, reporting_start) -> None:
    opportunities = company["crm_opportunities"]
    closed = opportunities[
        (opportunities["is_closed"] == "true")
        & (opportunities["close_date"] >= reporting_start)
        & (opportunities["close_date"] <= AS_OF_DAY)
    ].copy()
    users = company["crm_users"].set_index("user_id")
    closed["employee_id"] = closed["owner_user_id"].map(users["employee_id"])
    closed["team"] = _team_at(company, closed["employee_id"], closed["created_at"])
    closed["team"] = closed["team"].fillna(closed["owner_user_id"].map(users["team"]))
    segments = company["crm_accounts"].set_index("account_id")["segment"]
    closed["segment"] = closed["account_id"].map(segments)
    closed["month"] = closed["close_date"].dt.to_period("M").dt.to_timestamp()
    closed["cycle"] = (closed["close_date"] - closed["created_at"]).dt.days
    expected = closed.groupby(["month", "team", "segment"])["cycle"].median()
    mart = query(
        warehouse,
        "SELECT close_month AS month, team, segment, median_cycle_days FROM marts.mart_sales_cycle",
    )
    mart["month"] = pd.to_datetime(mart["month"])
    mart = mart.set_index(["month", "team", "segment"])["median_cycle_days"]
    assert len(mart) == len(expected)
    joined = pd.concat([mart, expected], axis=1, keys=["mart", "pandas"])
    differing = ~np.isclose(joined["mart"], joined["pandas"])
    assert not differing.any(), joined[differing]


def test_attainment_matches_pandas(warehouse: Path, company) -> None:
    quotas = company["sales_quotas"].copy()
    assert (quotas["period_start"].dt.is_month_start & quotas["period_end"].dt.is_month_end).all()
    quotas["month"] = quotas["period_start"]
    quotas["quota"] = quotas["quota_amount"].astype(float)
    opportunities = company["crm_opportunities"]
    won = opportunities[opportunities["is_won"] == "true"].copy()
    won["employee_id"] = won["owner_user_id"].map(
        company["crm_users"].set_index("user_id")["employee_id"]
    )
    won["month"] = won["close_date"].dt.to_period("M").dt.to_timestamp()
    won["amount"] = won["amount"].astype(float)
    bookings = won.groupby(["employee_id", "month"])["amount"].sum()
    expected = quotas.set_index(["employee_id", "month"])["quota"].to_frame()
    expected["bookings"] = bookings.reindex(expected.index).fillna(0.0)
    expected["attainment"] = expected["bookings"] / expected["quota"]
    expected = expected.reset_index()
    expected["employee_key"] = expected["employee_id"].map(employee_key)

    mart = query(
        warehouse,
        "SELECT employee_key, month_start AS month, attainment FROM marts.mart_rep_scorecard "
        "WHERE quota_amount > 0",
    )
    mart["month"] = pd.to_datetime(mart["month"])
    joined = expected.merge(mart, on=["employee_key", "month"], how="outer", indicator=True)
    assert (joined["_merge"] == "both").all(), joined[joined["_merge"] != "both"].head()
    assert np.allclose(joined["attainment_x"], joined["attainment_y"])


def test_company_attrition_rate_matches_pandas(warehouse: Path, company, reporting_start) -> None:
    people = company["hr_employees"]
    hired, left = people["hire_date"], people["termination_date"]
    rows = []
    for start in pd.date_range(reporting_start, AS_OF_DAY, freq="MS"):
        end = start + pd.offsets.MonthEnd(0)
        opening = ((hired < start) & (left.isna() | (left >= start))).sum()
        closing = ((hired <= end) & (left.isna() | (left > end))).sum()
        exits = ((left >= start) & (left <= end)).sum()
        rows.append((start, opening, closing, exits))
    expected = pd.DataFrame(rows, columns=["month", "opening", "closing", "exits"])
    expected["average"] = (expected["opening"] + expected["closing"]) / 2
    expected["annualized"] = expected["exits"] * 12 / expected["average"]
    expected["trailing"] = (
        expected["exits"].rolling(12, min_periods=1).sum()
        / expected["average"].rolling(12, min_periods=1).mean()
    )
    mart = query(
        warehouse,
        "SELECT month_start, opening_headcount, closing_headcount, exits, "
        "annualized_attrition_rate, trailing_12m_attrition_rate "
        "FROM marts.mart_headcount_attrition WHERE is_company_total ORDER BY month_start",
    )
    assert len(mart) == len(expected)
    assert (mart["opening_headcount"].values == expected["opening"].values).all()
    assert (mart["closing_headcount"].values == expected["closing"].values).all()
    assert (mart["exits"].values == expected["exits"].values).all()
    assert np.allclose(mart["annualized_attrition_rate"], expected["annualized"])
    assert np.allclose(mart["trailing_12m_attrition_rate"], expected["trailing"])


def test_attrition_labels_match_pandas_and_the_generators_truth(
    warehouse: Path, company, truth
) -> None:
    snapshots = query(
        warehouse,
        "SELECT employee_key, month_end, left_voluntarily_within_horizon AS label, label_status "
        "FROM intermediate.int_rep_month_snapshots",
    )
    snapshots["month_end"] = pd.to_datetime(snapshots["month_end"])
    people = company["hr_employees"].assign(
        employee_key=lambda p: p["employee_id"].map(employee_key)
    )
    snapshots = snapshots.merge(people, on="employee_key", how="left")
    horizon_end = snapshots["month_end"] + pd.offsets.MonthEnd(3)
    leaves = (snapshots["termination_date"] > snapshots["month_end"]) & (
        snapshots["termination_date"] <= horizon_end
    )
    expected = pd.Series("observed_stay", index=snapshots.index)
    expected[horizon_end > AS_OF_DAY] = "censored_horizon"
    expected[leaves & (snapshots["termination_type"] == "involuntary")] = "censored_involuntary"
    expected[leaves & (snapshots["termination_type"] == "voluntary")] = "observed_exit"
    assert (snapshots["label_status"] == expected).all()
    observed = snapshots["label_status"].str.startswith("observed")
    assert (snapshots.loc[observed, "label"] == (expected[observed] == "observed_exit")).all()
    assert snapshots.loc[~observed, "label"].isna().all()

    # The generator's own flag ("left within 31 days of a month-end") agrees but for exits
    # on the first day of a month.
    months = truth["rep_months"].assign(
        month_end=lambda t: pd.to_datetime(t["month_end"]),
        employee_key=lambda t: t["employee_id"].map(employee_key),
    )
    flags = months.set_index(["employee_key", "month_end"])["left_voluntarily_next_month"]
    known = snapshots[observed]
    pairs = zip(known["employee_key"], known["month_end"], strict=True)
    known = known[[pair in flags.index for pair in pairs]]
    flagged = [
        any(flags.get((key, end + pd.offsets.MonthEnd(i)), False) for i in range(3))
        for key, end in zip(known["employee_key"], known["month_end"], strict=True)
    ]
    agree = (known["label"].astype(bool).values == flagged).mean()
    assert len(known) > 0.9 * observed.sum() and agree > 0.998
    assert known["label"].sum() > 10
