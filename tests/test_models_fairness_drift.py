"""Fairness checks (group rates, proxies) and feature drift (PSI) for the model card."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from models_ml.drift import (
    drift_markdown,
    feature_drift,
    population_stability_index,
    psi_status,
)
from models_ml.fairness import (
    age_band,
    fairness_markdown,
    fairness_report,
    group_rates,
    proxy_correlations,
)


def _by_group(rates: pd.DataFrame) -> pd.DataFrame:
    return rates.set_index("group")


def _people(**groups: tuple[list[int], list[int]]) -> tuple[list[int], list[int], pd.Series]:
    """(y_true, selected, group) of people given per group as name=(y_true, selected)."""
    y_true = [y for outcome, _ in groups.values() for y in outcome]
    selected = [s for _, alerts in groups.values() for s in alerts]
    names = [name for name, (outcome, _) in groups.items() for _ in outcome]
    return y_true, selected, pd.Series(names)


def test_a_group_selected_far_less_often_than_the_highest_is_flagged() -> None:
    y_true, selected, gender = _people(
        f=([0] * 10, [1] * 2 + [0] * 8),
        m=([0] * 10, [1] * 5 + [0] * 5),
    )
    rates = _by_group(group_rates(y_true, selected, gender, "gender"))
    assert rates.loc["f", "selection_rate_ratio"] == pytest.approx(0.4)
    assert rates["flagged"].to_dict() == {"f": True, "m": False}


def test_groups_selected_at_the_same_rate_are_not_flagged() -> None:
    gender = pd.Series(["f"] * 10 + ["m"] * 10)
    selected = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0] * 2
    rates = group_rates([0] * 20, selected, gender, "gender")
    assert rates["selection_rate_ratio"].tolist() == [1.0, 1.0]
    assert not rates["flagged"].any()


def test_rates_per_group_match_a_hand_count() -> None:
    # a: 3 leavers, 2 of them alerted; 3 stayers, 1 alerted.
    # b: 2 leavers, 1 alerted; 3 stayers, none alerted.
    y_true, selected, groups = _people(
        a=([1, 1, 1, 0, 0, 0], [1, 1, 0, 1, 0, 0]),
        b=([1, 1, 0, 0, 0], [1, 0, 0, 0, 0]),
    )
    rates = _by_group(group_rates(y_true, selected, groups, "team"))
    assert rates.loc["a", ["rows", "selection_rate"]].tolist() == [6, 0.5]
    assert rates.loc["a", "true_positive_rate"] == pytest.approx(2 / 3)
    assert rates.loc["a", "false_positive_rate"] == pytest.approx(1 / 3)
    assert rates.loc["b", ["selection_rate", "true_positive_rate"]].tolist() == [0.2, 0.5]
    assert rates.loc["b", "false_positive_rate"] == 0.0
    assert rates.loc["b", "selection_rate_ratio"] == pytest.approx(0.4)
    assert (rates["attribute"] == "team").all()


def test_a_group_without_leavers_has_no_true_positive_rate() -> None:
    groups = pd.Series(["a"] * 5 + ["b"] * 5)
    y_true = [1, 0, 0, 0, 0] + [0] * 5
    rates = _by_group(group_rates(y_true, [1, 0, 0, 0, 0] * 2, groups, "g"))
    assert math.isnan(rates.loc["b", "true_positive_rate"])
    assert rates.loc["b", "false_positive_rate"] == pytest.approx(0.2)
    assert "no leavers" in rates.loc["b", "note"]
    assert rates.loc["a", "note"] == ""


def test_groups_below_the_minimum_size_are_reported_but_not_judged() -> None:
    y_true, selected, groups = _people(
        a=([0] * 6, [1, 1, 1, 0, 0, 0]),
        b=([0] * 2, [0, 0]),
    )
    rates = _by_group(group_rates(y_true, selected, groups, "g", min_group_size=5))
    small = rates.loc["b"]
    assert small["rows"] == 2
    assert small[["selection_rate", "selection_rate_ratio"]].isna().all()
    assert not small["flagged"]
    assert small["note"] == "fewer than 5 rows: not judged"
    assert rates.loc["a", "selection_rate_ratio"] == 1.0


def test_a_missing_group_is_reported_as_unknown() -> None:
    groups = pd.Series(["a"] * 5 + [None] * 5)
    rates = group_rates([0] * 10, [0] * 10, groups, "g")
    assert rates["group"].tolist() == ["a", "unknown"]


def test_outcomes_must_be_known() -> None:
    with pytest.raises(ValueError, match="y_true"):
        group_rates([0, 1, None], [0, 1, 1], pd.Series(["a", "a", "b"]), "g")


def test_age_bands_follow_age_in_the_scoring_year() -> None:
    birth_year = pd.Series([1995, 1994, 1985, 1984, 1975, 1974, None])
    bands = age_band(birth_year, date(2024, 6, 30))
    assert bands.astype(str).tolist() == [
        "under 30",
        "30-39",
        "30-39",
        "40-49",
        "40-49",
        "50 and over",
        "unknown",
    ]


def test_age_bands_use_each_rows_own_date() -> None:
    month_end = pd.Series(pd.to_datetime(["2019-12-31", "2024-12-31"]))
    bands = age_band(pd.Series([1990, 1990]), month_end)
    assert bands.astype(str).tolist() == ["under 30", "30-39"]


def test_age_band_groups_are_reported_youngest_first() -> None:
    bands = age_band(pd.Series([1960] * 5 + [2000] * 5 + [1980] * 5), date(2024, 1, 31))
    rates = group_rates([0] * 15, [0] * 15, bands, "age_band")
    assert rates["group"].tolist() == ["under 30", "40-49", "50 and over"]


def test_the_report_alerts_scores_at_the_threshold_for_every_protected_attribute() -> None:
    protected = pd.DataFrame({"gender": ["f"] * 5 + ["m"] * 5, "age_band": ["30-39"] * 10})
    scores = [0.5, 0.5, 0.1, 0.1, 0.1] + [0.1] * 5
    report = fairness_report([0] * 10, scores, protected, threshold=0.5)
    assert report[["attribute", "group"]].values.tolist() == [
        ["gender", "f"],
        ["gender", "m"],
        ["age_band", "30-39"],
    ]
    assert report["selection_rate"].tolist() == [0.4, 0.0, 0.2]


@pytest.fixture(scope="module")
def people() -> tuple[pd.DataFrame, pd.DataFrame]:
    """200 people: one feature tracks gender, one tracks birth year, one tracks nothing."""
    rng = np.random.default_rng(1)
    n = 200
    protected = pd.DataFrame(
        {"gender": rng.choice(["f", "m"], n), "birth_year": rng.integers(1960, 2000, n)}
    )
    is_f = (protected["gender"] == "f").to_numpy()
    features = pd.DataFrame(
        {
            "gender_echo": is_f + rng.normal(0, 0.3, n),
            "tenure_months": (2024 - protected["birth_year"]) * 6 + rng.normal(0, 20, n),
            "independent": rng.normal(size=n),
            "team": np.where(is_f, "north", "south"),
        }
    )
    return features, protected


def test_a_feature_that_tracks_a_protected_attribute_is_flagged_as_a_proxy(people) -> None:
    features, protected = people
    proxies = proxy_correlations(features, protected)
    flagged = set(map(tuple, proxies.loc[proxies["flagged"], ["feature", "attribute"]].values))
    assert flagged == {
        ("gender_echo", "gender"),
        ("tenure_months", "birth_year"),
        ("team=north", "gender"),
        ("team=south", "gender"),
    }


def test_an_independent_feature_is_not_a_proxy(people) -> None:
    features, protected = people
    proxies = proxy_correlations(features, protected).set_index(["feature", "attribute"])
    assert proxies.loc[("independent", "gender"), "correlation"] < 0.2
    assert proxies.loc[("independent", "birth_year"), "correlation"] < 0.2
    assert not proxies.loc["independent", "flagged"].any()


def test_correlation_with_two_groups_is_the_absolute_point_biserial(people) -> None:
    features, protected = people
    proxies = proxy_correlations(features, protected).set_index(["feature", "attribute"])
    is_f = (protected["gender"] == "f").astype(float)
    expected = abs(np.corrcoef(features["independent"], is_f)[0, 1])
    assert proxies.loc[("independent", "gender"), "correlation"] == pytest.approx(expected)


def test_the_fairness_section_names_each_flag() -> None:
    gender = pd.Series(["f"] * 10 + ["m"] * 10)
    rates = group_rates([0] * 20, [1] * 2 + [0] * 8 + [1] * 5 + [0] * 5, gender, "gender")
    proxies = pd.DataFrame(
        {"feature": ["pay"], "attribute": ["gender"], "correlation": [0.7], "flagged": [True]}
    )
    text = fairness_markdown(rates, proxies)
    assert "| gender | f | 10 | 0.20 |" in text
    assert "for gender f (0.40)" in text
    assert "pay with gender (0.70)" in text


def test_the_fairness_section_says_when_nothing_is_flagged() -> None:
    gender = pd.Series(["f"] * 5 + ["m"] * 5)
    rates = group_rates([0] * 10, [1, 0, 0, 0, 0] * 2, gender, "gender")
    proxies = pd.DataFrame(
        {"feature": ["pay"], "attribute": ["gender"], "correlation": [0.1], "flagged": [False]}
    )
    text = fairness_markdown(rates, proxies)
    assert "No group's selection rate is below 0.8 of the highest" in text
    assert "no feature correlates above 0.5" in text


def test_psi_is_zero_for_the_same_distribution() -> None:
    values = pd.Series(np.random.default_rng(2).normal(size=1000))
    assert population_stability_index(values, values) == pytest.approx(0.0, abs=1e-12)


def test_psi_is_small_for_two_samples_of_one_distribution() -> None:
    rng = np.random.default_rng(3)
    reference, current = pd.Series(rng.normal(size=5000)), pd.Series(rng.normal(size=5000))
    assert population_stability_index(reference, current) < 0.02


def test_psi_is_large_for_a_shifted_distribution() -> None:
    rng = np.random.default_rng(4)
    reference, current = pd.Series(rng.normal(size=5000)), pd.Series(rng.normal(1, 1, 5000))
    assert population_stability_index(reference, current) > 0.5


def smoothed_psi(reference_counts: list[int], current_counts: list[int]) -> float:
    """PSI by hand with half a row added to every bin."""
    ref = np.array(reference_counts) + 0.5
    cur = np.array(current_counts) + 0.5
    ref, cur = ref / ref.sum(), cur / cur.sum()
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def test_psi_of_categories_matches_the_formula() -> None:
    reference = pd.Series(["a", "a", "b", "b"])
    current = pd.Series(["a", "a", "a", "b"])
    # bins a, b, unseen, missing; with half a row each: (1/6) ln(3.5/2.5) + (1/6) ln(2.5/1.5)
    expected = (math.log(3.5 / 2.5) + math.log(2.5 / 1.5)) / 6
    assert population_stability_index(reference, current) == pytest.approx(expected)
    assert expected == pytest.approx(smoothed_psi([2, 2, 0, 0], [3, 1, 0, 0]))


def test_values_beyond_the_reference_range_fall_in_the_outer_bins() -> None:
    reference = pd.Series(np.arange(100, dtype=float))
    above = pd.Series(np.full(100, 1000.0))
    # Bins: <= min, then 10 quantile bins up to the top decile, open-ended, then missing.
    # All current values land in the top bin.
    top_bin_only = smoothed_psi([1, 9] + [10] * 9 + [0], [0] * 10 + [100, 0])
    assert population_stability_index(reference, above) == pytest.approx(top_bin_only)


def test_missing_values_are_a_bin_of_their_own() -> None:
    reference = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan] * 20)
    assert population_stability_index(reference, reference.copy()) == pytest.approx(0.0)
    more_missing = pd.Series([1.0, 2.0, np.nan, np.nan, np.nan] * 20)
    assert population_stability_index(reference, more_missing) > 0.25
    top_values_gone_missing = pd.Series([1.0, 2.0, 3.0, np.nan, np.nan] * 20)
    assert population_stability_index(reference, top_values_gone_missing) > 0.25


def test_unseen_categories_share_one_bin() -> None:
    reference = pd.Series(["a", "b"] * 10)
    current = pd.Series(["a", "b", "new", "newer"] * 5)
    expected = smoothed_psi([10, 10, 0, 0], [5, 5, 10, 0])
    assert population_stability_index(reference, current) == pytest.approx(expected)


def test_a_flag_that_flips_is_drift() -> None:
    reference = pd.Series([0.0] * 76 + [1.0] * 24)
    assert population_stability_index(reference, pd.Series([1.0] * 100)) > 0.25
    assert population_stability_index(reference, pd.Series([0.0] * 24 + [1.0] * 76)) > 0.25


def test_one_small_month_of_the_same_counts_is_not_drift() -> None:
    # teammates who left: mostly 0-2, rare 4-6; a month of 143 reps lacks the rare values
    rng = np.random.default_rng(5)
    reference = pd.Series(rng.poisson(0.8, 5000).astype(float))
    for seed in range(10):
        month = pd.Series(np.random.default_rng(seed).poisson(0.8, 143).astype(float))
        assert psi_status(population_stability_index(reference, month)) != "drifted"


def test_unseen_categories_are_not_counted_as_missing() -> None:
    reference = pd.Series(["a", "b", None, None] * 5)
    current = pd.Series(["a", "b", "new", "new"] * 5)
    assert population_stability_index(reference, current) > 0.25


def test_psi_status_follows_the_thresholds() -> None:
    assert [psi_status(p) for p in (0.0, 0.099, 0.1, 0.249, 0.25, 3.0)] == [
        "stable",
        "stable",
        "moderate",
        "moderate",
        "drifted",
        "drifted",
    ]


@pytest.fixture(scope="module")
def months() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A training window and a scoring month in which only `pay_vs_band` has moved."""
    rng = np.random.default_rng(5)

    def month(n: int, pay_shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "engagement": rng.integers(1, 6, n).astype(float),
                "pay_vs_band": rng.normal(pay_shift, 0.1, n),
                "team": rng.choice(["north", "south"], n),
            }
        )

    return month(3000, 0.0), month(3000, 0.15)


def test_feature_drift_flags_only_the_shifted_feature(months) -> None:
    reference, current = months
    drift = feature_drift(reference, current, ["engagement", "pay_vs_band", "team"])
    assert drift["feature"].iloc[0] == "pay_vs_band"
    assert drift.loc[drift["drifted"], "feature"].tolist() == ["pay_vs_band"]
    assert drift["psi"].is_monotonic_decreasing
    assert set(drift["status"].iloc[1:]) == {"stable"}


def test_feature_drift_reports_means_of_numeric_features_only(months) -> None:
    reference, current = months
    drift = feature_drift(reference, current, ["pay_vs_band", "team"]).set_index("feature")
    assert drift.loc["pay_vs_band", "current_mean"] == pytest.approx(0.15, abs=0.01)
    assert drift.loc["pay_vs_band", "reference_mean"] == pytest.approx(0.0, abs=0.01)
    assert drift.loc["team", ["reference_mean", "current_mean"]].isna().all()


def test_the_drift_section_names_the_drifted_features(months) -> None:
    reference, current = months
    text = drift_markdown(feature_drift(reference, current, ["engagement", "pay_vs_band"]))
    assert "Drifted (PSI >= 0.25): pay_vs_band." in text
    steady = drift_markdown(feature_drift(reference, reference, ["engagement"]))
    assert "No feature has drifted" in steady
