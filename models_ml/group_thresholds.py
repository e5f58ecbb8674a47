"""Per-group High cut-offs: the fairness mitigation setting (issue #19).

`group_thresholds` chooses a score cut-off per group of one protected attribute so that
every judged group's true-positive rate matches the overall one (equal opportunity);
`mitigation_effect` measures what they do to each group's and the overall rates
(ideally on rows they were not fitted on); `mitigation_summary` is the model card's
sentence. `REPRADAR_FAIRNESS_MITIGATION` turns them on for scoring (`models_ml.train`,
`models_ml.score`). The group is used for this decision rule only, never as a feature.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from models_ml.fairness import (
    MIN_GROUP_SIZE,
    UNKNOWN,
    _binary,
    _group_order,
    _labels,
    _number,
    group_rates,
)

GROUP_THRESHOLD_METHODS: dict[str, str] = {
    "true_positive_rate_parity": (
        "equal opportunity: each judged group's cut-off is moved, as little as possible, "
        "so that the share of its leavers alerted matches the share the single threshold "
        "alerts overall; groups too small to judge, the unknown group and groups without "
        "leavers keep the single threshold"
    ),
}
OVERALL = "overall"
EFFECT_COLUMNS = [
    "attribute",
    "group",
    "rows",
    "exit_rate",
    "cutoff_before",
    "cutoff_after",
    "selection_rate_before",
    "selection_rate_after",
    "true_positive_rate_before",
    "true_positive_rate_after",
    "false_positive_rate_before",
    "false_positive_rate_after",
    "precision_before",
    "precision_after",
    "roc_auc",
    "note",
]


def _as_series(groups: pd.Series | ArrayLike) -> pd.Series:
    """`groups` as a Series (kept as it is when it already is one)."""
    if isinstance(groups, pd.Series):
        return groups
    return pd.Series(np.asarray(groups, dtype=object))


def _scores(scores: ArrayLike) -> np.ndarray:
    """`scores` as a float array; missing scores are an error."""
    values = np.asarray(scores, dtype=float)
    if np.isnan(values).any():
        raise ValueError("scores must have no missing values")
    return values


def _aligned(
    y_true: ArrayLike, scores: ArrayLike, groups: pd.Series | ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(y as 0/1, scores, group labels, groups in report order), checked to be aligned."""
    y, values, series = _binary(y_true, "y_true"), _scores(scores), _as_series(groups)
    labels = _labels(series)
    if not len(y) == len(values) == len(labels):
        raise ValueError("y_true, scores and groups must have the same length")
    return y, values, labels.to_numpy(), _group_order(series, labels)


def _kept_reason(rows: int, leavers: int, group: str, min_group_size: int) -> str:
    """Why a group keeps the single threshold, or empty when it gets its own cut-off."""
    if group == UNKNOWN:
        return "unknown group: keeps the overall threshold"
    if rows < min_group_size:
        return f"fewer than {min_group_size} rows: keeps the overall threshold"
    if leavers == 0:
        return "no leavers: keeps the overall threshold"
    return ""


def _matching_cutoff(leaver_scores: np.ndarray, target: float, threshold: float) -> float:
    """The cut-off nearest `threshold` whose share of `leaver_scores` at or above it is
    nearest `target`.

    The share alerted only changes at a leaver's score, so it is constant on each interval
    (next lower leaver score, leaver score]. The point of an interval nearest `threshold` is
    the threshold itself, the interval's top (a leaver's score) or just above its bottom
    (the next float above a leaver's score), so those are the only candidates needed.
    Distances to the target are compared to 12 decimals so that equal ones tie exactly;
    ties go to the smaller move, then the lower cut-off.
    """
    ordered = np.sort(leaver_scores)
    unique = np.unique(ordered)
    candidates = np.unique(np.concatenate([[threshold], unique, np.nextafter(unique, np.inf)]))
    caught = len(ordered) - np.searchsorted(ordered, candidates, side="left")
    miss = np.round(np.abs(caught / len(ordered) - target), 12)
    move = np.abs(candidates - threshold)
    return float(candidates[np.lexsort((candidates, move, miss))[0]])


def group_thresholds(
    y_true: ArrayLike,
    scores: ArrayLike,
    groups: pd.Series | ArrayLike,
    *,
    threshold: float,
    constraint: str = "true_positive_rate_parity",
    min_group_size: int = MIN_GROUP_SIZE,
) -> dict[str, float]:
    """A score cut-off per group so that every judged group's true-positive rate matches
    the overall one (equal opportunity).

    Parameters
    ----------
    y_true
        1 = left, 0 = stayed; row-aligned by position with `scores` and `groups`.
    scores
        The model's scores (no missing values).
    groups
        Each row's group of one protected attribute; missing is "unknown".
    threshold
        The single alert threshold (a row is alerted when its score is >= the cut-off).
    constraint
        A key of `GROUP_THRESHOLD_METHODS`; only "true_positive_rate_parity" for now.
    min_group_size
        Groups with fewer rows keep `threshold`, as `group_rates` does not judge them.

    Returns
    -------
    dict[str, float]
        A cut-off for every group present (labels as `group_rates` reports them).

    Notes
    -----
    The target is the share of all leavers (every group, unknown and small ones included)
    whose score reaches `threshold`. For a judged group with n leavers the achievable
    true-positive rates are k / n; the rule picks the rate nearest the target and, among
    the cut-offs that give it, the one nearest `threshold` (the smallest move), so a group
    already at the target keeps `threshold` exactly, and a lowered cut-off stops at the
    score of the last leaver it must catch. Groups that are unknown, smaller than
    `min_group_size` or without leavers keep `threshold`.

    The rule is deterministic: the same score in the same group is always alerted the same
    way, which an HR alert has to be. fairlearn's `ThresholdOptimizer` is not used: it
    meets the constraint exactly by randomising between two cut-offs for some groups (so
    two reps with the same score and group can get different alerts), and it moves the
    common true-positive rate to wherever its objective (accuracy by default) is best,
    rather than keeping the rate the chosen threshold gives. The cost of determinism is
    that a group's rate can miss the target by up to half of 1 / n (or more where leavers
    tie on a score). The cut-offs are fitted on the rows given; measure them on other
    rows (`mitigation_effect(..., thresholds=...)`) before trusting them. One protected
    attribute at a time: cut-offs by gender do not equalise rates by age band.
    """
    if constraint not in GROUP_THRESHOLD_METHODS:
        raise ValueError(
            f"unknown constraint {constraint!r}; choose from {', '.join(GROUP_THRESHOLD_METHODS)}"
        )
    y, values, labels, order = _aligned(y_true, scores, groups)
    leavers = y == 1
    if not leavers.any():
        return dict.fromkeys(order, float(threshold))
    target = float(np.mean(values[leavers] >= threshold))
    cutoffs = {}
    for group in order:
        members = labels == group
        group_leavers = members & leavers
        if _kept_reason(int(members.sum()), int(group_leavers.sum()), group, min_group_size):
            cutoffs[group] = float(threshold)
        else:
            cutoffs[group] = _matching_cutoff(values[group_leavers], target, threshold)
    return cutoffs


def apply_group_thresholds(
    scores: ArrayLike,
    groups: pd.Series | ArrayLike,
    thresholds: Mapping[str, float],
    *,
    default: float | None = None,
) -> np.ndarray:
    """Which rows are alerted when each row's score is compared with its group's cut-off.

    Parameters
    ----------
    scores
        The model's scores; a missing score is never alerted.
    groups
        Each row's group, row-aligned by position; missing is "unknown".
    thresholds
        A cut-off per group, as `group_thresholds` returns.
    default
        The cut-off of a group missing from `thresholds` (normally the single threshold);
        without it such a group is an error.

    Returns
    -------
    np.ndarray
        A boolean array: score >= the row's group cut-off.
    """
    values = np.asarray(scores, dtype=float)
    labels = _labels(_as_series(groups)).to_numpy()
    if len(values) != len(labels):
        raise ValueError("scores and groups must have the same length")
    missing = sorted(set(labels) - set(thresholds))
    if missing and default is None:
        raise ValueError(f"no threshold for group(s) {', '.join(missing)}")
    cutoffs = np.array([thresholds.get(g, default) for g in labels], dtype=float)
    return values >= cutoffs


def _precision(y: np.ndarray, alerted: np.ndarray) -> float:
    """Share of the alerted rows that are leavers; null when none is alerted."""
    return float(y[alerted].mean()) if alerted.any() else np.nan


def _auc(y: np.ndarray, values: np.ndarray) -> float:
    """ROC AUC of the scores; null unless both leavers and stayers are present."""
    return float(roc_auc_score(y, values)) if 0 < y.sum() < len(y) else np.nan


def mitigation_effect(
    y_true: ArrayLike,
    scores: ArrayLike,
    groups: pd.Series | ArrayLike,
    *,
    threshold: float,
    min_group_size: int = MIN_GROUP_SIZE,
    thresholds: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Group and overall rates with the single threshold (before) and per-group cut-offs
    (after), for the model card.

    Parameters
    ----------
    y_true, scores, groups
        As for `group_thresholds`: one protected attribute, row-aligned by position.
    threshold
        The single alert threshold (before; also the cut-off of groups that keep it).
    min_group_size
        Groups with fewer rows keep `threshold` and, as in `group_rates`, have null rates.
    thresholds
        Per-group cut-offs to measure, e.g. fitted on an earlier period; by default
        `group_thresholds` fitted on these rows (an in-sample, optimistic measure).

    Returns
    -------
    pd.DataFrame
        `EFFECT_COLUMNS`: one row per group in report order, then an "overall" row for all
        rows. Rates per group are `group_rates`' (the "before" ones equal
        `fairness_report`'s); `precision_*` is the share of alerted rows that are leavers.
        In the overall row the true-positive rate is the share of all leavers caught and
        `cutoff_after` is null. `roc_auc` is the scores' ROC AUC (within the group, or
        overall): a cut-off does not reorder scores, so it is the same before and after.
        `note` says why a group keeps the single threshold. `mitigation_summary` turns the
        table into the model card's sentence.
    """
    y, values, labels, order = _aligned(y_true, scores, groups)
    series = _as_series(groups)
    attribute = str(series.name) if series.name is not None else "group"
    if thresholds is None:
        thresholds = group_thresholds(
            y, values, series, threshold=threshold, min_group_size=min_group_size
        )
    alerted = {
        "before": values >= threshold,
        "after": apply_group_thresholds(values, series, thresholds, default=threshold),
    }
    rates = {
        when: group_rates(y, chosen.astype(int), series, attribute, min_group_size).set_index(
            "group"
        )
        for when, chosen in alerted.items()
    }
    rows = []
    for group in order:
        members = labels == group
        judged = int(members.sum()) >= min_group_size
        row: dict[str, object] = {
            "attribute": attribute,
            "group": group,
            "rows": int(members.sum()),
            "exit_rate": rates["before"].loc[group, "exit_rate"],
            "cutoff_before": float(threshold),
            "cutoff_after": float(thresholds.get(group, threshold)),
            "roc_auc": _auc(y[members], values[members]) if judged else np.nan,
            "note": _kept_reason(int(members.sum()), int(y[members].sum()), group, min_group_size),
        }
        for when, chosen in alerted.items():
            for rate in ["selection_rate", "true_positive_rate", "false_positive_rate"]:
                row[f"{rate}_{when}"] = rates[when].loc[group, rate]
            row[f"precision_{when}"] = _precision(y[members], chosen[members]) if judged else np.nan
        rows.append(row)
    overall: dict[str, object] = {
        "attribute": attribute,
        "group": OVERALL,
        "rows": len(y),
        "exit_rate": float(y.mean()) if len(y) else np.nan,
        "cutoff_before": float(threshold),
        "cutoff_after": np.nan,
        "roc_auc": _auc(y, values),
        "note": "all rows",
    }
    for when, chosen in alerted.items():
        overall[f"selection_rate_{when}"] = float(chosen.mean()) if len(y) else np.nan
        overall[f"true_positive_rate_{when}"] = (
            float(chosen[y == 1].mean()) if (y == 1).any() else np.nan
        )
        overall[f"false_positive_rate_{when}"] = (
            float(chosen[y == 0].mean()) if (y == 0).any() else np.nan
        )
        overall[f"precision_{when}"] = _precision(y, chosen)
    return pd.DataFrame([*rows, overall], columns=EFFECT_COLUMNS)


def _spread(values: pd.Series) -> float:
    """Highest minus lowest of the non-null values; null when there are fewer than two."""
    present = values.dropna()
    return float(present.max() - present.min()) if len(present) > 1 else np.nan


def mitigation_summary(effect: pd.DataFrame) -> str:
    """The model card's sentence on per-group cut-offs, one per attribute of `effect`.

    `effect` is a `mitigation_effect` (or several concatenated). The true-positive-rate
    gap is the highest minus the lowest judged group's rate (unknown excluded).
    """
    sentences = []
    for attribute, part in effect.groupby("attribute", sort=False):
        groups = part[(part["group"] != OVERALL) & (part["group"] != UNKNOWN)]
        total = part[part["group"] == OVERALL].iloc[0]
        before = _spread(groups["true_positive_rate_before"])
        after = _spread(groups["true_positive_rate_after"])
        cost = total["precision_after"] - total["precision_before"]
        sentences.append(
            f"Per-{attribute} cut-offs (true-positive-rate parity) change the gap between "
            f"{attribute} groups' true-positive rates from {_number(before)} to "
            f"{_number(after)}; overall, the share of leavers caught goes from "
            f"{_number(total['true_positive_rate_before'])} to "
            f"{_number(total['true_positive_rate_after'])}, the precision of alerts from "
            f"{_number(total['precision_before'])} to {_number(total['precision_after'])} "
            f"({'n/a' if pd.isna(cost) else f'{cost:+.2f}'}) and the selection rate from "
            f"{_number(total['selection_rate_before'])} to "
            f"{_number(total['selection_rate_after'])}. ROC AUC "
            f"({_number(total['roc_auc'])}) is unchanged: cut-offs do not reorder scores."
        )
    return " ".join(sentences)
