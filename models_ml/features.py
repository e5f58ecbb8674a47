"""The attrition model's inputs: point-in-time snapshots read from the warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

KEYS = ["snapshot_id", "employee_key", "month_end"]
LABEL = "left_voluntarily_within_horizon"
# Everything in int_rep_month_snapshots that describes the rep at the month-end. Team is
# left out (its name means nothing to another company; team_exits_6m carries the effect);
# protected attributes are not in the snapshots at all.
FEATURES = [
    "job_level",
    "tenure_months",
    "attainment_3m",
    "attainment_6m",
    "attainment_trend",
    "pay_vs_band",
    "months_since_promotion",
    "manager_changes_12m",
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


def load_snapshots(warehouse: Path) -> pd.DataFrame:
    """Every rep-month snapshot in month order, features as floats, label as 0/1/NA."""
    columns = ", ".join([*KEYS, "team", *FEATURES, LABEL, "label_status"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute(
            f"SELECT {columns} FROM intermediate.int_rep_month_snapshots "
            "ORDER BY month_end, employee_key"
        ).df()
    frame[FEATURES] = frame[FEATURES].astype("float64")
    frame["month_end"] = pd.to_datetime(frame["month_end"])
    frame[LABEL] = frame[LABEL].astype("Int8")
    return frame
