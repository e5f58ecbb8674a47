"""Why a group is selected less (exit rate or error rates), and per-group cut-offs that
equalise true-positive rates, with their before/after effect for the model card."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models_ml.fairness import (
    GAP_COLUMNS,
    RATE_COLUMNS,
    explain_gaps,
    fairness_report,
    group_rates,
)
from models_ml.group_thresholds import (
    EFFECT_COLUMNS,
    GROUP_THRESHOLD_METHODS,
    apply_group_thresholds,
    group_thresholds,
    mitigation_effect,
    mitigation_summary,
)


def _people(**groups: tuple[int, int, int, int]) -> tuple[list[int], list[int], pd.Series]:
    """(y_true, selected, group) from name=(leavers, leavers alerted, stayers, stayers alerted)."""
    y_true, selected, names = [], [], []
    for name, (leavers, caught, stayers, alerted) in groups.items():
        y_true += [1] * leavers + [0] * stayers
        selected += [1] * caught + [0] * (leavers - caught) + [1] * alerted
        selected += [0] * (stayers - alerted)
        names += [name] * (leavers + stayers)
    return y_true, selected, pd.Series(names)


def _explained(**groups: tuple[int, int, int, int]) -> pd.DataFrame:
    y_true, selected, names = _people(**groups)
    return explain_gaps(group_rates(y_true, selected, names, "gender")).set_index("group")


# a: half leave; the model alerts 8 of 10 leavers and 1 of 10 stayers (selection rate 0.45).
REFERENCE = (10, 8, 10, 1)


def test_a_gap_that_follows_exit_rates_is_called_so() -> None:
    # b: an eighth leave; 4 of 5 leavers and 4 of 35 stayers alerted (selection rate 0.2).
    gaps = _explained(a=REFERENCE, b=(5, 4, 35, 4))
    assert gaps.loc["b", "flagged"]
    assert gaps.loc["b", "verdict"] == "follows exit rate"
    assert gaps.loc["b", "true_positive_rate_gap"] == pytest.approx(0.0)
    assert gaps.loc["b", "false_positive_rate_gap"] == pytest.approx(4 / 35 - 0.1)
    assert "(0.12 vs 0.50)" in gaps.loc["b", "explanation"]


def test_a_gap_from_missed_leavers_is_an_error_rate_gap() -> None:
    # b: half leave, as in a, but only 6 of 20 leavers are alerted (and 2 of 20 stayers).
    gaps = _explained(a=REFERENCE, b=(20, 6, 20, 2))
    assert gaps.loc["b", "verdict"] == "error-rate gap"
    assert gaps.loc["b", "true_positive_rate_gap"] == pytest.approx(-0.5)
    assert (
        "misses more of its leavers (true-positive rate 0.30 vs 0.80)"
        in (gaps.loc["b", "explanation"])
    )
    assert "stayers" not in gaps.loc["b", "explanation"].split(";")[0]


def test_a_gap_with_over_alerted_stayers_is_an_error_rate_gap() -> None:
    # b: 4 of 5 leavers alerted as in a, but 10 of 35 stayers too.
    gaps = _explained(a=REFERENCE, b=(5, 4, 35, 10))
    assert gaps.loc["b", "verdict"] == "error-rate gap"
    explanation = gaps.loc["b", "explanation"]
    assert "over-alerts its stayers (false-positive rate 0.29 vs 0.10)" in explanation
    assert "leavers" not in explanation.split(";")[0]


def test_the_selection_rate_gap_splits_into_exit_rate_and_error_rate_parts() -> None:
    gaps = _explained(a=REFERENCE, b=(5, 4, 35, 4))
    # exit part: (TPR 0.8 - FPR 0.1 of a) * (0.125 - 0.5); error part: FPR gap * 35/40.
    assert gaps.loc["b", "gap_from_exit_rate"] == pytest.approx(-0.2625)
    assert gaps.loc["b", "gap_from_error_rates"] == pytest.approx((4 / 35 - 0.1) * 0.875)
    assert gaps.loc["b", "selection_rate_gap"] == pytest.approx(0.2 - 0.45)
    assert gaps.loc["b", "gap_from_exit_rate"] + gaps.loc["b", "gap_from_error_rates"] == (
        pytest.approx(gaps.loc["b", "selection_rate_gap"])
    )


def test_each_attribute_is_compared_with_its_own_highest_selection_rate() -> None:
    y_true, selected, gender = _people(f=(5, 4, 35, 4), m=REFERENCE)
    # under 30: f's first 20 rows (5 leavers, 4 alerted; 15 stayers, 4 alerted): rate 0.4.
    # 30-39: f's other 20 stayers (none alerted) and all of m: rate 9/40, FPR 1/30.
    age = pd.Series(["under 30"] * 20 + ["30-39"] * 40)
    scores = np.array(selected, dtype=float)
    report = fairness_report(y_true, scores, pd.DataFrame({"gender": gender, "age": age}), 0.5)
    gaps = explain_gaps(report)
    assert list(gaps.columns) == GAP_COLUMNS
    assert gaps[["attribute", "group", "reference_group", "verdict"]].values.tolist() == [
        ["gender", "f", "m", "follows exit rate"],
        ["gender", "m", "m", "reference"],
        ["age", "30-39", "under 30", "error-rate gap"],
        ["age", "under 30", "under 30", "reference"],
    ]
    assert (
        "alerts fewer of its stayers (false-positive rate 0.03 vs 0.27)"
        in (gaps.loc[2, "explanation"])
    )


def test_a_group_too_small_to_judge_gets_no_verdict() -> None:
    gaps = _explained(a=REFERENCE, b=(1, 0, 2, 0))
    assert gaps.loc["b", "verdict"] == "not judged"
    assert gaps.loc["b", "explanation"] == "fewer than 5 rows: not judged"
    assert np.isnan(gaps.loc["b", "selection_rate_gap"])


def test_a_group_without_leavers_cannot_be_told() -> None:
    gaps = _explained(a=REFERENCE, b=(0, 0, 20, 1))
    assert gaps.loc["b", "verdict"] == "cannot tell"
    assert "this group has no leavers" in gaps.loc["b", "explanation"]


def test_the_report_carries_each_groups_exit_rate() -> None:
    y_true, selected, groups = _people(a=(3, 1, 7, 0), b=(1, 1, 9, 0), c=(1, 0, 1, 0))
    rates = group_rates(y_true, selected, groups, "g").set_index("group")
    assert RATE_COLUMNS[-1] == "exit_rate"
    assert rates.loc["a", "exit_rate"] == pytest.approx(0.3)
    assert rates.loc["b", "exit_rate"] == pytest.approx(0.1)
    assert np.isnan(rates.loc["c", "exit_rate"])  # two rows: not judged


def test_explaining_needs_the_exit_rate() -> None:
    y_true, selected, groups = _people(a=REFERENCE, b=(5, 4, 35, 4))
    rates = group_rates(y_true, selected, groups, "g").drop(columns="exit_rate")
    with pytest.raises(ValueError, match="exit_rate"):
        explain_gaps(rates)


@pytest.fixture(scope="module")
def alerts() -> tuple[np.ndarray, np.ndarray, pd.Series, float]:
    """6000 rows: a leaves twice as often as b and the model ranks a's leavers far better;
    about 300 rows have no group and three rows (two leavers) are in a group too small to
    judge."""
    rng = np.random.default_rng(7)
    n = 6000
    labels = rng.choice(["a", "b"], n).astype(object)
    labels[rng.random(n) < 0.05] = None
    labels[:3] = "c"
    y = (rng.random(n) < np.where(labels == "b", 0.1, 0.2)).astype(int)
    y[:3] = [1, 1, 0]  # the small group has leavers: only its size keeps the threshold
    signal = np.where(labels == "b", 0.6, 1.5)
    scores = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + y * signal - 1.5)))
    return y, scores, pd.Series(labels, name="gender"), 0.4


def _tpr(y: np.ndarray, alerted: np.ndarray, members: np.ndarray) -> float:
    return float(alerted[members & (y == 1)].mean())


def test_group_thresholds_equalise_true_positive_rates(alerts) -> None:
    y, scores, groups, threshold = alerts
    target = float(np.mean(scores[y == 1] >= threshold))
    before = scores >= threshold
    cutoffs = group_thresholds(y, scores, groups, threshold=threshold)
    after = apply_group_thresholds(scores, groups, cutoffs)
    in_a, in_b = (groups == "a").to_numpy(), (groups == "b").to_numpy()
    assert _tpr(y, before, in_a) - _tpr(y, before, in_b) > 0.3
    for members in (in_a, in_b):
        leavers = int((members & (y == 1)).sum())
        assert abs(_tpr(y, after, members) - target) <= 0.5 / leavers + 1e-12


def test_small_groups_keep_the_overall_threshold(alerts) -> None:
    y, scores, groups, threshold = alerts
    cutoffs = group_thresholds(y, scores, groups, threshold=threshold)
    assert cutoffs["c"] == threshold
    assert cutoffs["a"] != threshold and cutoffs["b"] != threshold


def test_the_unknown_group_keeps_the_overall_threshold(alerts) -> None:
    y, scores, groups, threshold = alerts
    assert group_thresholds(y, scores, groups, threshold=threshold)["unknown"] == threshold


def test_a_group_without_leavers_keeps_the_overall_threshold() -> None:
    y = [1, 1, 0, 0, 0, 0] + [0] * 6  # b: six stayers, no leavers
    a_scores, b_scores = [0.9, 0.2, 0.1, 0.1, 0.1, 0.1], [0.1, 0.2, 0.3, 0.45, 0.5, 0.7]
    scores = [*a_scores, *b_scores]
    groups = ["a"] * 6 + ["b"] * 6
    assert group_thresholds(y, scores, groups, threshold=0.6)["b"] == 0.6


def test_groups_already_at_the_overall_rate_keep_the_threshold() -> None:
    y = [1, 1, 1, 1, 0, 0] * 2
    scores = [0.9, 0.7, 0.5, 0.3, 0.2, 0.65] * 2
    groups = ["a"] * 6 + ["b"] * 6
    assert group_thresholds(y, scores, groups, threshold=0.6) == {"a": 0.6, "b": 0.6}


def _two_teams() -> tuple[list[int], list[float], list[str]]:
    """a: all six leavers score above 0.6; b: one of four. 7 of 10 leavers are caught."""
    a_leavers, b_leavers = [0.9, 0.8, 0.7, 0.65, 0.62, 0.61], [0.9, 0.5, 0.4, 0.3]
    stayers = [0.2, 0.1]
    y = [1] * 6 + [0] * 2 + [1] * 4 + [0] * 2
    return y, a_leavers + stayers + b_leavers + stayers, ["a"] * 8 + ["b"] * 6


def test_a_lowered_cut_off_stops_at_the_last_leaver_it_must_catch() -> None:
    # target 0.7: b can reach 3 of 4 (0.75), by lowering its cut-off to 0.4 and no further
    cutoffs = group_thresholds(*_two_teams(), threshold=0.6)
    assert cutoffs["b"] == 0.4


def test_a_raised_cut_off_sits_just_above_the_first_leaver_it_lets_go() -> None:
    # target 0.7: a goes from 6 of 6 to 4 of 6 (0.67), dropping the leavers at 0.61 and 0.62
    cutoffs = group_thresholds(*_two_teams(), threshold=0.6)
    assert cutoffs["a"] == np.nextafter(0.62, np.inf)


def test_group_thresholds_do_not_depend_on_row_order(alerts) -> None:
    y, scores, groups, threshold = alerts
    order = np.random.default_rng(8).permutation(len(y))
    shuffled = pd.Series(groups.to_numpy()[order], name="gender")
    assert group_thresholds(y[order], scores[order], shuffled, threshold=threshold) == (
        group_thresholds(y, scores, groups, threshold=threshold)
    )


def test_an_unknown_constraint_is_refused(alerts) -> None:
    y, scores, groups, threshold = alerts
    assert list(GROUP_THRESHOLD_METHODS) == ["true_positive_rate_parity"]
    with pytest.raises(ValueError, match="true_positive_rate_parity"):
        group_thresholds(y, scores, groups, threshold=threshold, constraint="demographic_parity")


def test_each_row_is_compared_with_its_groups_cut_off() -> None:
    alerted = apply_group_thresholds(
        [0.5, 0.5, 0.5, 0.39], ["a", "b", None, "a"], {"a": 0.4, "b": 0.6, "unknown": 0.5}
    )
    assert alerted.tolist() == [True, False, True, False]


def test_a_group_without_a_cut_off_needs_a_default() -> None:
    with pytest.raises(ValueError, match="no threshold for group"):
        apply_group_thresholds([0.5, 0.5], ["a", "new"], {"a": 0.4})
    assert apply_group_thresholds([0.5, 0.5], ["a", "new"], {"a": 0.4}, default=0.6).tolist() == [
        True,
        False,
    ]


def test_mitigation_effect_reports_before_and_after(alerts) -> None:
    y, scores, groups, threshold = alerts
    effect = mitigation_effect(y, scores, groups, threshold=threshold).set_index("group")
    report = fairness_report(y, scores, groups.to_frame(), threshold).set_index("group")
    assert list(effect.index) == ["a", "b", "c", "unknown", "overall"]
    for rate in ["selection_rate", "true_positive_rate", "false_positive_rate"]:
        pd.testing.assert_series_equal(
            effect.loc[["a", "b", "unknown"], f"{rate}_before"],
            report.loc[["a", "b", "unknown"], rate],
            check_names=False,
        )
    cutoffs = group_thresholds(y, scores, groups, threshold=threshold)
    assert effect.loc[["a", "b", "c", "unknown"], "cutoff_after"].to_dict() == cutoffs
    tpr = effect.loc[["a", "b"], ["true_positive_rate_before", "true_positive_rate_after"]]
    assert tpr["true_positive_rate_before"].diff().abs().iloc[1] > 0.3
    assert tpr["true_positive_rate_after"].diff().abs().iloc[1] < 0.01
    assert effect.loc["unknown", "note"] == "unknown group: keeps the overall threshold"
    assert effect.loc["c", "note"] == "fewer than 5 rows: keeps the overall threshold"


def test_overall_rates_count_every_row(alerts) -> None:
    y, scores, groups, threshold = alerts
    overall = mitigation_effect(y, scores, groups, threshold=threshold).iloc[-1]
    before = scores >= threshold
    after = apply_group_thresholds(
        scores, groups, group_thresholds(y, scores, groups, threshold=threshold)
    )
    assert list(overall.index) == EFFECT_COLUMNS
    assert overall["rows"] == len(y) == 6000
    assert overall["true_positive_rate_before"] == pytest.approx(before[y == 1].mean())
    assert overall["true_positive_rate_after"] == pytest.approx(after[y == 1].mean())
    assert overall["precision_before"] == pytest.approx(y[before].mean())
    assert overall["precision_after"] == pytest.approx(y[after].mean())
    # raising b's share of leavers caught costs precision: b's extra alerts are mostly stayers
    assert overall["precision_after"] < overall["precision_before"] - 0.05


def test_roc_auc_is_that_of_the_scores(alerts) -> None:
    y, scores, groups, threshold = alerts
    effect = mitigation_effect(y, scores, groups, threshold=threshold).set_index("group")
    in_b = (groups == "b").to_numpy()
    assert effect.loc["overall", "roc_auc"] == pytest.approx(roc_auc_score(y, scores))
    assert effect.loc["b", "roc_auc"] == pytest.approx(roc_auc_score(y[in_b], scores[in_b]))
    assert effect.loc["b", "roc_auc"] < effect.loc["a", "roc_auc"] - 0.1
    assert np.isnan(effect.loc["c", "roc_auc"])


def test_cut_offs_fitted_on_other_rows_can_be_measured(alerts) -> None:
    y, scores, groups, threshold = alerts
    first, second = slice(0, 3000), slice(3000, None)
    fitted = group_thresholds(y[first], scores[first], groups.iloc[first], threshold=threshold)
    effect = mitigation_effect(
        y[second],
        scores[second],
        groups.iloc[second].reset_index(drop=True),
        threshold=threshold,
        thresholds=fitted,
    ).set_index("group")
    assert effect.loc["a", "cutoff_after"] == fitted["a"]
    assert effect.loc["b", "cutoff_after"] == fitted["b"]
    # out of sample the gap need not vanish, but it shrinks well
    gap_after = abs(
        effect.loc["a", "true_positive_rate_after"] - effect.loc["b", "true_positive_rate_after"]
    )
    gap_before = abs(
        effect.loc["a", "true_positive_rate_before"] - effect.loc["b", "true_positive_rate_before"]
    )
    assert gap_after < gap_before / 3


def test_the_mitigation_summary_states_the_gap_and_the_precision_cost(alerts) -> None:
    y, scores, groups, threshold = alerts
    effect = mitigation_effect(y, scores, groups, threshold=threshold)
    judged = effect.set_index("group").loc[["a", "b"]]
    overall = effect.iloc[-1]
    gap_before = (
        judged["true_positive_rate_before"].max() - judged["true_positive_rate_before"].min()
    )
    gap_after = judged["true_positive_rate_after"].max() - judged["true_positive_rate_after"].min()
    text = mitigation_summary(effect)
    assert f"true-positive rates from {gap_before:.2f} to {gap_after:.2f}" in text
    assert (
        f"precision of alerts from {overall['precision_before']:.2f} to "
        f"{overall['precision_after']:.2f} "
        f"({overall['precision_after'] - overall['precision_before']:+.2f})"
    ) in text
    assert f"ROC AUC ({overall['roc_auc']:.2f}) is unchanged" in text


def test_a_group_name_from_the_hr_data_cannot_break_the_cards_markdown() -> None:
    from models_ml.fairness import fairness_markdown

    rates = fairness_report(
        [1, 0, 1, 0, 0, 0],
        [0.9, 0.1, 0.8, 0.2, 0.1, 0.1],
        pd.DataFrame({"gender": ["F|**x**\n# h"] * 6}),
        threshold=0.5,
        min_group_size=1,
    )
    card = fairness_markdown(
        rates, pd.DataFrame(columns=["feature", "attribute", "correlation", "flagged"])
    )
    row = next(line for line in card.splitlines() if line.startswith("| gender"))
    assert "F\\|\\*\\*x\\*\\* \\# h" in row and row.count(" | ") == 8
