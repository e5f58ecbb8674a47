"""Fairness checks of the attrition model, for the model card (issue #5).

Protected attributes (gender, birth year) are never model features; they are used here only
to audit the model's alerts. A rep is *selected* when their score reaches the alert
threshold. For each group of a protected attribute (gender, age band) we report the
selection rate, the true-positive rate (share of actual leavers alerted) and the
false-positive rate (share of stayers alerted), computed with fairlearn's `MetricFrame`.
A group whose selection rate is below 0.8 of the highest group's rate is flagged (the
"four-fifths rule"), and so is any feature whose absolute correlation with a protected
attribute exceeds 0.5 (a likely proxy for it).

Each group also carries its observed exit rate, so that `explain_gaps` can say whether a
selection-rate gap follows the group's exit rate (the model treats its leavers and stayers
as it treats the reference group's, and fewer of them leave) or is an error-rate gap (the
model misses its leavers or over-alerts its stayers). The mitigation (a cut-off per
group) is in `models_ml.group_thresholds`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from numpy.typing import ArrayLike

from pipelines.safe_text import markdown

# Age bands by age in whole years at the scoring date: under 30, 30-39, 40-49, 50 and over.
AGE_BANDS: tuple[str, ...] = ("under 30", "30-39", "40-49", "50 and over")
UNKNOWN = "unknown"
# The lowest acceptable ratio of a group's selection rate to the highest group's rate.
FOUR_FIFTHS = 0.8
# Groups with fewer rows (people, or person-months) than this are reported but not judged.
MIN_GROUP_SIZE = 5
# A feature correlated with a protected attribute above this is a likely proxy for it.
PROXY_LIMIT = 0.5

RATE_COLUMNS = [
    "attribute",
    "group",
    "rows",
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "selection_rate_ratio",
    "flagged",
    "note",
    "exit_rate",
]
PROXY_COLUMNS = ["feature", "attribute", "correlation", "flagged"]


def age_band(birth_year: pd.Series, on: pd.Series | date) -> pd.Series:
    """Each person's age band (ordered categorical of `AGE_BANDS` plus "unknown").

    Age is the year of `on` (one date, or a date per row aligned on the index) minus the
    birth year; a missing birth year or date gives "unknown".
    """
    year = pd.to_datetime(on).dt.year if isinstance(on, pd.Series) else on.year
    age = year - pd.to_numeric(birth_year, errors="coerce")
    bands = pd.cut(age, bins=[-np.inf, 30, 40, 50, np.inf], right=False, labels=AGE_BANDS)
    bands = bands.cat.add_categories([UNKNOWN]).fillna(UNKNOWN)
    return bands.cat.as_ordered().rename("age_band")


def _positives(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """How many rows are actual positives (leavers)."""
    return float(np.sum(np.asarray(y_true) == 1))


def _metrics() -> dict[str, Callable[..., float]]:
    """The per-group metrics given to MetricFrame, with 1 (leaves) as the positive label."""
    return {
        "rows": count,
        "positives": _positives,
        "selection_rate": functools.partial(selection_rate, pos_label=1),
        "true_positive_rate": functools.partial(true_positive_rate, pos_label=1),
        "false_positive_rate": functools.partial(false_positive_rate, pos_label=1),
    }


def _binary(values: ArrayLike, name: str) -> np.ndarray:
    """`values` as a 0/1 integer array; missing or other values are an error."""
    series = pd.Series(np.asarray(values, dtype=object))
    if series.isna().any() or not series.isin([0, 1, True, False]).all():
        raise ValueError(f"{name} must be 0/1 with no missing values")
    return series.astype(int).to_numpy()


def _labels(groups: pd.Series) -> pd.Series:
    """Each row's group as a string, "unknown" where it is missing."""
    return groups.astype(object).where(groups.notna(), UNKNOWN).astype(str)


def _group_order(groups: pd.Series, labels: pd.Series) -> list[str]:
    """Group labels in category order when `groups` is categorical, then the rest sorted."""
    present = set(labels)
    first = (
        [str(c) for c in groups.cat.categories]
        if isinstance(groups.dtype, pd.CategoricalDtype)
        else []
    )
    return [c for c in first if c in present] + sorted(present - set(first))


def _notes(row: pd.Series, min_group_size: int) -> str:
    """Why some of a group's numbers are missing, or empty when none are."""
    if row["rows"] < min_group_size:
        return f"fewer than {min_group_size} rows: not judged"
    notes = []
    if row["positives"] == 0:
        notes.append("no leavers: true-positive rate undefined")
    if row["positives"] == row["rows"]:
        notes.append("no stayers: false-positive rate undefined")
    return "; ".join(notes)


def group_rates(
    y_true: ArrayLike,
    selected: ArrayLike,
    groups: pd.Series,
    attribute: str,
    min_group_size: int = MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Selection, true- and false-positive rates of each group of one protected attribute.

    `y_true` (1 = left) and `selected` (1 = alerted) are 0/1 and row-aligned with `groups`
    by position; a missing group is "unknown". One row per group with `RATE_COLUMNS`:
    `selection_rate_ratio` is the group's selection rate over the highest judged group's,
    and `flagged` is true when it is below `FOUR_FIFTHS`. Groups with fewer than
    `min_group_size` people have null rates and are never flagged; a rate that is undefined
    (no leavers for the true-positive rate, no stayers for the false-positive rate) is null.
    The reason is in `note`. `exit_rate` is the group's observed exit rate (leavers over
    rows, whatever the model says), null like the other rates for a group too small to judge.
    """
    labels = _labels(groups)
    frame = MetricFrame(
        metrics=_metrics(),
        y_true=_binary(y_true, "y_true"),
        y_pred=_binary(selected, "selected"),
        sensitive_features=labels.rename(attribute).to_numpy(),
    )
    rates = frame.by_group.reindex(_group_order(groups, labels))
    rates.index.name = "group"
    rates = rates.reset_index()
    rates["rows"] = rates["rows"].astype(int)
    rates["note"] = rates.apply(_notes, axis=1, min_group_size=min_group_size)
    too_small = rates["rows"] < min_group_size
    rates["exit_rate"] = rates["positives"] / rates["rows"]
    rates["true_positive_rate"] = rates["true_positive_rate"].mask(rates["positives"] == 0)
    rates["false_positive_rate"] = rates["false_positive_rate"].mask(
        rates["positives"] == rates["rows"]
    )
    rate_names = ["selection_rate", "true_positive_rate", "false_positive_rate", "exit_rate"]
    rates[rate_names] = rates[rate_names].mask(too_small)
    highest = rates["selection_rate"].max()
    rates["selection_rate_ratio"] = rates["selection_rate"] / highest if highest > 0 else np.nan
    rates["flagged"] = (rates["selection_rate_ratio"] < FOUR_FIFTHS).fillna(False).astype(bool)
    rates["attribute"] = attribute
    return rates[RATE_COLUMNS]


def fairness_report(
    y_true: ArrayLike,
    scores: ArrayLike,
    protected: pd.DataFrame,
    threshold: float,
    min_group_size: int = MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """`group_rates` for every column of `protected` when reps scoring >= `threshold` are alerted.

    `protected` (e.g. gender and age_band columns) is row-aligned by position with `y_true`
    and `scores`.
    """
    selected = (np.asarray(scores, dtype=float) >= threshold).astype(int)
    parts = [
        group_rates(y_true, selected, protected[column], str(column), min_group_size)
        for column in protected.columns
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=RATE_COLUMNS)


def _numeric_features(features: pd.DataFrame) -> pd.DataFrame:
    """The features as numbers: numeric and boolean columns as floats, any other column
    one-hot as a 0/1 column per level named "column=level" (null where it is missing)."""
    columns = []
    for name, values in features.items():
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            columns.append(values.astype("float64").rename(str(name)))
            continue
        dummies = pd.get_dummies(values.astype(object), prefix=str(name), prefix_sep="=")
        columns.append(dummies.astype("float64").mask(values.isna(), axis=0))
    return pd.concat(columns, axis=1) if columns else pd.DataFrame(index=features.index)


def _pearson(feature: pd.Series, attribute: pd.Series) -> float:
    """|Pearson r| on rows where both are present; null when either is constant there."""
    both = pd.concat([feature, attribute.astype("float64")], axis=1).dropna()
    if len(both) < 3 or both.std().min() == 0:
        return np.nan
    return float(abs(both.iloc[:, 0].corr(both.iloc[:, 1])))


def _correlation_ratio(feature: pd.Series, attribute: pd.Series) -> float:
    """Correlation ratio eta of a numeric feature by a categorical attribute (0 to 1).

    eta = sqrt(between-group sum of squares / total sum of squares) on rows where both are
    present. For a two-group attribute it equals the absolute point-biserial correlation.
    """
    both = pd.DataFrame({"x": feature, "g": attribute.astype(object)}).dropna()
    total = float(((both["x"] - both["x"].mean()) ** 2).sum())
    if len(both) < 3 or total == 0:
        return np.nan
    means = both.groupby("g")["x"].transform("mean")
    between = float(((means - both["x"].mean()) ** 2).sum())
    return float(np.sqrt(between / total))


def _is_numeric_attribute(attribute: pd.Series) -> bool:
    """Whether a protected attribute is a quantity (birth year) rather than a category."""
    return pd.api.types.is_numeric_dtype(attribute) and not pd.api.types.is_bool_dtype(attribute)


def proxy_correlations(
    features: pd.DataFrame, protected: pd.DataFrame, limit: float = PROXY_LIMIT
) -> pd.DataFrame:
    """How strongly each feature tracks each protected attribute: a likely proxy is flagged.

    Rows of `features` and `protected` describe the same people in the same order.
    Non-numeric features are one-hot encoded first (a feature "team=c" per level), so a
    single level that stands in for a group is caught. The correlation is absolute and
    between 0 and 1: Pearson |r| for a numeric attribute (birth year), the correlation
    ratio eta for a categorical one (gender, age band), each on rows where both values are
    present. Columns `PROXY_COLUMNS`, `flagged` when the correlation is above `limit`,
    strongest first; a correlation that cannot be computed (a constant column) is null.
    """
    if len(features) != len(protected):
        raise ValueError("features and protected must have the same rows")
    encoded = _numeric_features(features.reset_index(drop=True))
    attributes = protected.reset_index(drop=True)
    rows = []
    for name, attribute in attributes.items():
        measure = _pearson if _is_numeric_attribute(attribute) else _correlation_ratio
        rows += [
            {
                "feature": str(f),
                "attribute": str(name),
                "correlation": measure(encoded[f], attribute),
            }
            for f in encoded.columns
        ]
    table = pd.DataFrame(rows, columns=PROXY_COLUMNS[:3])
    table["correlation"] = table["correlation"].astype("float64")
    table["flagged"] = (table["correlation"] > limit).astype(bool)
    return table.sort_values("correlation", ascending=False, na_position="last", kind="stable")[
        PROXY_COLUMNS
    ].reset_index(drop=True)


def _number(value: float) -> str:
    """A rate or correlation with two decimals, "n/a" when null."""
    return "n/a" if pd.isna(value) else f"{value:.2f}"


def _rates_table(rates: pd.DataFrame) -> list[str]:
    """The per-group rates as markdown table lines."""
    lines = [
        "| attribute | group | rows | selection rate | true-positive rate "
        "| false-positive rate | ratio to highest | flagged | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    lines += [
        f"| {r.attribute} | {markdown(r.group)} | {r.rows:,} | {_number(r.selection_rate)} "
        f"| {_number(r.true_positive_rate)} | {_number(r.false_positive_rate)} "
        f"| {_number(r.selection_rate_ratio)} | {'yes' if r.flagged else ''} | {r.note} |"
        for r in rates.itertuples()
    ]
    return lines


def _proxies_table(proxies: pd.DataFrame) -> list[str]:
    """The feature-attribute correlations as markdown table lines."""
    lines = ["| feature | attribute | correlation | flagged |", "| --- | --- | ---: | --- |"]
    lines += [
        f"| {p.feature} | {p.attribute} | {_number(p.correlation)} | {'yes' if p.flagged else ''} |"
        for p in proxies.itertuples()
    ]
    return lines


def _flag_sentence(rates: pd.DataFrame, proxies: pd.DataFrame, proxy_limit: float) -> str:
    """One sentence listing every flag, or saying there are none."""
    low = rates[rates["flagged"]]
    close = proxies[proxies["flagged"]]
    parts = []
    if low.empty:
        parts.append(f"No group's selection rate is below {FOUR_FIFTHS} of the highest")
    else:
        groups = ", ".join(
            f"{r.attribute} {r.group} ({r.selection_rate_ratio:.2f})" for r in low.itertuples()
        )
        parts.append(f"Selection rate below {FOUR_FIFTHS} of the highest for {groups}")
    if close.empty:
        parts.append(f"no feature correlates above {proxy_limit} with a protected attribute")
    else:
        pairs = ", ".join(
            f"{p.feature} with {p.attribute} ({p.correlation:.2f})" for p in close.itertuples()
        )
        parts.append(f"likely proxies (correlation above {proxy_limit}): {pairs}")
    return "; ".join(parts) + "."


def fairness_markdown(
    rates: pd.DataFrame, proxies: pd.DataFrame, *, proxy_limit: float = PROXY_LIMIT
) -> str:
    """The model card's fairness section: group rates and proxy tables, then the flags.

    `rates` is a `fairness_report`, `proxies` a `proxy_correlations` made with
    `proxy_limit`.
    """
    lines = [
        "## Fairness",
        "",
        "Protected attributes are not model features. A rep is selected when their score "
        "reaches the alert threshold; a group is flagged when its selection rate is below "
        f"{FOUR_FIFTHS} of the highest group's. Groups too small to judge have no rates.",
        "",
        *_rates_table(rates),
        "",
        "Absolute correlation of each feature with each protected attribute (Pearson for "
        "birth year, correlation ratio for categories); above "
        f"{proxy_limit} the feature is a likely proxy.",
        "",
        *_proxies_table(proxies),
        "",
        _flag_sentence(rates, proxies, proxy_limit),
    ]
    return "\n".join(lines)


# --- Why a group is selected less: its exit rate, or the model's error rates --------------

# How far a group's true- or false-positive rate may sit from the reference group's (in
# absolute rate) for the two to count as "about the same". Absolute, not a ratio: these
# rates are often small (a false-positive rate of 0.02 against 0.04 is a ratio of 0.5 but
# two stayers in a hundred), and the absolute difference is what fairlearn's
# equalized_odds_difference reports. 0.10 is the usual tolerance for that difference.
GAP_TOLERANCE = 0.10
FOLLOWS_EXIT_RATE = "follows exit rate"
ERROR_RATE_GAP = "error-rate gap"
REFERENCE = "reference"
NOT_JUDGED = "not judged"
CANNOT_TELL = "cannot tell"
_GAPS = [
    "selection_rate_gap",
    "true_positive_rate_gap",
    "false_positive_rate_gap",
    "gap_from_exit_rate",
    "gap_from_error_rates",
]
GAP_COLUMNS = [
    "attribute",
    "group",
    "flagged",
    "reference_group",
    "exit_rate",
    "reference_exit_rate",
    *_GAPS,
    "verdict",
    "explanation",
]


def _undefined_rates(row: pd.Series, who: str) -> list[str]:
    """Why `row`'s true- or false-positive rate is missing, naming the group as `who`."""
    reasons = []
    if pd.isna(row["true_positive_rate"]):
        reasons.append(f"{who} has no leavers")
    if pd.isna(row["false_positive_rate"]):
        reasons.append(f"{who} has no stayers")
    return reasons


def _error_parts(
    gaps: dict[str, float], row: pd.Series, reference: pd.Series, tolerance: float
) -> list[str]:
    """The plain-English error-rate differences beyond `tolerance`, one phrase each."""
    tpr = (
        f"true-positive rate {row['true_positive_rate']:.2f} "
        f"vs {reference['true_positive_rate']:.2f}"
    )
    fpr = (
        f"false-positive rate {row['false_positive_rate']:.2f} "
        f"vs {reference['false_positive_rate']:.2f}"
    )
    parts = []
    if gaps["true_positive_rate_gap"] < -tolerance:
        parts.append(f"misses more of its leavers ({tpr})")
    elif gaps["true_positive_rate_gap"] > tolerance:
        parts.append(f"catches more of its leavers ({tpr})")
    if gaps["false_positive_rate_gap"] > tolerance:
        parts.append(f"over-alerts its stayers ({fpr})")
    elif gaps["false_positive_rate_gap"] < -tolerance:
        parts.append(f"alerts fewer of its stayers ({fpr})")
    return parts


def _explain(row: pd.Series, reference: pd.Series | None, tolerance: float) -> dict[str, object]:
    """One `GAP_COLUMNS` row: `row` of a rates table compared with the `reference` row."""
    out: dict[str, object] = {
        "attribute": row["attribute"],
        "group": row["group"],
        "flagged": bool(row["flagged"]),
        "reference_group": None if reference is None else reference["group"],
        "exit_rate": row["exit_rate"],
        "reference_exit_rate": np.nan if reference is None else reference["exit_rate"],
    }
    if reference is None or pd.isna(row["selection_rate"]):
        return out | {"verdict": NOT_JUDGED, "explanation": row["note"] or NOT_JUDGED}
    if row["group"] == reference["group"]:
        return (
            out
            | dict.fromkeys(_GAPS, 0.0)
            | {
                "verdict": REFERENCE,
                "explanation": f"reference: the highest selection rate of {row['attribute']} "
                f"({row['selection_rate']:.2f}); the other groups are compared with it",
            }
        )
    p, p_ref = row["exit_rate"], reference["exit_rate"]
    gaps = {
        name: row[rate] - reference[rate]
        for name, rate in [
            ("selection_rate_gap", "selection_rate"),
            ("true_positive_rate_gap", "true_positive_rate"),
            ("false_positive_rate_gap", "false_positive_rate"),
        ]
    }
    # selection rate = TPR * p + FPR * (1 - p), so the gap splits exactly into the part the
    # reference's error rates give at this group's exit rate, and the part its own give.
    gaps["gap_from_exit_rate"] = (
        reference["true_positive_rate"] - reference["false_positive_rate"]
    ) * (p - p_ref)
    tpr_gap, fpr_gap = gaps["true_positive_rate_gap"], gaps["false_positive_rate_gap"]
    gaps["gap_from_error_rates"] = tpr_gap * p + fpr_gap * (1 - p)
    out |= gaps
    undefined = _undefined_rates(row, "this group") + _undefined_rates(
        reference, f"the reference group {reference['group']}"
    )
    if undefined:
        return out | {
            "verdict": CANNOT_TELL,
            "explanation": f"cannot tell: {' and '.join(undefined)}, so the error rates "
            "cannot be compared",
        }
    split = (
        f"of the selection-rate gap of {gaps['selection_rate_gap']:+.2f} to "
        f"{reference['group']}, {gaps['gap_from_exit_rate']:+.2f} follows the exit rate "
        f"({p:.2f} vs {p_ref:.2f}) and {gaps['gap_from_error_rates']:+.2f} the error rates"
    )
    parts = _error_parts(gaps, row, reference, tolerance)
    if not parts:
        return out | {
            "verdict": FOLLOWS_EXIT_RATE,
            "explanation": f"follows the exit rate: the model catches this group's leavers "
            f"(true-positive rate {row['true_positive_rate']:.2f} vs "
            f"{reference['true_positive_rate']:.2f}) and alerts its stayers (false-positive "
            f"rate {row['false_positive_rate']:.2f} vs {reference['false_positive_rate']:.2f})"
            f" about as it does {reference['group']}'s; {split}",
        }
    return out | {
        "verdict": ERROR_RATE_GAP,
        "explanation": f"error-rate gap: compared with {reference['group']}, the model "
        f"{' and '.join(parts)}; {split}",
    }


def explain_gaps(rates: pd.DataFrame, *, tolerance: float = GAP_TOLERANCE) -> pd.DataFrame:
    """Whether each group's selection-rate gap follows its exit rate or the model's errors.

    Parameters
    ----------
    rates
        A `fairness_report` (or `group_rates`) table; it must have every `RATE_COLUMNS`
        column, `exit_rate` included.
    tolerance
        The largest absolute difference between a group's true- (or false-) positive rate
        and the reference group's that still counts as the same rate (`GAP_TOLERANCE`).

    Returns
    -------
    pd.DataFrame
        One row per group in the order of `rates`, with `GAP_COLUMNS`. Within an attribute
        the reference is the judged group with the highest selection rate (the one the
        four-fifths ratio divides by). Gaps are the group's rate minus the reference's.
        Since a selection rate is TPR * exit rate + FPR * (1 - exit rate), the
        selection-rate gap is split exactly into `gap_from_exit_rate` (the reference's
        TPR - FPR times the difference in exit rates: what the gap would be if the model
        treated this group's leavers and stayers exactly as the reference's) and
        `gap_from_error_rates` (the group's TPR gap times its exit rate plus its FPR gap
        times its stay rate). `verdict`:

        - "follows exit rate": the group's true- and false-positive rates are both within
          `tolerance` of the reference's, so the model alerts its leavers and its stayers
          at the reference's rates and any selection-rate gap comes from how many of
          them leave;
        - "error-rate gap": either rate differs by more than `tolerance` (the model
          misses more of the group's leavers, or alerts more of its stayers, or the
          reverse); `explanation` says which;
        - "reference", "not judged" (too few rows: no rates), or "cannot tell" (the group
          or the reference has no leavers or no stayers, so a rate is undefined).

        Every judged group gets a verdict, flagged or not: an error-rate gap can hide
        behind an unflagged selection rate. `explanation` is one plain-English sentence.
    """
    missing = [c for c in RATE_COLUMNS if c not in rates.columns]
    if missing:
        raise ValueError(f"rates lack column(s) {', '.join(missing)}: use fairness_report")
    rows = []
    for _, part in rates.groupby("attribute", sort=False):
        judged = part[part["selection_rate"].notna()]
        reference = judged.loc[judged["selection_rate"].idxmax()] if len(judged) else None
        rows += [_explain(row, reference, tolerance) for _, row in part.iterrows()]
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


# --- Mitigation: a cut-off per group -------------------------------------------------------

# The mitigations `group_thresholds` can apply, by fairlearn's constraint name.


__all__ = [
    "AGE_BANDS",
    "FOUR_FIFTHS",
    "GAP_COLUMNS",
    "GAP_TOLERANCE",
    "MIN_GROUP_SIZE",
    "PROXY_LIMIT",
    "age_band",
    "explain_gaps",
    "fairness_markdown",
    "fairness_report",
    "group_rates",
    "proxy_correlations",
]
