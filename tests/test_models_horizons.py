"""Risk over 1, 3, 6 and 12 months from one discrete-time hazard model, and the labels of
every horizon from the snapshots' time to event."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models_ml.features import horizon_label
from models_ml.horizons import HorizonRiskModel, horizon_labels, risk_column

MONTHS = 36


def person_months(people: int, seed: int) -> pd.DataFrame:
    """People followed month by month: a fixed trait and a drifting one set the monthly
    hazard of a voluntary exit; 1 in 5 exits is involuntary; the data ends at month 36."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(people):
        trait = rng.normal()
        mood = rng.normal()
        exit_month, exit_type = None, None
        for month in range(MONTHS):
            mood = 0.9 * mood + rng.normal(0, 0.45)
            hazard = 1 / (1 + np.exp(-(-4.0 + 0.9 * trait + 0.7 * mood)))
            if rng.random() < hazard:
                exit_month = month + 1
                exit_type = "voluntary" if rng.random() < 0.8 else "involuntary"
            rows.append((person, month, trait, mood))
            if exit_month is not None:
                break
        for index in range(len(rows) - (month + 1), len(rows)):
            p, m, t, md = rows[index]
            rows[index] = (p, m, t, md, exit_month, exit_type)
    frame = pd.DataFrame(
        rows, columns=["person", "month", "trait", "mood", "exit_month", "exit_type"]
    )
    frame["months_to_exit"] = (frame["exit_month"] - frame["month"]).astype("Int64")
    frame["follow_up_months"] = pd.array(MONTHS - 1 - frame["month"], dtype="Int64")
    frame["month_end"] = pd.Timestamp("2023-01-31") + frame["month"].map(
        lambda m: pd.offsets.MonthEnd(m)
    )
    return frame


@pytest.fixture(scope="module")
def fitted() -> tuple[HorizonRiskModel, pd.DataFrame]:
    train = person_months(900, seed=0)
    model = HorizonRiskModel().fit(
        train[["trait", "mood"]],
        horizon_labels(train),
        groups=train["person"],
        periods=train["month_end"],
    )
    return model, person_months(600, seed=1)


def test_a_label_is_an_exit_within_the_horizon_and_censored_when_unseen_or_involuntary() -> None:
    rows = pd.DataFrame(
        {
            "months_to_exit": pd.array([2, 2, None, None, 5], dtype="Int64"),
            "exit_type": ["voluntary", "involuntary", None, None, "voluntary"],
            "follow_up_months": pd.array([10, 10, 10, 2, 10], dtype="Int64"),
        }
    )
    assert horizon_label(rows, 3).tolist() == [1, pd.NA, 0, pd.NA, 0]
    assert horizon_label(rows, 1).tolist() == [0, 0, 0, 0, 0]
    assert horizon_label(rows, 6).tolist() == [1, pd.NA, 0, pd.NA, 1]


def test_risk_never_falls_as_the_horizon_grows(fitted) -> None:
    model, test = fitted
    risks = model.predict_risk(test[["trait", "mood"]]).to_numpy()
    assert (np.diff(risks, axis=1) >= 0).all()


@pytest.mark.parametrize("months", [1, 3, 6, 12])
def test_each_horizon_is_calibrated_on_people_it_never_saw(fitted, months: int) -> None:
    model, test = fitted
    labels = horizon_labels(test)[months]
    known = labels.notna().to_numpy()
    risk = model.predict_risk(test.loc[known, ["trait", "mood"]])[risk_column(months)]
    observed = labels[known].astype(int).mean()
    assert abs(risk.mean() - observed) < 0.15 * observed + 0.005


@pytest.mark.parametrize("months", [1, 3, 6, 12])
def test_each_horizon_ranks_leavers_above_stayers(fitted, months: int) -> None:
    model, test = fitted
    labels = horizon_labels(test)[months]
    known = labels.notna().to_numpy()
    risk = model.predict_risk(test.loc[known, ["trait", "mood"]])[risk_column(months)]
    assert roc_auc_score(labels[known].astype(int), risk) > 0.7


def test_predict_proba_gives_the_horizon_shown_by_default(fitted) -> None:
    model, test = fitted
    X = test[["trait", "mood"]].head(20)
    np.testing.assert_allclose(
        model.predict_proba(X)[:, 1], model.predict_risk(X)[risk_column(3)].to_numpy()
    )


def test_the_monthly_hazard_is_required_among_the_horizons() -> None:
    train = person_months(50, seed=2)
    with pytest.raises(ValueError, match="must include 1"):
        HorizonRiskModel(horizons=(3, 6)).fit(train[["trait"]], horizon_labels(train, (3, 6)))


def test_a_window_the_data_has_not_seen_whole_is_not_learned_from_even_after_an_exit() -> None:
    rows = pd.DataFrame(
        {
            "months_to_exit": pd.array([1, 1, 5], dtype="Int64"),
            "exit_type": ["voluntary", "voluntary", "voluntary"],
            "follow_up_months": pd.array([0, 4, 4], dtype="Int64"),
        }
    )
    labels = horizon_labels(rows)
    assert labels[1].tolist() == [pd.NA, 1, 0]
    assert labels[3].tolist() == [pd.NA, 1, 0]
    assert labels[6].isna().all()
