"""How sure a backtest can be: person-level bootstrap intervals and a plain verdict.

A company has a few hundred exits, so a pooled AUC of 0.74 may be anything from 0.68 to
0.80. The intervals resample *people* (all of a rep's test months together, since they
are correlated) with replacement, `BOOTSTRAP_SAMPLES` times, and take the 2.5th and 97.5th
percentiles: ROC AUC, lift of the top 10%, and the expected calibration error (mean
|predicted - observed| over score deciles). The AUC difference between two estimators is
bootstrapped on the same resamples (paired). `verdict` turns them into the sentence
`repradar train` prints and the model card carries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BOOTSTRAP_SAMPLES = 500
LEVEL = 0.95
TOP_SHARE = 0.10
CALIBRATION_BINS = 10
INTERVAL_METRICS = ("roc_auc", "lift_top10", "calibration_error")


class _Sorted:
    """Rows sorted by score once, so that each bootstrap sample (a weight per row: how
    many times it was drawn) costs O(rows): AUC by the weighted Mann-Whitney count (ties
    count half), the top share's lift and the calibration error by cumulative weights."""

    def __init__(self, y: np.ndarray, scores: np.ndarray) -> None:
        order = np.argsort(scores, kind="stable")
        self.y = np.asarray(y)[order].astype(float)
        self.scores = np.asarray(scores, float)[order]
        _, self.level = np.unique(self.scores, return_inverse=True)  # tie groups
        self.order = order

    def auc(self, weights: np.ndarray) -> float:
        positive = np.bincount(self.level, weights * self.y)
        negative = np.bincount(self.level, weights * (1 - self.y))
        total_positive, total_negative = positive.sum(), negative.sum()
        if not total_positive or not total_negative:
            return np.nan
        below = np.cumsum(negative) - negative
        return float((positive * (below + negative / 2)).sum() / (total_positive * total_negative))

    def lift_top(self, weights: np.ndarray, share: float = TOP_SHARE) -> float:
        total = weights.sum()
        observed = (weights * self.y).sum() / total
        if not observed:
            return np.nan
        from_top = np.cumsum(weights[::-1])
        top = from_top <= max(share * total, weights[::-1][from_top > 0][0])
        top_weights = weights[::-1][top]
        return float((top_weights * self.y[::-1][top]).sum() / top_weights.sum() / observed)

    def calibration_error(self, weights: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
        cumulative = np.cumsum(weights)
        total = cumulative[-1]
        which = np.minimum((cumulative - weights / 2) / total * bins, bins - 1).astype(int)
        predicted = np.bincount(which, weights * self.scores, minlength=bins)
        observed = np.bincount(which, weights * self.y, minlength=bins)
        return float(np.abs(predicted - observed).sum() / total)

    def metrics(self, weights: np.ndarray) -> dict[str, float]:
        return {
            "roc_auc": self.auc(weights),
            "lift_top10": self.lift_top(weights),
            "calibration_error": self.calibration_error(weights),
        }


def _weights(groups: np.ndarray, order: np.ndarray, samples: int, random_state: int):
    """Per bootstrap sample, each row's weight (in score order): the number of times its
    group was drawn when drawing as many groups as there are, with replacement."""
    codes, uniques = pd.factorize(pd.Series(groups))
    codes = codes[order]
    rng = np.random.default_rng(random_state)
    for _ in range(samples):
        drawn = np.bincount(rng.integers(0, len(uniques), len(uniques)), minlength=len(uniques))
        yield drawn[codes].astype(float)


def _interval(values: list[float], level: float) -> tuple[float, float]:
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan, np.nan
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_intervals(
    y,
    scores,
    groups,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    level: float = LEVEL,
    random_state: int = 0,
) -> dict[str, float]:
    """Point value and `level` interval of each of `INTERVAL_METRICS`, resampling groups.

    Returns a dict with `<metric>`, `<metric>_low`, `<metric>_high` for each metric.
    """
    rows = _Sorted(np.asarray(y).astype(int), np.asarray(scores, float))
    point = rows.metrics(np.ones(len(rows.y)))
    draws = [
        rows.metrics(w) for w in _weights(np.asarray(groups), rows.order, samples, random_state)
    ]
    result: dict[str, float] = {}
    for metric in INTERVAL_METRICS:
        result[metric] = point[metric]
        low, high = _interval([draw[metric] for draw in draws], level)
        result[f"{metric}_low"], result[f"{metric}_high"] = low, high
    return result


def paired_auc_difference(
    y,
    first,
    second,
    groups,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    level: float = LEVEL,
    random_state: int = 0,
) -> tuple[float, float, float]:
    """AUC(first) - AUC(second) on the same rows, and its `level` interval (the same
    resamples for both)."""
    y = np.asarray(y).astype(int)
    one, two = _Sorted(y, np.asarray(first, float)), _Sorted(y, np.asarray(second, float))
    ones = np.ones(len(y))
    point = one.auc(ones) - two.auc(ones)
    # weights are drawn in the first ordering; the second needs them in its own
    back = np.empty(len(y), dtype=int)
    back[one.order] = np.arange(len(y))
    differences = [
        one.auc(w) - two.auc(w[back][two.order])
        for w in _weights(np.asarray(groups), one.order, samples, random_state)
    ]
    low, high = _interval(differences, level)
    return float(point), low, high


def verdict(
    exits: int,
    intervals: dict[str, float],
    difference: tuple[str, str, float, float, float] | None = None,
) -> str | None:
    """A plain sentence when the backtest cannot tell the model from chance, or the chosen
    estimator from the simpler one (`difference` = chosen, other, point, low, high); None
    when it can."""
    problems = []
    if not intervals["roc_auc_low"] > 0.5:
        problems.append(
            f"the ROC AUC's {LEVEL:.0%} interval ({intervals['roc_auc_low']:.2f}-"
            f"{intervals['roc_auc_high']:.2f}) reaches 0.5, so the model cannot be told "
            "from chance"
        )
    if difference is not None:
        chosen, other, _, low, high = difference
        if low <= 0 <= high:
            problems.append(
                f"{chosen} and {other} cannot be told apart (AUC difference {LEVEL:.0%} "
                f"interval {low:+.3f} to {high:+.3f})"
            )
    if not problems:
        return None
    return (
        f"Too few exits to trust these figures: {exits} voluntary exits in the backtest; "
        + "; ".join(problems)
        + ". Read the intervals, not the point values, and retrain when more history exists."
    )
