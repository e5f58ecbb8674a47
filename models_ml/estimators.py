"""Estimators with scikit-learn's API that work on any feature table.

`AttritionRiskModel` gives each row (a rep-month snapshot, or a person) the probability of
the positive class (a voluntary exit); `explain` names the features that push each row's
probability up most. Input is a DataFrame (numeric and boolean columns are detected from
the dtypes, any other column is categorical) or a numeric array (every column numeric).
Missing values are imputed (numeric: median plus a missing flag; categorical: a
"missing" level).

Defaults tune themselves: the logistic regression's `C` (and the boosting's tree size) is
chosen inside `fit` by cross-validated ROC AUC, on folds that keep each group (a person)
in one fold, or in time order when the rows carry a period. Probabilities are then
calibrated with a sigmoid fitted on out-of-fold predictions
(`CalibratedClassifierCV(ensemble=False)`; scikit-learn 1.9 removed cv="prefit"); classes
are never re-balanced, which would distort the probabilities.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from models_ml.column_types import plain_types

KINDS = ("logistic", "gradient_boosting")
# Candidates tried by `fit` when C is None: strong to weak L2 shrinkage.
C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
# Candidates tried when max_leaf_nodes is None: small trees with big leaves to bigger ones.
LEAVES_GRID = (7, 15, 31)
# Within this much cross-validated AUC of the best, the more regularised candidate wins.
TUNING_TIE = 0.002
TUNING_FOLDS = 3
# Fewer rows than this are too few to set 15% aside for the boosting's early stopping.
EARLY_STOPPING_MIN_ROWS = 200


def _numeric() -> make_column_selector:
    return make_column_selector(dtype_include=["number", "bool"])


def _categorical() -> make_column_selector:
    return make_column_selector(dtype_exclude=["number", "bool"])


def build_pipeline(
    kind: str,
    C: float = 1.0,
    random_state: int | None = None,
    *,
    max_leaf_nodes: int = 15,
    early_stopping: bool = True,
) -> Pipeline:
    """The uncalibrated pipeline of one estimator kind, preprocessing included. `C` is the
    logistic regression's inverse L2 strength (small = strong); `max_leaf_nodes` the
    boosting's tree size (leaves hold at least 600 / max_leaf_nodes rows), which stops
    early on a 15% validation split when `early_stopping`."""
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
            max_leaf_nodes=max_leaf_nodes,
            min_samples_leaf=max(5, 600 // max_leaf_nodes),
            l2_regularization=1.0,
            early_stopping=early_stopping,
            validation_fraction=0.15,
            random_state=random_state,
        )
        return Pipeline([("features", features), ("model", model)])
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def _stratified_splits(
    y: np.ndarray, groups, folds: int, random_state: int | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds; with `groups`, each group's rows stay in one fold."""
    placeholder = np.zeros((len(y), 1))
    if groups is None:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
        return list(splitter.split(placeholder, y))
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=random_state)
    return list(splitter.split(placeholder, y, np.asarray(groups)))


def _time_ordered_splits(y: np.ndarray, periods, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Forward-chaining folds over the periods: the distinct periods are cut into
    `folds + 1` consecutive blocks; fold k trains on blocks 1..k and validates on block
    k+1. A fold whose training or validation rows lack one class is left out."""
    periods = pd.Series(np.asarray(periods))
    distinct = np.sort(periods.unique())
    blocks = np.array_split(distinct, folds + 1)
    splits = []
    for k in range(1, len(blocks)):
        if not len(blocks[k]):
            continue
        train = np.flatnonzero(periods < blocks[k][0])
        valid = np.flatnonzero(periods.isin(blocks[k]))
        if len(np.unique(y[train])) == 2 and len(np.unique(y[valid])) == 2:
            splits.append((train, valid))
    return splits


class _ValidatedInput:
    """Input checks shared by the estimators, in scikit-learn's terms (`validate_data`):
    a DataFrame keeps its column types (strings are categories); anything else must be a
    dense, numeric, 2-D array. NaN is allowed (imputed), infinity is not."""

    def _frame(self, X, *, reset: bool) -> pd.DataFrame:
        if sp.issparse(X):
            raise TypeError(
                f"{type(self).__name__} does not support sparse input: pass a DataFrame or "
                "a dense array (X.toarray())"
            )
        if isinstance(X, pd.DataFrame):
            if not reset and hasattr(self, "feature_names_in_"):
                names = list(self.feature_names_in_)
                if set(names) <= set(X.columns):
                    X = X[names]  # extra columns are ignored, the order is the fitted one
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 "
                    f"is required by {type(self).__name__}."
                )
            X = plain_types(X)
            numeric = X.select_dtypes(include="number")
            if numeric.shape[1] and np.isinf(numeric.to_numpy(dtype=float)).any():
                raise ValueError("Input X contains infinity or a value too large for float64.")
            return X.reset_index(drop=True)
        array = validate_data(self, X, reset=reset, ensure_all_finite="allow-nan", dtype="numeric")
        return pd.DataFrame(array, columns=self._column_names(array.shape[1]))

    def _explained_frame(self, X) -> pd.DataFrame:
        return self._frame(X, reset=False)

    def _column_names(self, width: int) -> list[str]:
        if hasattr(self, "feature_names_in_"):
            return list(self.feature_names_in_)
        return [f"x{i}" for i in range(width)]

    def _target(self, y) -> np.ndarray:
        """`y` as a 1-D array of labels, the classes set from it (two, or one when
        `_allow_one_class`), and the labels encoded 0/1."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        y = column_or_1d(check_array(y, ensure_2d=False, dtype=None), warn=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) > 2:
            raise ValueError(
                "Only binary classification is supported (one event: leaves, or is lost). "
                f"The type of the target is {type_of_target(y, input_name='y')}."
            )
        return np.searchsorted(self.classes_, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # imputed
        tags.input_tags.sparse = False  # dense tables only
        # Strings are read as categories in a DataFrame; an array must be numeric.
        tags.input_tags.string = False
        tags.classifier_tags.multi_class = False  # one event: leaves, or is lost
        return tags


class ExplainByOcclusion:
    """`explain` for a fitted classifier with `predict_proba`, `feature_names_in_` and
    `reference_` (a typical value per feature)."""

    def explain(self, X: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """Top contributions per row: how much the probability falls when one feature is
        set to a typical value (training median, or most frequent level). Positive =
        the feature's actual value raises this row's risk. One row per input row and
        rank, with the feature, its value and the contribution."""
        check_is_fitted(self, "reference_")
        X = self._explained_frame(X)
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

    def _explained_frame(self, X) -> pd.DataFrame:
        """The fitted feature columns of `X`, in order."""
        return pd.DataFrame(X)[list(self.feature_names_in_)].reset_index(drop=True)


class AttritionRiskModel(_ValidatedInput, ExplainByOcclusion, ClassifierMixin, BaseEstimator):
    """Calibrated probability of the positive class (a voluntary exit), tuned by itself.

    Parameters
    ----------
    kind : {"logistic", "gradient_boosting"}, default="logistic"
        An L2-regularised logistic regression on one-hot categories and scaled numbers,
        or scikit-learn's `HistGradientBoostingClassifier`.
    C : float or None, default=None
        The logistic regression's inverse regularisation strength. None chooses it inside
        `fit` from `C_GRID` by cross-validated ROC AUC (ties within 0.002 go to the
        smaller C).
    max_leaf_nodes : int or None, default=None
        The boosting's tree size (leaves hold at least 600 / max_leaf_nodes rows). None
        chooses it from `LEAVES_GRID` the same way.
    tuning_folds : int, default=3
        Folds of the tuning cross-validation.
    calibration : {"sigmoid", "isotonic"} or None, default="sigmoid"
        How the probabilities are calibrated on out-of-fold predictions; None skips it.
    calibration_folds : int, default=5
        Folds of the calibration.
    random_state : int or None, default=0
        Seed of the folds and of the boosting.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The labels seen in `y`; the second is the event whose probability is predicted.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen during fit (only for a DataFrame with string column names).
    C_ : float or None
        The C used (None for boosting).
    max_leaf_nodes_ : int or None
        The tree size used (None for logistic).
    tuning_scores_ : dict
        Mean cross-validated ROC AUC of each candidate tried (empty when none was tuned).
    estimator_ : estimator
        The fitted (calibrated) pipeline.
    reference_ : dict
        A typical value per feature (median or most frequent), used by `explain`.

    Notes
    -----
    `fit(X, y, groups=..., periods=...)`: with `groups` (the person of each row) every
    fold keeps a person's rows together, so a rep's other months never flatter the
    held-out predictions; with `periods` (the month of each row) the tuning folds run in
    time order (train on earlier months, validate on later ones). Classes are never
    re-balanced.
    """

    def __init__(
        self,
        kind: str = "logistic",
        C: float | None = None,
        max_leaf_nodes: int | None = None,
        tuning_folds: int = TUNING_FOLDS,
        calibration: str | None = "sigmoid",
        calibration_folds: int = 5,
        random_state: int | None = 0,
    ) -> None:
        self.kind = kind
        self.C = C
        self.max_leaf_nodes = max_leaf_nodes
        self.tuning_folds = tuning_folds
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def fit(self, X, y, groups=None, periods=None) -> AttritionRiskModel:
        """Tune, fit and calibrate on the rows of `X` and labels `y` (two classes).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), optional
            The group (person) of each row: a group's rows stay in one fold.
        periods : array-like of shape (n_samples,), optional
            The period (month) of each row: tuning folds run in time order.

        Returns
        -------
        self : AttritionRiskModel
        """
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        X = self._frame(X, reset=True)
        y = self._target(y)
        if len(self.classes_) < 2:
            raise ValueError(
                "AttritionRiskModel needs two classes in y (exits and stays); got one class, "
                f"{self.classes_[0]!r}"
            )
        candidates = self._candidates()
        self.tuning_scores_ = {}
        if len(candidates) > 1:
            splits = self._tuning_splits(y, groups, periods)
            if splits:
                self.tuning_scores_ = self._tuning_scores(candidates, X, y, splits)
                candidates = [_most_regularised_near_best(self.tuning_scores_)]
            else:
                candidates = [candidates[len(candidates) // 2]]  # too few rows: the middle
        chosen = candidates[0]
        self.C_ = chosen if self.kind == "logistic" else None
        self.max_leaf_nodes_ = chosen if self.kind == "gradient_boosting" else None
        pipeline = self._pipeline(chosen, len(y))
        folds = min(self.calibration_folds, int(np.bincount(y, minlength=2).min()))
        if self.calibration and folds >= 2:
            self.estimator_ = CalibratedClassifierCV(
                pipeline,
                method=self.calibration,
                cv=_stratified_splits(y, groups, folds, self.random_state),
                ensemble=False,
            ).fit(X, y)
        else:
            self.estimator_ = pipeline.fit(X, y)
        self.reference_ = _reference_row(X)
        return self

    def _candidates(self) -> list:
        if self.kind == "logistic":
            return [self.C] if self.C is not None else list(C_GRID)
        return [self.max_leaf_nodes] if self.max_leaf_nodes is not None else list(LEAVES_GRID)

    def _pipeline(self, value, rows: int) -> Pipeline:
        if self.kind == "logistic":
            return build_pipeline("logistic", value, self.random_state)
        return build_pipeline(
            "gradient_boosting",
            random_state=self.random_state,
            max_leaf_nodes=value,
            early_stopping=rows >= EARLY_STOPPING_MIN_ROWS,
        )

    def _tuning_scores(self, candidates: list, X: pd.DataFrame, y: np.ndarray, splits) -> dict:
        """Mean validation ROC AUC of each candidate over the tuning folds. For the
        logistic regression the preprocessing is fitted once per fold and shared by
        every C (it does not depend on C)."""
        if self.kind != "logistic":
            return {
                value: _mean_auc(self._pipeline(value, len(y)), X, y, splits)
                for value in candidates
            }
        scores: dict = {value: [] for value in candidates}
        for train, valid in splits:
            features = self._pipeline(candidates[0], len(y)).named_steps["features"]
            features = clone(features).fit(X.iloc[train], y[train])
            fitted, held_out = features.transform(X.iloc[train]), features.transform(X.iloc[valid])
            for value in candidates:
                model = LogisticRegression(C=value, max_iter=2000).fit(fitted, y[train])
                scores[value].append(roc_auc_score(y[valid], model.predict_proba(held_out)[:, 1]))
        return {value: float(np.mean(auc)) for value, auc in scores.items()}

    def _tuning_splits(self, y: np.ndarray, groups, periods) -> list:
        folds = min(self.tuning_folds, int(np.bincount(y, minlength=2).min()))
        if folds < 2:
            return []
        if periods is not None:
            return _time_ordered_splits(y, periods, folds)
        return _stratified_splits(y, groups, folds, self.random_state)

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each class, columns in the order of `classes_`."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(self._frame(X, reset=False))

    def predict(self, X) -> np.ndarray:
        """The more probable class of each row."""
        events = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[events.astype(int)]


def _mean_auc(pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, splits: list) -> float:
    scores = []
    for train, valid in splits:
        fitted = clone(pipeline).fit(X.iloc[train], y[train])
        scores.append(roc_auc_score(y[valid], fitted.predict_proba(X.iloc[valid])[:, 1]))
    return float(np.mean(scores))


def _most_regularised_near_best(scores: dict) -> float | int:
    """The first candidate (grids run from most to least regularised) within
    `TUNING_TIE` of the best mean AUC."""
    best = max(scores.values())
    return next(value for value, score in scores.items() if score >= best - TUNING_TIE)


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


class AccountLossModel(_ValidatedInput, ExplainByOcclusion, ClassifierMixin, BaseEstimator):
    """P(an account is lost within 12 months of its owner leaving).

    Learned (a logistic regression, C=1, on the handover features) when the history holds
    at least `min_events` lost and `min_events` kept accounts; otherwise the documented
    prior (`prior_loss_probability`), which reads the columns `is_single_threaded` and
    `documentation_completeness` when they are there. `method_` says which was used.

    Parameters
    ----------
    min_events : int, default=30
        Fewest lost and fewest kept accounts for the model to be learned.
    classes : sequence of two labels or None, default=None
        The labels `y` can take, the second being "lost". None reads them from `y`, which
        must then hold both. Set it (repradar passes (0, 1)) when the history may hold
        one outcome or none yet: the prior then covers it, and `fit` accepts zero rows.
    random_state : int or None, default=0
        Kept for a common interface (the fit is deterministic).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The labels, from `y` or `classes`.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen during fit (only for a DataFrame with string column names).
    events_ : int
        The smaller of the lost and kept counts.
    method_ : {"learned", "prior"}
        Which probability `predict_proba` gives.
    estimator_ : Pipeline or None
        The learned pipeline (None with the prior).
    reference_ : dict
        A typical value per feature, used by `explain`.
    """

    def __init__(self, min_events: int = 30, classes=None, random_state: int | None = 0) -> None:
        self.min_events = min_events
        self.classes = classes
        self.random_state = random_state

    def fit(self, X, y) -> AccountLossModel:
        """Learn from past handovers, or fall back to the prior.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            1 (or the second class) = the account was lost.

        Returns
        -------
        self : AccountLossModel
        """
        if self.classes is not None and isinstance(X, pd.DataFrame) and len(X) == 0:
            self.n_features_in_ = X.shape[1]
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
            encoded = np.zeros(0, dtype=int)
        else:
            X = self._frame(X, reset=True)
            encoded = self._target(y)
        if self.classes is not None:
            encoded = self._known_classes(y, encoded)
        elif len(self.classes_) < 2:
            raise ValueError(
                "AccountLossModel needs two classes in y (lost and kept accounts); got one class, "
                f"{self.classes_[0]!r}. Pass classes=(0, 1) to use the prior instead."
            )
        X = pd.DataFrame(X)
        self.reference_ = _reference_row(X)
        self.events_ = int(min(encoded.sum(), len(encoded) - encoded.sum()))
        if self.events_ >= self.min_events:
            self.method_ = "learned"
            self.estimator_ = build_pipeline("logistic", 1.0, self.random_state).fit(X, encoded)
        else:
            self.method_ = "prior"
            self.estimator_ = None
        return self

    def _known_classes(self, y, encoded: np.ndarray) -> np.ndarray:
        classes = np.asarray(self.classes)
        if len(classes) != 2:
            raise ValueError(f"classes must be two labels, got {list(classes)}")
        labels = np.asarray(y).ravel() if len(encoded) else np.asarray([], dtype=classes.dtype)
        unknown = set(labels.tolist()) - set(classes.tolist())
        if unknown:
            raise ValueError(f"y holds labels outside classes {list(classes)}: {sorted(unknown)}")
        self.classes_ = classes
        return (labels == classes[1]).astype(int)

    def predict_proba(self, X) -> np.ndarray:
        """[P(kept), P(lost)] per row, columns in the order of `classes_`."""
        check_is_fitted(self, "method_")
        X = self._frame(X, reset=False)
        if self.method_ == "learned":
            return self.estimator_.predict_proba(X)
        p = prior_loss_probability(X)
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        """The more probable class of each row."""
        events = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[events.astype(int)]


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
