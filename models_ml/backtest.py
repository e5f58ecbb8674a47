"""Rolling-origin backtest of the attrition risk at every horizon (1, 3, 6, 12 months).

At an origin whose first test month is t, the monthly hazard model is trained on the
snapshots whose next month was known by t (month_end <= t - 1 month), and each horizon h
is calibrated on the snapshots whose whole h-month window had passed by t; it is then
tested on months t, t+1 and t+2, on the rows whose h-month outcome is known. Origins lie
on one grid, every 3 months back from the last month with a known 1-month outcome; each
horizon uses the latest 4 of them whose test months are complete for it, so one fit per
origin serves every horizon. Training and test months never overlap. Involuntary exits
and windows past the data are censored: such rows are neither trained on nor scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models_ml.estimators import KINDS
from models_ml.features import FEATURES, HORIZONS, LABEL
from models_ml.horizons import HorizonRiskModel, horizon_labels, risk_column
from models_ml.metrics import calibration_table, score_metrics
from models_ml.uncertainty import bootstrap_intervals, paired_auc_difference, verdict

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
    """Metrics per kind, horizon and origin (plus a pooled row per kind and horizon, with
    bootstrap intervals), the pooled calibration table per kind and horizon, every
    out-of-sample prediction, the kind chosen and the horizon shown, the paired AUC
    difference at that horizon between the chosen kind and the other (chosen, other,
    difference, low, high; None with one kind), and the too-few-exits warning (None when
    the backtest can tell the model from chance and from the other kind)."""

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    predictions: pd.DataFrame
    chosen_kind: str
    horizon_months: int = 3
    difference: tuple[str, str, float, float, float] | None = None
    warning: str | None = None

    def pooled(self) -> pd.Series:
        """The pooled metrics row of the chosen kind at the horizon shown."""
        metrics = self.shown(self.metrics)
        rows = metrics[(metrics["origin"] == "pooled") & (metrics["kind"] == self.chosen_kind)]
        return rows.iloc[0]

    def shown(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of `frame` (metrics, calibration or predictions) at the horizon shown."""
        return frame[frame["horizon_months"] == self.horizon_months]


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


def months_complete_for(snapshots: pd.DataFrame, months: int) -> list[pd.Timestamp]:
    """Month-ends whose every snapshot has a known `months`-month outcome window."""
    follow_up = snapshots.groupby("month_end")["follow_up_months"].min()
    return sorted(pd.to_datetime(follow_up[follow_up >= months].index))


def horizon_origins(
    snapshots: pd.DataFrame,
    horizons: tuple[int, ...] = HORIZONS,
    *,
    per_horizon: int = 4,
    step_months: int = 3,
    min_train_months: int = 12,
) -> dict[int, list[Origin]]:
    """The latest `per_horizon` origins of each horizon, on one grid of test windows
    every `step_months` back from the last month with a known 1-month outcome; an origin
    needs `min_train_months` months before its first test month. `train_to` is the last
    month whose next month was known at the origin."""
    months = sorted(pd.to_datetime(snapshots["month_end"].unique()))
    index = {month: i for i, month in enumerate(months)}
    complete = months_complete_for(snapshots, 1)
    if not complete:
        return {h: [] for h in horizons}
    found: dict[int, list[Origin]] = {h: [] for h in horizons}
    test_to_index = index[complete[-1]]
    while test_to_index - (TEST_MONTHS - 1) >= min_train_months:
        test_from_index = test_to_index - (TEST_MONTHS - 1)
        origin = Origin(
            train_to=months[test_from_index - 1],
            test_from=months[test_from_index],
            test_to=months[test_to_index],
        )
        for h in horizons:
            last = months_complete_for(snapshots, h)
            if last and origin.test_to <= last[-1] and len(found[h]) < per_horizon:
                found[h].append(origin)
        test_to_index -= step_months
    return {h: sorted(origins, key=lambda o: o.test_from) for h, origins in found.items()}


def _rows_known_at(rows: pd.DataFrame, labels: pd.DataFrame, origin: Origin) -> pd.DataFrame:
    """The labels as they were known at the origin: a row's h-month label only when its
    whole window had passed by the first test month-end (month_end + h <= test_from)."""
    known = labels.copy()
    for months in known.columns:
        window_end = rows["month_end"] + pd.offsets.MonthEnd(months)
        known.loc[(window_end > origin.test_from).to_numpy(), months] = pd.NA
    return known


def run_backtest(
    snapshots: pd.DataFrame,
    *,
    horizon_months: int = 3,
    kinds: tuple[str, ...] = KINDS,
    horizons: tuple[int, ...] = HORIZONS,
    origins: int = 4,
    features: list[str] = FEATURES,
    random_state: int = 0,
) -> BacktestResult:
    """Fit every kind on every origin; test each horizon on its origins; pool the
    out-of-sample predictions per kind and horizon. The kind with the best pooled ROC
    AUC at `horizon_months` (the horizon shown) is chosen."""
    if horizon_months not in horizons:
        raise ValueError(f"the horizon shown must be one of {horizons}, got {horizon_months}")
    grid = horizon_origins(snapshots, horizons, per_horizon=origins)
    if not grid[horizon_months]:
        raise ValueError(too_little_history(horizon_months))
    rows = snapshots.sort_values(["month_end", "employee_key"], kind="stable").reset_index(
        drop=True
    )
    labels = horizon_labels(rows, horizons)
    every_origin = sorted(
        {origin for found in grid.values() for origin in found}, key=lambda o: o.test_from
    )
    metrics: list[dict] = []
    predictions: list[pd.DataFrame] = []
    fitted: dict[tuple[str, Origin], tuple[np.ndarray, pd.DataFrame, pd.DataFrame]] = {}

    def evaluate(kind: str, tested: tuple[int, ...]) -> None:
        """Fit `kind` on the origins of the horizons in `tested` (once per origin) and
        add its metrics and predictions at those horizons."""
        for origin in every_origin:
            wanted = [h for h in tested if origin in grid[h]]
            if not wanted:
                continue
            if (kind, origin) not in fitted:
                fitted[kind, origin] = _fit_at(
                    rows, labels, origin, kind, horizons, features, random_state
                )
            train, known, risks = fitted[kind, origin]
            window = (rows["month_end"] >= origin.test_from) & (rows["month_end"] <= origin.test_to)
            for h in wanted:
                test = rows[window].assign(**{LABEL: labels.loc[window, h].to_numpy()})
                scored = test[LABEL].notna().to_numpy()
                test, scores = test[scored], risks[risk_column(h)].to_numpy()[scored]
                base_rate = _base_rate(known[h], known[1], h)
                row = _metrics_row(kind, f"{origin.test_from:%Y-%m}", test, scores, base_rate)
                row.update(
                    horizon_months=h,
                    train_rows=int(train.sum()),
                    train_from=rows["month_end"].min(),
                    train_to=origin.train_to,
                    test_from=origin.test_from,
                    test_to=origin.test_to,
                    base_rate=base_rate,
                )
                metrics.append(row)
                predictions.append(
                    test[["snapshot_id", "employee_key", "month_end", LABEL]].assign(
                        kind=kind,
                        horizon_months=h,
                        origin=f"{origin.test_from:%Y-%m}",
                        score=scores,
                        base_rate=base_rate,
                    )
                )

    # Every kind at the horizon shown (which picks the kind); the chosen kind at the others.
    for kind in kinds:
        evaluate(kind, (horizon_months,))
    chosen = choose_kind(_pooled_auc(predictions))
    evaluate(chosen, tuple(h for h in horizons if h != horizon_months))
    predictions = pd.concat(predictions, ignore_index=True)
    calibration = []
    for (kind, h), scored in predictions.groupby(["kind", "horizon_months"], sort=False):
        pooled = scored.rename(columns={"score": "p"})
        base_rate = float(np.average(scored["base_rate"]))
        row = _metrics_row(kind, "pooled", pooled, pooled["p"].to_numpy(), base_rate)
        row.update(
            bootstrap_intervals(
                scored[LABEL].astype(int),
                scored["score"],
                scored["employee_key"],
                random_state=random_state,
            )
        )
        row.update(
            horizon_months=h,
            train_rows=None,
            train_from=rows["month_end"].min(),
            train_to=max(o.train_to for o in grid[h]),
            test_from=min(o.test_from for o in grid[h]),
            test_to=max(o.test_to for o in grid[h]),
            base_rate=base_rate,
        )
        metrics.append(row)
        table = calibration_table(scored[LABEL].astype(int).to_numpy(), scored["score"].to_numpy())
        calibration.append(table.assign(kind=kind, horizon_months=h))
    metrics = pd.DataFrame(metrics)
    shown = predictions[predictions["horizon_months"] == horizon_months]
    difference = _difference(shown, chosen, random_state)
    result = BacktestResult(
        metrics=metrics,
        calibration=pd.concat(calibration, ignore_index=True),
        predictions=predictions,
        chosen_kind=chosen,
        horizon_months=horizon_months,
        difference=difference,
    )
    pooled = result.pooled()
    result.warning = verdict(int(pooled["positives"]), pooled.to_dict(), difference)
    return result


def _fit_at(
    rows: pd.DataFrame,
    labels: pd.DataFrame,
    origin: Origin,
    kind: str,
    horizons: tuple[int, ...],
    features: list[str],
    random_state: int,
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Fit at `origin` on what was known then; the training mask, the labels as known,
    and the risks of the origin's test months."""
    train = (rows["month_end"] <= origin.train_to).to_numpy()
    known = _rows_known_at(rows[train], labels[train], origin)
    model = HorizonRiskModel(kind=kind, horizons=horizons, random_state=random_state)
    model.fit(
        rows.loc[train, features],
        known,
        groups=rows.loc[train, "employee_key"],
        periods=rows.loc[train, "month_end"],
    )
    window = (rows["month_end"] >= origin.test_from) & (rows["month_end"] <= origin.test_to)
    return train, known, model.predict_risk(rows.loc[window, features])


def _pooled_auc(predictions: list[pd.DataFrame]) -> pd.DataFrame:
    """Pooled ROC AUC per kind of the predictions so far (what `choose_kind` reads)."""
    frame = pd.concat(predictions, ignore_index=True)
    return pd.DataFrame(
        [
            {
                "kind": kind,
                "origin": "pooled",
                "roc_auc": roc_auc_score(part[LABEL].astype(int), part["score"]),
            }
            for kind, part in frame.groupby("kind", sort=False)
        ]
    )


def _base_rate(known: pd.Series, monthly: pd.Series, months: int) -> float:
    """The exit rate of a horizon as known at the origin (the naive forecast); from the
    monthly rate when no window of that length had passed yet."""
    seen = known.dropna()
    if len(seen):
        return float(seen.astype(int).mean())
    return float(1 - (1 - monthly.dropna().astype(int).mean()) ** months)


def _difference(
    predictions: pd.DataFrame, chosen: str, random_state: int
) -> tuple[str, str, float, float, float] | None:
    """Paired bootstrap of AUC(chosen) - AUC(the other kind) on the same test rows."""
    others = [kind for kind in predictions["kind"].unique() if kind != chosen]
    if not others:
        return None
    wide = predictions.pivot_table(
        index=["snapshot_id", "employee_key", LABEL], columns="kind", values="score"
    ).reset_index()
    point, low, high = paired_auc_difference(
        wide[LABEL].astype(int),
        wide[chosen],
        wide[others[0]],
        wide["employee_key"],
        random_state=random_state,
    )
    return chosen, str(others[0]), point, low, high
