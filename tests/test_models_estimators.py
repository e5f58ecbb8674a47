"""AttritionRiskModel: scikit-learn API on any feature DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models_ml.estimators import AccountLossModel, AttritionRiskModel


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


@pytest.fixture(scope="module")
def handovers() -> tuple[pd.DataFrame, np.ndarray]:
    """Accounts whose owner left: single-threaded, poorly documented ones are lost more."""
    rng = np.random.default_rng(1)
    n = 3000
    X = pd.DataFrame(
        {
            "segment": rng.choice(["SMB", "Mid-Market", "Enterprise"], n),
            "is_single_threaded": rng.random(n) < 0.4,
            "documentation_completeness": rng.random(n),
            "revenue_12m": rng.lognormal(10, 1, n),
        }
    )
    logit = -2.5 + 1.7 * X["is_single_threaded"] - 1.6 * X["documentation_completeness"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_account_loss_is_learned_when_history_is_rich(handovers) -> None:
    X, y = handovers
    model = AccountLossModel().fit(X.iloc[:2000], y[:2000])
    assert model.method_ == "learned"
    p = model.predict_proba(X.iloc[2000:])[:, 1]
    assert roc_auc_score(y[2000:], p) > 0.65


def test_account_loss_falls_back_to_the_documented_prior_on_thin_history(handovers) -> None:
    X, y = handovers
    model = AccountLossModel().fit(X.head(40), y[:40])
    assert model.method_ == "prior"
    accounts = pd.DataFrame(
        {
            "segment": ["SMB"] * 3,
            "is_single_threaded": [True, False, None],
            "documentation_completeness": [0.0, 1.0, None],
            "revenue_12m": [1.0, 1.0, 1.0],
        }
    )
    p = model.predict_proba(accounts)[:, 1]
    np.testing.assert_allclose(p, [0.15 * 1.5 * 1.3, 0.15 * 0.6 * 0.7, 0.15])


def test_the_prior_explains_itself_by_threading_and_documentation(handovers) -> None:
    X, y = handovers
    model = AccountLossModel(min_events=10_000).fit(X, y)
    risky = X.head(1).assign(is_single_threaded=True, documentation_completeness=0.0)
    top = model.explain(risky, top=2)
    assert set(top["feature"]) == {"is_single_threaded", "documentation_completeness"}
