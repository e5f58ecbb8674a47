"""The `ml` schema of the warehouse: what training and scoring record, append-only.

Every table has a declared schema, so a run that has nothing to say in a column (no
held-out handovers yet, no previous score) writes a null there instead of changing the
table's shape; a reader filters on the run id it wants.
"""

from __future__ import annotations

import duckdb
import pandas as pd

SCHEMA = "ml"
TEXT, NUMBER, COUNT, DAY, MOMENT, FLAG = (
    "VARCHAR",
    "DOUBLE",
    "BIGINT",
    "DATE",
    "TIMESTAMP",
    "BOOLEAN",
)
METRICS = {
    "rows": COUNT, "positives": COUNT, "observed_rate": NUMBER, "base_rate": NUMBER,
    "roc_auc": NUMBER, "average_precision": NUMBER, "brier": NUMBER,
    "brier_base_rate": NUMBER, "precision_top10": NUMBER, "lift_top10": NUMBER,
    "top_k": COUNT, "precision_top_k": NUMBER, "lift_top_k": NUMBER,
    "roc_auc_low": NUMBER, "roc_auc_high": NUMBER, "lift_top10_low": NUMBER,
    "lift_top10_high": NUMBER, "calibration_error": NUMBER,
    "calibration_error_low": NUMBER, "calibration_error_high": NUMBER,
}  # fmt: skip
TABLES: dict[str, dict[str, str]] = {
    "model_runs": {
        "model_run_id": TEXT, "trained_at": MOMENT, "attrition_kind": TEXT,
        "attrition_path": TEXT, "account_method": TEXT, "account_path": TEXT,
        "card_path": TEXT, "train_from": DAY, "train_to": DAY, "horizon_months": COUNT,
        "training_rows": COUNT, "training_exits": COUNT, "base_rate": NUMBER,
        "band_medium": NUMBER, "band_high": NUMBER, "features": TEXT,
        "auc_difference": NUMBER, "auc_difference_low": NUMBER,
        "auc_difference_high": NUMBER, "uncertainty_warning": TEXT,
        "fairness_mitigation": TEXT,
    },
    "model_horizons": {
        "run_id": TEXT, "horizon_months": COUNT, "training_rows": COUNT,
        "training_exits": COUNT, "base_rate": NUMBER, "band_medium": NUMBER,
        "band_high": NUMBER,
    },
    "backtests": {
        "run_id": TEXT, "model": TEXT, "kind": TEXT, "horizon_months": COUNT,
        "origin": TEXT, "chosen": FLAG,
        **METRICS,
        "train_rows": COUNT, "train_from": DAY, "train_to": DAY, "test_from": DAY,
        "test_to": DAY, "handovers": COUNT, "held_out_method": TEXT,
        "mean_predicted": NUMBER,
    },
    "backtest_calibration": {
        "run_id": TEXT, "model": TEXT, "kind": TEXT, "horizon_months": COUNT, "bin": COUNT,
        "rows": COUNT, "predicted": NUMBER, "observed": NUMBER, "min_score": NUMBER,
        "max_score": NUMBER,
    },
    "fairness": {
        "run_id": TEXT, "attribute": TEXT, "group": TEXT, "rows": COUNT,
        "selection_rate": NUMBER, "true_positive_rate": NUMBER,
        "false_positive_rate": NUMBER, "selection_rate_ratio": NUMBER, "flagged": FLAG,
        "note": TEXT, "exit_rate": NUMBER, "verdict": TEXT, "explanation": TEXT,
    },
    "fairness_mitigation": {
        "run_id": TEXT, "attribute": TEXT, "group": TEXT, "rows": COUNT,
        "exit_rate": NUMBER, "cutoff_before": NUMBER, "cutoff_after": NUMBER,
        "selection_rate_before": NUMBER, "selection_rate_after": NUMBER,
        "true_positive_rate_before": NUMBER, "true_positive_rate_after": NUMBER,
        "false_positive_rate_before": NUMBER, "false_positive_rate_after": NUMBER,
        "precision_before": NUMBER, "precision_after": NUMBER, "roc_auc": NUMBER,
        "note": TEXT,
    },
    "group_cut_offs": {
        "run_id": TEXT, "attribute": TEXT, "group": TEXT, "cut_off": NUMBER,
    },
    "proxy_correlations": {
        "run_id": TEXT, "feature": TEXT, "attribute": TEXT, "correlation": NUMBER,
        "flagged": FLAG,
    },
    "score_runs": {
        "score_run_id": TEXT, "model_run_id": TEXT, "scored_month": DAY,
        "scored_at": MOMENT, "reps": COUNT, "accounts": COUNT, "band_medium": NUMBER,
        "band_high": NUMBER, "drifted_features": TEXT, "horizon_months": COUNT,
        "fairness_mitigation": TEXT,
    },
    "rep_attrition_scores": {
        "score_run_id": TEXT, "model_run_id": TEXT, "month_end": DAY,
        "employee_key": TEXT, "team": TEXT, "probability": NUMBER, "band": TEXT,
        "previous_probability": NUMBER, "previous_band": TEXT,
        "probability_change": NUMBER, "band_change": TEXT, "accounts": COUNT,
        "book_revenue_12m": NUMBER, "revenue_lost_if_leaves": NUMBER,
        "revenue_at_risk": NUMBER, "horizon_months": COUNT, "probability_1m": NUMBER,
        "probability_3m": NUMBER, "probability_6m": NUMBER, "probability_12m": NUMBER,
    },
    "rep_risk_drivers": {
        "score_run_id": TEXT, "month_end": DAY, "employee_key": TEXT, "rank": COUNT,
        "feature": TEXT, "value": NUMBER, "contribution": NUMBER, "driver": TEXT,
    },
    "account_loss_scores": {
        "score_run_id": TEXT, "account_id": TEXT, "employee_key": TEXT, "team": TEXT,
        "segment": TEXT, "is_key_account": FLAG, "is_single_threaded": FLAG,
        "documentation_completeness": NUMBER, "revenue_12m": NUMBER,
        "loss_probability": NUMBER, "method": TEXT,
        "revenue_lost_if_owner_leaves": NUMBER, "exposure": NUMBER,
    },
    "feature_drift": {
        "score_run_id": TEXT, "month_end": DAY, "feature": TEXT, "psi": NUMBER,
        "status": TEXT, "reference_mean": NUMBER, "current_mean": NUMBER, "drifted": FLAG,
    },
}  # fmt: skip


def _create(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create ml.<table>, or add the declared columns an older version's table lacks."""
    columns = ", ".join(f'"{name}" {kind}' for name, kind in TABLES[table].items())
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table} ({columns})")
    existing = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [SCHEMA, table],
        ).fetchall()
    }
    for name, kind in TABLES[table].items():
        if name not in existing:
            con.execute(f'ALTER TABLE {SCHEMA}.{table} ADD COLUMN "{name}" {kind}')


def append(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert `frame` into ml.<table>; its columns must be declared in `TABLES`, and
    declared columns it lacks are null."""
    unknown = set(frame.columns) - set(TABLES[table])
    if unknown:
        raise ValueError(f"ml.{table} has no column(s) {', '.join(sorted(unknown))}")
    _create(con, table)
    empty = [c for c in frame.columns if frame[c].isna().all()]
    frame = frame.astype({column: "object" for column in empty})
    quoted = ", ".join(f'"{column}"' for column in frame.columns)
    con.register("frame_to_append", frame)
    try:
        con.execute(f"INSERT INTO {SCHEMA}.{table} ({quoted}) SELECT {quoted} FROM frame_to_append")
    finally:
        con.unregister("frame_to_append")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [SCHEMA, table],
        ).fetchone()[0]
    )
