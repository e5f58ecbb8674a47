"""Estimators with scikit-learn's API that work on any feature DataFrame.

`AttritionRiskModel` gives each row (a rep-month snapshot) the probability of a voluntary
exit within the horizon; `explain` names the features that push each row's probability
up most. Numeric and categorical columns are detected from the dtypes; missing values are
imputed (numeric: median plus a missing flag; categorical: a "missing" level).
Probabilities are calibrated with a sigmoid fitted on out-of-fold predictions
(`CalibratedClassifierCV(ensemble=False)`; scikit-learn 1.9 removed cv="prefit"); classes
are never re-balanced, which would distort the probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

KINDS = ("logistic", "gradient_boosting")


def _numeric() -> make_column_selector:
    return make_column_selector(dtype_include=["number", "bool"])


def _categorical() -> make_column_selector:
    return make_column_selector(dtype_exclude=["number", "bool"])


def build_pipeline(kind: str, C: float = 0.01, random_state: int | None = None) -> Pipeline:
    """The uncalibrated pipeline of one estimator kind, preprocessing included. `C` is the
    logistic regression's inverse L2 strength (small = strong; snapshots are few and
    correlated, so the default shrinks hard)."""
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
        return Pipeline([("features", features), ("model", LogisticRegression(C=C, max_iter=2000))])
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


class ExplainByOcclusion:
    """`explain` for a fitted classifier with `predict_proba`, `feature_names_in_` and
    `reference_` (a typical value per feature)."""

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


class AttritionRiskModel(ExplainByOcclusion, ClassifierMixin, BaseEstimator):
    """Calibrated probability of the positive class (a voluntary exit in the horizon).

    The pipeline is fitted on all rows; a sigmoid (Platt) calibration is fitted on its
    out-of-fold predictions over `calibration_folds` stratified folds
    (`CalibratedClassifierCV(..., ensemble=False)`). Pass `groups` (e.g. the employee of
    each rep-month) to keep a group's rows in one fold, so a rep's other months do not
    flatter the held-out predictions. `calibration=None` skips it.
    """

    def __init__(
        self,
        kind: str = "logistic",
        C: float = 0.01,
        calibration: str | None = "sigmoid",
        calibration_folds: int = 5,
        random_state: int | None = 0,
    ) -> None:
        self.kind = kind
        self.C = C
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y, groups=None) -> AttritionRiskModel:
        X = pd.DataFrame(X)
        y = np.asarray(y).astype(int)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        pipeline = build_pipeline(self.kind, self.C, self.random_state)
        folds = min(self.calibration_folds, int(np.bincount(y, minlength=2).min()))
        if self.calibration and folds >= 2:
            self.estimator_ = CalibratedClassifierCV(
                pipeline,
                method=self.calibration,
                cv=self._calibration_splits(X, y, groups, folds),
                ensemble=False,
            ).fit(X, y)
        else:
            self.estimator_ = pipeline.fit(X, y)
        self.reference_ = _reference_row(X)
        return self

    def _calibration_splits(self, X: pd.DataFrame, y: np.ndarray, groups, folds: int) -> list:
        if groups is None:
            splitter = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
            return list(splitter.split(X, y))
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=self.random_state)
        return list(splitter.split(X, y, np.asarray(groups)))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(pd.DataFrame(X)[list(self.feature_names_in_)])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


# The documented prior for an account whose owner leaves: about 15% of a leaver's revenue is
# lost (Shi et al. 2017, "When salespeople leave"), higher when one person held the whole
# relationship and when little was written down.
PRIOR_LOSS_RATE = 0.15
PRIOR_SINGLE_THREADED_FACTOR = 1.5  # x the rate when one person engaged the account
PRIOR_MULTI_THREADED_FACTOR = 0.6  # x the rate when two or more did
PRIOR_UNDOCUMENTED_FACTOR = 1.3  # at 0% documentation completeness ...
PRIOR_DOCUMENTED_FACTOR = 0.7  # ... falling linearly to this at 100%


def prior_loss_probability(X: pd.DataFrame) -> np.ndarray:
    """P(account lost within 12 months | owner leaves) from the documented prior.

    15% x 1.5 if single-threaded (x 0.6 if not) x a documentation factor from 1.3 (nothing
    documented) to 0.7 (everything documented); unknown values leave the factor at 1.
    """
    rate = np.full(len(X), PRIOR_LOSS_RATE)
    if "is_single_threaded" in X:
        single = pd.Series(X["is_single_threaded"]).astype("boolean")
        factor = np.where(
            single.isna(),
            1.0,
            np.where(
                single.fillna(False), PRIOR_SINGLE_THREADED_FACTOR, PRIOR_MULTI_THREADED_FACTOR
            ),
        )
        rate = rate * factor
    if "documentation_completeness" in X:
        share = pd.to_numeric(X["documentation_completeness"], errors="coerce").clip(0, 1)
        span = PRIOR_UNDOCUMENTED_FACTOR - PRIOR_DOCUMENTED_FACTOR
        rate = rate * (PRIOR_UNDOCUMENTED_FACTOR - span * share).fillna(1.0).to_numpy()
    return np.clip(rate, 0.01, 0.95)


class AccountLossModel(ExplainByOcclusion, ClassifierMixin, BaseEstimator):
    """P(an account is lost within 12 months of its owner leaving).

    Learned (a regularised logistic regression on the handover features) when the history
    holds at least `min_events` lost and `min_events` kept accounts; otherwise the
    documented prior (`prior_loss_probability`). `method_` says which was used.
    """

    def __init__(self, min_events: int = 30, random_state: int | None = 0) -> None:
        self.min_events = min_events
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y) -> AccountLossModel:
        X = pd.DataFrame(X)
        y = np.asarray(y).astype(int)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.reference_ = _reference_row(X)
        self.events_ = int(min(y.sum(), len(y) - y.sum()))
        if self.events_ >= self.min_events:
            self.method_ = "learned"
            self.estimator_ = build_pipeline("logistic", 1.0, self.random_state).fit(X, y)
        else:
            self.method_ = "prior"
            self.estimator_ = None
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "method_")
        X = pd.DataFrame(X)[list(self.feature_names_in_)]
        if self.method_ == "learned":
            return self.estimator_.predict_proba(X)
        p = prior_loss_probability(X)
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _reference_row(X: pd.DataFrame) -> dict[str, float | str | None]:
    """A typical value per column: the median of a numeric column, else the mode (plain
    Python values, so the fitted model stays serialisable with skops)."""
    values: dict[str, float | str | None] = {}
    for column in X.columns:
        series = X[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            median = series.median()
            values[column] = None if pd.isna(median) else float(median)
        else:
            mode = series.mode(dropna=True).tolist()
            values[column] = mode[0] if mode else None
    return values
