"""How good a risk score is, in the terms HR can act on.

Ranking: ROC AUC and average precision. Probabilities: the Brier score next to the Brier
score of always predicting the base rate (a model must beat it), and a calibration table.
Action: of the people ranked highest (the top 10%), how many did leave, and how many times
the base rate that is (lift).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

TOP_SHARE = 0.10


def top_rows(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` highest scores (ties broken by position, stable)."""
    return np.argsort(-scores, kind="stable")[: max(count, 1)]


def precision_at(y: np.ndarray, scores: np.ndarray, count: int) -> float:
    return float(y[top_rows(scores, count)].mean())


def score_metrics(y: np.ndarray, scores: np.ndarray, *, base_rate: float) -> dict[str, float]:
    """Every headline metric of one set of scored rows with known outcomes.

    `base_rate` is the rate the model was trained on (the naive forecast); lifts are
    relative to the observed rate of these rows.
    """
    y = np.asarray(y).astype(int)
    scores = np.asarray(scores, dtype=float)
    observed = float(y.mean())
    both_classes = 0 < y.sum() < len(y)
    top_share_count = int(np.ceil(TOP_SHARE * len(y)))
    precision_top_share = precision_at(y, scores, top_share_count)
    return {
        "rows": len(y),
        "positives": int(y.sum()),
        "observed_rate": observed,
        "roc_auc": roc_auc_score(y, scores) if both_classes else np.nan,
        "average_precision": average_precision_score(y, scores) if both_classes else np.nan,
        "brier": brier_score_loss(y, scores),
        "brier_base_rate": brier_score_loss(y, np.full(len(y), base_rate)),
        "precision_top10": precision_top_share,
        "lift_top10": precision_top_share / observed if observed else np.nan,
    }


def calibration_table(y: np.ndarray, scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Rows grouped by deciles of the predicted probability: mean predicted vs observed."""
    frame = pd.DataFrame({"y": np.asarray(y).astype(int), "p": np.asarray(scores, float)})
    ranks = frame["p"].rank(method="first")
    frame["bin"] = pd.qcut(ranks, q=min(bins, len(frame)), labels=False) + 1
    table = frame.groupby("bin").agg(
        rows=("y", "size"),
        predicted=("p", "mean"),
        observed=("y", "mean"),
        min_score=("p", "min"),
        max_score=("p", "max"),
    )
    return table.reset_index()


def expected_calibration_error(y: np.ndarray, scores: np.ndarray, bins: int = 10) -> float:
    """Row-weighted mean |predicted - observed| over the calibration table's bins."""
    table = calibration_table(y, scores, bins)
    weights = table["rows"] / table["rows"].sum()
    return float((weights * (table["predicted"] - table["observed"]).abs()).sum())
