"""Rolling-origin backtest of the attrition model on rep-month snapshots.

For an origin month t the model is trained on the snapshots whose whole label window had
ended by t (month_end <= t - horizon), i.e. on what was known at the end of month t, and
tested on the snapshots of months t, t+1 and t+2. Training and test months never overlap,
so no rep-month is in both. Involuntary exits and horizons past the data are censored: such
rows are neither trained on nor scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models_ml.estimators import KINDS, AttritionRiskModel
from models_ml.features import FEATURES, LABEL
from models_ml.metrics import calibration_table, score_metrics

TEST_MONTHS = 3
TOP_K = 10  # reps per month HR could talk to


@dataclass(frozen=True)
class Origin:
    """One backtest split: train on months <= train_to, test on test_from .. test_to."""

    train_to: pd.Timestamp
    test_from: pd.Timestamp
    test_to: pd.Timestamp


def labelled(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Rows whose label is observed (an exit or a stay), in month order."""
    rows = snapshots[snapshots[LABEL].notna()]
    return rows.sort_values(["month_end", "employee_key"], kind="stable")


def complete_months(snapshots: pd.DataFrame) -> list[pd.Timestamp]:
    """Month-ends whose whole label window has passed: no row is censored by the horizon.

    (In the last months an exit is already observed but a stay is not yet, so their
    labelled rows over-represent leavers and must not be tested on.)
    """
    censored = snapshots.groupby("month_end")["label_status"].agg(
        lambda status: (status == "censored_horizon").any()
    )
    return sorted(pd.to_datetime(censored[~censored].index))


def label_horizon_months(snapshots: pd.DataFrame, default: int = 3) -> int:
    """The label's horizon, read from the data: how many of the last month-ends are
    censored by it (the dbt var `attrition_horizon_months`); `default` if none is."""
    months = sorted(pd.to_datetime(snapshots["month_end"]).unique())
    complete = complete_months(snapshots)
    if not complete or len(complete) == len(months):
        return default
    return sum(1 for month in months if month > complete[-1])


def rolling_origins(
    snapshots: pd.DataFrame,
    *,
    horizon_months: int,
    origins: int = 4,
    step_months: int = 3,
    min_train_months: int = 12,
) -> list[Origin]:
    """Up to `origins` splits, every `step_months`, ending at the last labelled month."""
    months = complete_months(snapshots)
    found = []
    last = len(months) - 1
    for k in range(origins):
        test_to_index = last - k * step_months
        test_from_index = test_to_index - (TEST_MONTHS - 1)
        train_to_index = test_from_index - horizon_months
        if train_to_index + 1 < min_train_months:
            break
        found.append(
            Origin(
                train_to=months[train_to_index],
                test_from=months[test_from_index],
                test_to=months[test_to_index],
            )
        )
    return sorted(found, key=lambda origin: origin.test_from)


def too_little_history(horizon_months: int) -> str:
    return (
        "too little labelled history for a backtest: need at least 12 months of "
        f"snapshots plus {horizon_months} months of outcomes and {TEST_MONTHS} test months"
    )


def split(rows: pd.DataFrame, origin: Origin) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = rows[rows["month_end"] <= origin.train_to]
    test = rows[(rows["month_end"] >= origin.test_from) & (rows["month_end"] <= origin.test_to)]
    return train, test


def top_k_precision(test: pd.DataFrame, scores: np.ndarray, k: int) -> float:
    """Share of leavers among the k highest-risk reps of each test month."""
    frame = test[["month_end", LABEL]].assign(score=scores)
    top = frame.sort_values("score", ascending=False, kind="stable").groupby("month_end").head(k)
    return float(top[LABEL].astype(int).mean())


@dataclass
class BacktestResult:
    """Metrics per kind and origin (plus a pooled row per kind), the pooled calibration
    table per kind, every out-of-sample prediction, and the kind chosen."""

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    predictions: pd.DataFrame
    chosen_kind: str


def _metrics_row(kind: str, origin: str, test: pd.DataFrame, scores, base_rate: float) -> dict:
    y = test[LABEL].astype(int).to_numpy()
    row = score_metrics(y, scores, base_rate=base_rate)
    row["top_k"] = TOP_K
    row["precision_top_k"] = top_k_precision(test, scores, TOP_K)
    observed = row["observed_rate"]
    row["lift_top_k"] = row["precision_top_k"] / observed if observed else np.nan
    return {"kind": kind, "origin": origin, **row}


def choose_kind(metrics: pd.DataFrame) -> str:
    """The kind with the best pooled ROC AUC; the simpler logistic model wins near-ties
    (within 0.005)."""
    pooled = metrics[metrics["origin"] == "pooled"].set_index("kind")["roc_auc"]
    best = pooled.idxmax()
    if "logistic" in pooled and pooled[best] - pooled["logistic"] <= 0.005:
        return "logistic"
    return str(best)


def run_backtest(
    snapshots: pd.DataFrame,
    *,
    horizon_months: int = 3,
    kinds: tuple[str, ...] = KINDS,
    origins: int = 4,
    features: list[str] = FEATURES,
    random_state: int = 0,
) -> BacktestResult:
    """Fit and test every kind on every origin; pool the out-of-sample predictions."""
    rows = labelled(snapshots)
    splits = rolling_origins(snapshots, horizon_months=horizon_months, origins=origins)
    if not splits:
        raise ValueError(too_little_history(horizon_months))
    metrics, predictions = [], []
    for kind in kinds:
        for origin in splits:
            train, test = split(rows, origin)
            model = AttritionRiskModel(kind=kind, random_state=random_state)
            model.fit(train[features], train[LABEL].astype(int), groups=train["employee_key"])
            scores = model.predict_proba(test[features])[:, 1]
            base_rate = float(train[LABEL].astype(int).mean())
            row = _metrics_row(kind, f"{origin.test_from:%Y-%m}", test, scores, base_rate)
            row.update(
                train_rows=len(train),
                train_from=rows["month_end"].min(),
                train_to=origin.train_to,
                test_from=origin.test_from,
                test_to=origin.test_to,
                base_rate=base_rate,
            )
            metrics.append(row)
            predictions.append(
                test[["snapshot_id", "employee_key", "month_end", LABEL]].assign(
                    kind=kind, origin=f"{origin.test_from:%Y-%m}", score=scores, base_rate=base_rate
                )
            )
    predictions = pd.concat(predictions, ignore_index=True)
    calibration = []
    for kind, scored in predictions.groupby("kind", sort=False):
        pooled = scored.rename(columns={"score": "p"})
        base_rate = float(np.average(scored["base_rate"]))
        row = _metrics_row(kind, "pooled", pooled, pooled["p"].to_numpy(), base_rate)
        row.update(
            train_rows=None,
            train_from=rows["month_end"].min(),
            train_to=splits[-1].train_to,
            test_from=splits[0].test_from,
            test_to=splits[-1].test_to,
            base_rate=base_rate,
        )
        metrics.append(row)
        table = calibration_table(scored[LABEL].astype(int).to_numpy(), scored["score"].to_numpy())
        calibration.append(table.assign(kind=kind))
    metrics = pd.DataFrame(metrics)
    return BacktestResult(
        metrics=metrics,
        calibration=pd.concat(calibration, ignore_index=True),
        predictions=predictions,
        chosen_kind=choose_kind(metrics),
    )
