"""Public-dataset quality check (issue #5): AttritionRiskModel on the IBM HR attrition table.

The IBM HR Analytics Employee Attrition data (1,470 employees, 35 columns, target
`Attrition` Yes/No) is a cross-section: its rows have no time order, so the check shuffles
them with a fixed seed in stratified k-fold cross-validation. Any held-out slice that
`AttritionRiskModel` calibrates on inside a training fold (the last rows in its earlier
version, shuffled stratified out-of-fold predictions in the current one) is then a random
holdout. Protected attributes (gender, age, marital status) and the constant or identifier
columns are never features.

Rows of the result: `AttritionRiskModel(kind=...)` at its defaults for each kind, the
variants in `VARIANTS` (the same class with other constructor arguments), and a plain
logistic regression baseline (one-hot + standard scaling, default C), all on the same
folds. The estimator's default `C=0.01` is tuned for the small, correlated rep-month
snapshots; `VARIANTS` adds scikit-learn's default `C=1.0` (the baseline's), which is not
tuned on this table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from models_ml.estimators import KINDS, AttritionRiskModel

REPO = Path(__file__).resolve().parent.parent
DATASET = (
    REPO.parent
    / "shared"
    / "datasets"
    / "ibm_hr_attrition"
    / "WA_Fn-UseC_-HR-Employee-Attrition.csv"
)
TARGET = "Attrition"
PROTECTED = ("Gender", "Age", "MaritalStatus")
CONSTANT_OR_ID = ("EmployeeCount", "Over18", "StandardHours", "EmployeeNumber")
EXCLUDED = PROTECTED + CONSTANT_OR_ID
BASELINE = "baseline_logistic"
AUC_BAR = 0.82
# Extra AttritionRiskModel rows: name -> constructor arguments (random_state = the seed).
VARIANTS: dict[str, dict[str, object]] = {"logistic_C1": {"kind": "logistic", "C": 1.0}}
COLUMNS = [
    "estimator",
    "roc_auc_mean",
    "roc_auc_std",
    "average_precision_mean",
    "brier_mean",
    "base_rate",
]


def load_ibm_hr(path: Path | str = DATASET) -> tuple[pd.DataFrame, np.ndarray]:
    """Features (protected, constant and identifier columns removed; categorical columns
    as object dtype) and the target as 0/1 (1 = `Attrition` is "Yes")."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IBM HR attrition dataset not found at {path}")
    frame = pd.read_csv(path, encoding="utf-8-sig")  # the file starts with a BOM
    missing = sorted({TARGET, *EXCLUDED} - set(frame.columns))
    if missing:
        raise ValueError(f"{path} lacks the expected columns {missing}")
    labels = frame[TARGET].astype(str).str.strip()
    unknown = sorted(set(labels) - {"Yes", "No"})
    if unknown:
        raise ValueError(f"{path}: {TARGET} has values other than Yes/No: {unknown}")
    y = (labels == "Yes").to_numpy(dtype=int)
    X = frame.drop(columns=[TARGET, *EXCLUDED])
    for column in X.columns:
        if not pd.api.types.is_numeric_dtype(X[column]):
            X[column] = X[column].astype(object)
    return X, y


def baseline_logistic(max_iter: int = 5000) -> Pipeline:
    """Plain logistic regression: one-hot categoricals, scaled numerics, default C."""
    features = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore"),
                make_column_selector(dtype_exclude=["number", "bool"]),
            ),
            ("numeric", StandardScaler(), make_column_selector(dtype_include=["number", "bool"])),
        ]
    )
    return Pipeline([("features", features), ("model", LogisticRegression(max_iter=max_iter))])


def cross_validate_ibm_hr(
    path: Path | str = DATASET,
    folds: int = 5,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    variants: Mapping[str, Mapping[str, object]] = VARIANTS,
) -> pd.DataFrame:
    """Stratified `folds`-fold CV (rows shuffled with `seed`) of `AttritionRiskModel` of
    each kind, of each variant and of the baseline, all on the same folds. One row per
    estimator; the metrics are means (and the AUC's standard deviation) of the per-fold
    scores on each fold's held-out rows. Per-fold AUCs are in
    `frame.attrs["fold_roc_auc"]`."""
    X, y = load_ibm_hr(path)
    estimators: dict[str, BaseEstimator] = {
        kind: AttritionRiskModel(kind=kind, random_state=seed) for kind in kinds
    }
    for name, params in variants.items():
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


def best_model(frame: pd.DataFrame) -> pd.Series:
    """The AttritionRiskModel row (baseline excluded) with the highest mean ROC AUC."""
    models = frame[frame["estimator"] != BASELINE]
    return models.loc[models["roc_auc_mean"].idxmax()]
