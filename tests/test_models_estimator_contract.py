"""Both estimators keep scikit-learn's estimator contract (`check_estimator`), learn their
classes from y, validate their input, and tune their regularisation inside `fit`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from models_ml.estimators import C_GRID, AccountLossModel, AttritionRiskModel


@parametrize_with_checks(
    [
        AttritionRiskModel(),
        AttritionRiskModel(kind="gradient_boosting", tuning_folds=2, calibration_folds=2),
        AccountLossModel(),
    ]
)
def test_scikit_learn_estimator_checks_pass(estimator, check) -> None:
    check(estimator)


def _people(n: int, seed: int, signal: float) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 20)), columns=[f"f{i}" for i in range(20)])
    logit = -1.5 + signal * X["f0"]
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_regularisation_is_chosen_by_cross_validation_inside_fit() -> None:
    X, y = _people(3000, seed=0, signal=1.5)
    model = AttritionRiskModel().fit(X, y)
    assert set(model.tuning_scores_) == set(C_GRID)
    assert model.C_ in C_GRID
    assert model.tuning_scores_[model.C_] >= max(model.tuning_scores_.values()) - 0.002


def test_when_candidates_rank_alike_the_most_regularised_one_wins() -> None:
    model = AttritionRiskModel().fit(*_people(4000, seed=1, signal=2.0))
    spread = max(model.tuning_scores_.values()) - min(model.tuning_scores_.values())
    assert spread < 0.002
    assert min(C_GRID) == model.C_


def test_a_fixed_c_is_used_as_given_without_tuning() -> None:
    model = AttritionRiskModel(C=0.5).fit(*_people(500, seed=2, signal=1.0))
    assert model.C_ == 0.5 and model.tuning_scores_ == {}


def test_tuning_in_time_order_uses_only_earlier_periods_to_validate_later_ones() -> None:
    X, y = _people(1200, seed=3, signal=1.0)
    periods = np.repeat(np.arange(12), 100)
    model = AttritionRiskModel().fit(X, y, groups=np.arange(1200) % 150, periods=periods)
    assert model.C_ in C_GRID and len(model.tuning_scores_) == len(C_GRID)


def test_classes_come_from_y_and_predictions_use_them() -> None:
    X, y = _people(600, seed=4, signal=2.0)
    labels = np.where(y == 1, "left", "stayed")
    model = AttritionRiskModel().fit(X, labels)
    assert list(model.classes_) == ["left", "stayed"]
    assert set(model.predict(X)) <= {"left", "stayed"}


def test_a_table_without_a_fitted_column_is_a_value_error_naming_it() -> None:
    X, y = _people(300, seed=5, signal=1.0)
    model = AttritionRiskModel(C=1.0).fit(X, y)
    with pytest.raises(ValueError, match="f3"):
        model.predict_proba(X.drop(columns=["f3"]))


def test_infinity_in_the_input_is_refused() -> None:
    X, y = _people(300, seed=6, signal=1.0)
    X.loc[5, "f1"] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        AttritionRiskModel(C=1.0).fit(X, y)


def test_sparse_input_is_refused_with_a_clear_message() -> None:
    import scipy.sparse as sp

    X, y = _people(100, seed=7, signal=1.0)
    with pytest.raises(TypeError, match="sparse"):
        AttritionRiskModel(C=1.0).fit(sp.csr_matrix(X.to_numpy()), y)


def test_account_model_with_known_classes_uses_the_prior_when_nothing_was_lost_yet() -> None:
    X = pd.DataFrame(
        {"is_single_threaded": [True, False], "documentation_completeness": [0.0, 1.0]}
    )
    model = AccountLossModel(classes=(0, 1)).fit(X, [0, 0])
    assert model.method_ == "prior" and list(model.classes_) == [0, 1]
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], [0.15 * 1.5 * 1.3, 0.15 * 0.6 * 0.7])


def test_account_model_with_known_classes_accepts_no_past_handovers() -> None:
    X = pd.DataFrame({"is_single_threaded": pd.Series([], dtype=bool)})
    model = AccountLossModel(classes=(0, 1)).fit(X, np.array([], dtype=int))
    assert model.method_ == "prior"
    assert model.predict_proba(pd.DataFrame({"is_single_threaded": [True]}))[0, 1] > 0.15


def test_account_model_without_known_classes_needs_both_outcomes() -> None:
    with pytest.raises(ValueError, match="one class"):
        AccountLossModel().fit(pd.DataFrame({"x": [1.0, 2.0]}), [0, 0])


def test_a_companys_own_column_types_are_read_as_numbers_dates_and_categories() -> None:
    rng = np.random.default_rng(10)
    n = 600
    X = pd.DataFrame(
        {
            "level": pd.array(rng.integers(0, 5, n), dtype="Int64"),
            "remote": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "region": pd.array(rng.choice(["north", "south", None], n), dtype="string"),
            "grade": pd.Categorical(rng.choice(["a", "b"], n)),
            "hired": pd.Timestamp("2020-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 1500, n), unit="D"),
            "notice": pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
        }
    )
    X.loc[::7, "level"] = pd.NA
    X.loc[::11, "remote"] = pd.NA
    days = (X["hired"] - X["hired"].min()).dt.days
    y = (rng.random(n) < 0.1 + 0.4 * (days > 1000)).astype(int)
    model = AttritionRiskModel().fit(X, y)
    p = model.predict_proba(X)[:, 1]
    assert np.isfinite(p).all()
    assert p[days > 1000].mean() > p[days <= 1000].mean() + 0.15
    assert set(model.explain(X.head(1), top=6)["feature"]) == set(X.columns)
