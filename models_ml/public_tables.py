"""Public HR attrition tables: the default estimator against a plain baseline.

`cross_validate` runs `AttritionRiskModel` at its defaults for each kind (which tune C, or
the tree size, by cross-validation inside each training fold), any variants (the same
class with other constructor arguments), and a plain logistic regression (one-hot +
standard scaling, scikit-learn's default C) on the same stratified folds, rows shuffled
with the seed. Two tables are wired in: the IBM HR Analytics table (`models_ml.ibm_hr`,
from ../shared/datasets) and Edward Babushkin's employee turnover survey data (1,129 real
employees of Russian companies, shipped in benchmarks/data/turnover_babushkin with its
source). Protected attributes are never features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from models_ml.estimators import KINDS, AttritionRiskModel

REPO = Path(__file__).resolve().parent.parent
BASELINE = "baseline_logistic"
COLUMNS = [
    "estimator",
    "roc_auc_mean",
    "roc_auc_std",
    "average_precision_mean",
    "brier_mean",
    "base_rate",
]
TURNOVER = REPO / "benchmarks" / "data" / "turnover_babushkin" / "turnover.csv"
TURNOVER_TARGET = "event"
# gender and age of the employee, and the supervisor's gender
TURNOVER_PROTECTED = ("gender", "age", "head_gender")


def load_turnover(path: Path | str = TURNOVER) -> tuple[pd.DataFrame, np.ndarray]:
    """Features (protected columns removed; text columns as categories) and the target
    (1 = left)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"turnover dataset not found at {path}")
    frame = pd.read_csv(path)
    missing = sorted({TURNOVER_TARGET, *TURNOVER_PROTECTED} - set(frame.columns))
    if missing:
        raise ValueError(f"{path} lacks the expected columns {missing}")
    y = frame[TURNOVER_TARGET].to_numpy(dtype=int)
    X = frame.drop(columns=[TURNOVER_TARGET, *TURNOVER_PROTECTED])
    for column in X.columns:
        if not pd.api.types.is_numeric_dtype(X[column]):
            X[column] = X[column].astype(object)
    return X, y


def baseline_logistic(max_iter: int = 5000) -> Pipeline:
    """Plain logistic regression: one-hot categoricals, scaled numerics, default C
    (missing values, where a table has any, filled with the most frequent level or the
    median; a no-op on the public tables, which have none)."""
    features = ColumnTransformer(
        [
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                make_column_selector(dtype_exclude=["number", "bool"]),
            ),
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                make_column_selector(dtype_include=["number", "bool"]),
            ),
        ]
    )
    return Pipeline([("features", features), ("model", LogisticRegression(max_iter=max_iter))])


def cross_validate(
    X: pd.DataFrame,
    y: np.ndarray,
    folds: int = 5,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    variants: Mapping[str, Mapping[str, object]] | None = None,
) -> pd.DataFrame:
    """Stratified `folds`-fold CV (rows shuffled with `seed`) of `AttritionRiskModel` of
    each kind, of each variant and of the baseline, all on the same folds. One row per
    estimator; the metrics are means (and the AUC's standard deviation) of the per-fold
    scores on each fold's held-out rows. Per-fold AUCs are in
    `frame.attrs["fold_roc_auc"]`."""
    estimators: dict[str, BaseEstimator] = {
        kind: AttritionRiskModel(kind=kind, random_state=seed) for kind in kinds
    }
    for name, params in (variants or {}).items():
        estimators[name] = AttritionRiskModel(**{"random_state": seed, **params})
    estimators[BASELINE] = baseline_logistic()
    scores: dict[str, dict[str, list[float]]] = {
        name: {"roc_auc": [], "average_precision": [], "brier": []} for name in estimators
    }
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(X, y):
        for name, estimator in estimators.items():
            fitted = clone(estimator).fit(X.iloc[train], y[train])
            p = fitted.predict_proba(X.iloc[test])[:, 1]
            scores[name]["roc_auc"].append(float(roc_auc_score(y[test], p)))
            scores[name]["average_precision"].append(float(average_precision_score(y[test], p)))
            scores[name]["brier"].append(float(brier_score_loss(y[test], p)))
    rows = [
        {
            "estimator": name,
            "roc_auc_mean": float(np.mean(s["roc_auc"])),
            "roc_auc_std": float(np.std(s["roc_auc"])),
            "average_precision_mean": float(np.mean(s["average_precision"])),
            "brier_mean": float(np.mean(s["brier"])),
            "base_rate": float(y.mean()),
        }
        for name, s in scores.items()
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame.attrs["fold_roc_auc"] = {name: s["roc_auc"] for name, s in scores.items()}
    return frame


def default_against_baseline(frame: pd.DataFrame) -> float:
    """Mean ROC AUC of the default logistic AttritionRiskModel minus the baseline's."""
    auc = frame.set_index("estimator")["roc_auc_mean"]
    return float(auc["logistic"] - auc[BASELINE])


def best_model(frame: pd.DataFrame) -> pd.Series:
    """The AttritionRiskModel row (baseline excluded) with the highest mean ROC AUC."""
    models = frame[frame["estimator"] != BASELINE]
    return models.loc[models["roc_auc_mean"].idxmax()]
