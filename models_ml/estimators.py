"""Estimators with scikit-learn's API that work on any feature DataFrame.

`AttritionRiskModel` gives each row (a rep-month snapshot) the probability of a voluntary
exit within the horizon; `explain` names the features that push each row's probability
up most. Numeric and categorical columns are detected from the dtypes; missing values are
imputed (numeric: median plus a missing flag; categorical: a "missing" level).
Probabilities are calibrated on a held-out, later slice of the training rows with
`CalibratedClassifierCV(FrozenEstimator(...))` (scikit-learn 1.9 removed cv="prefit");
classes are never re-balanced, which would distort the probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

KINDS = ("logistic", "gradient_boosting")


def _numeric() -> make_column_selector:
    return make_column_selector(dtype_include=["number", "bool"])


def _categorical() -> make_column_selector:
    return make_column_selector(dtype_exclude=["number", "bool"])


def build_pipeline(kind: str, random_state: int | None = None) -> Pipeline:
    """The uncalibrated pipeline of one estimator kind, preprocessing included."""
    if kind == "logistic":
        features = ColumnTransformer(
            [
                (
                    "numeric",
                    make_pipeline(
                        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                    ),
                    _numeric(),
                ),
                (
                    "categorical",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value="missing"),
                        OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                    ),
                    _categorical(),
                ),
            ]
        )
        return Pipeline(
            [("features", features), ("model", LogisticRegression(C=0.3, max_iter=2000))]
        )
    if kind == "gradient_boosting":
        features = ColumnTransformer(
            [
                ("numeric", "passthrough", _numeric()),
                (
                    "categorical",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value="missing"),
                        OrdinalEncoder(
                            handle_unknown="use_encoded_value",
                            unknown_value=np.nan,
                            encoded_missing_value=np.nan,
                        ),
                    ),
                    _categorical(),
                ),
            ],
            verbose_feature_names_out=False,
        )
        model = HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=300,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=True,
            validation_fraction=0.15,
            random_state=random_state,
        )
        return Pipeline([("features", features), ("model", model)])
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


class AttritionRiskModel(ClassifierMixin, BaseEstimator):
    """Calibrated probability of the positive class (a voluntary exit in the horizon).

    Rows must be in time order when `calibration_fraction` > 0: the last fraction of the
    training rows calibrates the probabilities of a model fitted on the rest.
    """

    def __init__(
        self,
        kind: str = "gradient_boosting",
        calibration: str = "sigmoid",
        calibration_fraction: float = 0.25,
        random_state: int | None = 0,
    ) -> None:
        self.kind = kind
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y) -> AttritionRiskModel:
        X = pd.DataFrame(X)
        y = np.asarray(y).astype(int)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        cut = int(len(X) * (1 - self.calibration_fraction))
        fitted = build_pipeline(self.kind, self.random_state).fit(X.iloc[:cut], y[:cut])
        if self.calibration_fraction > 0 and len(np.unique(y[cut:])) == 2:
            calibrated = CalibratedClassifierCV(FrozenEstimator(fitted), method=self.calibration)
            self.estimator_ = calibrated.fit(X.iloc[cut:], y[cut:])
        else:
            self.estimator_ = fitted
        self.reference_ = _reference_row(X.iloc[:cut])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(pd.DataFrame(X)[list(self.feature_names_in_)])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def explain(self, X: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """Top contributions per row: how much the probability falls when one feature is
        set to a typical value (training median, or most frequent level). Positive =
        the feature's actual value raises this row's risk. One row per input row and
        rank, with the feature, its value and the contribution."""
        X = pd.DataFrame(X)[list(self.feature_names_in_)].reset_index(drop=True)
        base = self.predict_proba(X)[:, 1]
        contributions = {}
        for column in X.columns:
            typical = X.copy()
            typical[column] = self.reference_[column]
            contributions[column] = base - self.predict_proba(typical)[:, 1]
        frame = pd.DataFrame(contributions)
        order = np.argsort(-frame.to_numpy(), axis=1)[:, :top]
        rows = []
        for i, ranked in enumerate(order):
            for rank, j in enumerate(ranked, start=1):
                column = X.columns[j]
                rows.append((i, rank, column, X.iat[i, j], float(frame.iat[i, j])))
        return pd.DataFrame(rows, columns=["row", "rank", "feature", "value", "contribution"])


def _reference_row(X: pd.DataFrame) -> pd.Series:
    """A typical value per column: the median of a numeric column, else the mode."""
    values = {}
    for column in X.columns:
        series = X[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values[column] = series.median()
        else:
            mode = series.mode(dropna=True)
            values[column] = mode.iloc[0] if len(mode) else None
    return pd.Series(values, dtype=object)
