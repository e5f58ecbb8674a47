"""AttritionRiskModel: scikit-learn API on any feature DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models_ml.estimators import AttritionRiskModel


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, np.ndarray]:
    """Risk rises with pay below band and low engagement, and in team c; noise is noise."""
    rng = np.random.default_rng(0)
    n = 6000
    X = pd.DataFrame(
        {
            "pay_vs_band": rng.normal(0, 0.1, n),
            "engagement": rng.integers(1, 6, n).astype(float),
            "team": rng.choice(["a", "b", "c"], n),
            "noise": rng.normal(size=n),
        }
    )
    X.loc[rng.random(n) < 0.1, "engagement"] = np.nan
    logit = (
        -3
        - 15 * X["pay_vs_band"]
        - 0.6 * (X["engagement"].fillna(3) - 3)
        + 0.8 * (X["team"] == "c")
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.mark.parametrize("kind", ["logistic", "gradient_boosting"])
def test_it_ranks_risk_and_keeps_probabilities_honest(synthetic, kind: str) -> None:
    X, y = synthetic
    train, test = slice(0, 4500), slice(4500, None)
    model = AttritionRiskModel(kind=kind).fit(X.iloc[train], y[train])
    p = model.predict_proba(X.iloc[test])[:, 1]
    assert roc_auc_score(y[test], p) > 0.8
    assert abs(p.mean() - y[test].mean()) < 0.03


def test_unseen_categories_and_missing_values_are_scored(synthetic) -> None:
    X, y = synthetic
    model = AttritionRiskModel().fit(X, y)
    odd = X.head(3).assign(team=["z", None, "a"], engagement=[np.nan, np.nan, 2.0])
    p = model.predict_proba(odd)[:, 1]
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))


def test_explanations_name_what_raises_a_rows_risk(synthetic) -> None:
    X, y = synthetic
    model = AttritionRiskModel(kind="logistic").fit(X, y)
    risky = X.head(1).assign(pay_vs_band=-0.3, engagement=1.0, team="a", noise=0.0)
    top = model.explain(risky, top=2)
    assert set(top["feature"]) == {"pay_vs_band", "engagement"}
    assert (top["contribution"] > 0).all()
    assert top["contribution"].is_monotonic_decreasing
