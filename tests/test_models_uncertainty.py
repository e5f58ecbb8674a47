"""Bootstrap intervals of a backtest, resampling people, and the too-few-exits verdict."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from models_ml.metrics import expected_calibration_error
from models_ml.uncertainty import (
    bootstrap_intervals,
    paired_auc_difference,
    verdict,
)


def scored_rows(people: int, months: int, signal: float, seed: int):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(people), months)
    score = rng.random(people * months)
    y = (rng.random(people * months) < 0.02 + signal * score).astype(int)
    return y, score, groups


def test_the_point_values_are_the_plain_metrics() -> None:
    y, score, groups = scored_rows(300, 10, 0.08, seed=0)
    result = bootstrap_intervals(y, score, groups, samples=50)
    assert result["roc_auc"] == pytest.approx(roc_auc_score(y, score))
    assert result["calibration_error"] == pytest.approx(expected_calibration_error(y, score))


def test_intervals_contain_the_point_value_and_narrow_with_more_people() -> None:
    small = bootstrap_intervals(*scored_rows(100, 10, 0.08, seed=1))
    large = bootstrap_intervals(*scored_rows(1600, 10, 0.08, seed=1))
    for result in (small, large):
        assert result["roc_auc_low"] < result["roc_auc"] < result["roc_auc_high"]
        assert result["lift_top10_low"] < result["lift_top10"] < result["lift_top10_high"]
    width = {k: r["roc_auc_high"] - r["roc_auc_low"] for k, r in (("s", small), ("l", large))}
    assert width["l"] < width["s"] / 2.5


def test_resampling_people_gives_wider_intervals_than_resampling_rows() -> None:
    y, score, groups = scored_rows(200, 12, 0.08, seed=2)
    # one score and one outcome per person, repeated: a person's rows are one observation
    score, y = score[groups * 12], y[groups * 12]
    people = bootstrap_intervals(y, score, groups)
    rows = bootstrap_intervals(y, score, np.arange(len(y)))
    assert (people["roc_auc_high"] - people["roc_auc_low"]) > (
        rows["roc_auc_high"] - rows["roc_auc_low"]
    )


def test_the_paired_difference_of_a_model_with_itself_is_zero() -> None:
    y, score, groups = scored_rows(200, 5, 0.08, seed=3)
    assert paired_auc_difference(y, score, score, groups) == (0.0, 0.0, 0.0)


def test_a_clearly_better_model_has_a_difference_interval_above_zero() -> None:
    y, score, groups = scored_rows(800, 10, 0.1, seed=4)
    noisy = score + np.random.default_rng(5).normal(0, 1.0, len(score))
    point, low, high = paired_auc_difference(y, score, noisy, groups)
    assert 0 < low < point < high


def test_too_few_exits_are_said_plainly() -> None:
    y, score, groups = scored_rows(40, 6, 0.03, seed=6)
    message = verdict(int(y.sum()), bootstrap_intervals(y, score, groups))
    assert message is not None and message.startswith("Too few exits to trust these figures")
    assert "cannot be told from chance" in message


def test_enough_exits_and_a_clear_winner_need_no_warning() -> None:
    y, score, groups = scored_rows(1500, 10, 0.1, seed=7)
    intervals = bootstrap_intervals(y, score, groups)
    assert (
        verdict(int(y.sum()), intervals, ("logistic", "gradient_boosting", 0.05, 0.02, 0.08))
        is None
    )


def test_two_kinds_that_cannot_be_told_apart_are_said_so() -> None:
    y, score, groups = scored_rows(1500, 10, 0.1, seed=8)
    message = verdict(
        int(y.sum()),
        bootstrap_intervals(y, score, groups),
        ("logistic", "gradient_boosting", 0.01, -0.02, 0.04),
    )
    assert message is not None and "cannot be told apart" in message


def test_calibration_error_of_perfect_probabilities_is_small() -> None:
    rng = np.random.default_rng(9)
    p = rng.random(20000) * 0.3
    y = (rng.random(20000) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p + 0.1, 0, 1)) > 0.09
