"""Feature drift between the training window and a scoring month (issue #5).

Drift is measured per feature with the population stability index (PSI): the reference
(training) values are split into bins, and PSI = sum over bins of
(current share - reference share) * ln(current share / reference share). It is 0 when the
two distributions fill the bins alike and grows as they part.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The usual credit-scoring reading of PSI: below 0.1 stable, 0.1 up to 0.25 a moderate
# shift worth watching, 0.25 or more drifted (the model's inputs no longer look like its
# training data). Each status applies from its value upwards; below all of them is "stable".
PSI_THRESHOLDS: dict[str, float] = {"moderate": 0.1, "drifted": 0.25}
# Half a row is added to every bin on both sides (additive smoothing), so an empty bin
# gives a finite contribution that shrinks as the samples grow, instead of a fixed tiny
# share that turns one rare value missing from a month of 150 reps into "drift".
SMOOTHING = 0.5
# A numeric feature with at most this many distinct values (a flag, a small count) is
# compared value by value, like categories, not by quantile bins.
DISCRETE_VALUES = 12

DRIFT_COLUMNS = ["feature", "psi", "status", "reference_mean", "current_mean", "drifted"]


def _is_numeric(values: pd.Series) -> bool:
    """Whether a column is a quantity (binned by quantiles) rather than categories or bools."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _numeric_bins(reference: pd.Series, current: pd.Series, bins: int) -> list[np.ndarray]:
    """Bin counts of both series: reference quantile bins, open-ended, then a missing bin.

    Quantile edges that coincide are merged, so there may be fewer than `bins` bins. Each
    bin includes its upper edge; the first holds the reference minimum and below.
    """
    known = reference.dropna().to_numpy(dtype="float64")
    quantiles = np.quantile(known, np.linspace(0, 1, bins + 1)) if known.size else np.array([])
    inner = np.unique(quantiles)[:-1]
    counts = []
    for values in (reference, current):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        codes = np.where(np.isnan(x), inner.size + 1, np.searchsorted(inner, x, side="left"))
        counts.append(np.bincount(codes, minlength=inner.size + 2))
    return counts


def _category_bins(reference: pd.Series, current: pd.Series) -> list[np.ndarray]:
    """Counts per reference category, then one bin for unseen categories and one for missing."""
    known = pd.unique(reference.dropna())
    counts = []
    for values in (reference, current):
        codes = pd.Categorical(values, categories=known).codes
        codes = np.where(values.isna(), len(known) + 1, np.where(codes < 0, len(known), codes))
        counts.append(np.bincount(codes, minlength=len(known) + 2))
    return counts


def population_stability_index(reference: pd.Series, current: pd.Series, bins: int = 10) -> float:
    """PSI of `current` against `reference` (0 = same distribution; see `PSI_THRESHOLDS`).

    A numeric reference is cut at its quantiles into at most `bins` bins, the outer ones
    open-ended so current values beyond the reference range still count; a categorical or
    boolean reference, or a numeric one with at most `DISCRETE_VALUES` distinct values,
    gives one bin per value, and current values never seen in the reference share one
    extra bin. Missing values are always a bin of their own. Shares are smoothed with
    `SMOOTHING` rows per bin.
    """
    if reference.empty or current.empty:
        raise ValueError("PSI needs at least one reference and one current value")
    if _is_numeric(reference) and reference.nunique() > DISCRETE_VALUES:
        ref_counts, cur_counts = _numeric_bins(reference, current, bins)
    else:
        ref_counts, cur_counts = _category_bins(reference, current)
    ref = (ref_counts + SMOOTHING) / (ref_counts.sum() + SMOOTHING * ref_counts.size)
    cur = (cur_counts + SMOOTHING) / (cur_counts.sum() + SMOOTHING * cur_counts.size)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi_status(psi: float) -> str:
    """The status of a PSI value by `PSI_THRESHOLDS`: "stable", "moderate" or "drifted"."""
    status = "stable"
    for name, lowest in sorted(PSI_THRESHOLDS.items(), key=lambda item: item[1]):
        if psi >= lowest:
            status = name
    return status


def _mean(values: pd.Series) -> float:
    """The mean of a numeric column ignoring missing values; null for any other column."""
    return float(values.mean()) if _is_numeric(values) else np.nan


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, features: list[str], bins: int = 10
) -> pd.DataFrame:
    """PSI of each feature of the scoring rows (`current`) against the training rows.

    One row per feature with `DRIFT_COLUMNS`, largest PSI first; `drifted` is true from
    the "drifted" threshold of `PSI_THRESHOLDS` up. Means are null for non-numeric features.
    """
    rows = [
        {
            "feature": feature,
            "psi": population_stability_index(reference[feature], current[feature], bins),
            "reference_mean": _mean(reference[feature]),
            "current_mean": _mean(current[feature]),
        }
        for feature in features
    ]
    drift = pd.DataFrame(rows, columns=["feature", "psi", "reference_mean", "current_mean"])
    drift["status"] = drift["psi"].map(psi_status)
    drift["drifted"] = (drift["psi"] >= PSI_THRESHOLDS["drifted"]).astype(bool)
    drift = drift.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)
    return drift[DRIFT_COLUMNS]


def _number(value: float, digits: int) -> str:
    """A value with `digits` decimals, "n/a" when null."""
    return "n/a" if pd.isna(value) else f"{value:,.{digits}f}"


def drift_markdown(drift: pd.DataFrame) -> str:
    """The model card's drift section: the `feature_drift` table and which features drifted."""
    lines = [
        "## Drift",
        "",
        "Population stability index of each feature in the scoring month against the "
        f"training window: below {PSI_THRESHOLDS['moderate']} stable, "
        f"{PSI_THRESHOLDS['moderate']} to {PSI_THRESHOLDS['drifted']} moderate, "
        f"{PSI_THRESHOLDS['drifted']} or more drifted.",
        "",
        "| feature | PSI | status | training mean | scoring mean |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    lines += [
        f"| {d.feature} | {_number(d.psi, 3)} | {d.status} | {_number(d.reference_mean, 2)} "
        f"| {_number(d.current_mean, 2)} |"
        for d in drift.itertuples()
    ]
    drifted = drift.loc[drift["drifted"], "feature"].tolist()
    limit = PSI_THRESHOLDS["drifted"]
    lines += [
        "",
        f"Drifted (PSI >= {limit}): {', '.join(drifted)}."
        if drifted
        else f"No feature has drifted (every PSI is below {limit}).",
    ]
    return "\n".join(lines)


__all__ = [
    "PSI_THRESHOLDS",
    "SMOOTHING",
    "drift_markdown",
    "feature_drift",
    "population_stability_index",
    "psi_status",
]
