"""Risk of leaving within 1, 3, 6 and 12 months from one discrete-time hazard model.

The rep-month snapshots are person-months, so they already are a discrete-time survival
table: each snapshot's *hazard* outcome is a voluntary exit in the next calendar month
(censored by an involuntary exit or by the end of the data). One `AttritionRiskModel`
learns that monthly hazard from the snapshot's features. For a horizon of h months the
raw risk is 1 - (1 - hazard)^h: the hazard held at its value today over the window, since
today's features are all that is known. Each horizon is then calibrated on its own: a
two-parameter logistic on logit(raw risk) (Platt scaling), fitted on the training rows
whose h-month outcome is known, so that a 12-month risk of 30% means 30 in 100 such reps
left within 12 months. Risks are finally made non-decreasing in the horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from models_ml.estimators import AttritionRiskModel, ExplainByOcclusion
from models_ml.features import HORIZONS, horizon_label

# A horizon with fewer known exits than this in training keeps the raw risk (no
# recalibration): two parameters need some events to rest on.
MIN_CALIBRATION_EXITS = 10
EDGE = 1e-6


def horizon_labels(snapshots: pd.DataFrame, horizons=HORIZONS) -> pd.DataFrame:
    """The label of every horizon (columns = months), NA where censored, and NA wherever
    the data has not seen the whole window yet: in the last months an exit can already be
    known (a resignation with a later last day) while a stay cannot, so keeping those
    exits would teach the model too many exits."""
    seen = snapshots["follow_up_months"]
    return pd.DataFrame(
        {
            months: horizon_label(snapshots, months).where((seen >= months).fillna(False))
            for months in horizons
        }
    )


def risk_column(months: int) -> str:
    return f"risk_{months}m"


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EDGE, 1 - EDGE)
    return np.log(p / (1 - p))


class HorizonRiskModel(ExplainByOcclusion, BaseEstimator):
    """P(voluntary exit within each horizon) from one monthly hazard model.

    Parameters
    ----------
    kind : {"logistic", "gradient_boosting"}, default="logistic"
        The hazard model's kind (an `AttritionRiskModel`, tuned and calibrated in `fit`).
    horizons : tuple of int, default=(1, 3, 6, 12)
        Horizons in calendar months; 1 must be among them (it is the hazard's).
    shown_months : int, default=3
        The horizon `predict_proba` gives when none is asked for (the one shown).
    random_state : int or None, default=0

    Attributes
    ----------
    hazard_ : AttritionRiskModel
        P(voluntary exit in the next month | the snapshot's features).
    calibration_ : dict of int to (float, float)
        Intercept and slope on logit(raw risk) per horizon; (0, 1) = left raw.
    exits_ : dict of int to int
        Known exits per horizon among the training rows.
    feature_names_in_ : ndarray
        The feature columns.
    reference_ : dict
        A typical value per feature (the hazard model's), used by `explain`.
    """

    def __init__(
        self,
        kind: str = "logistic",
        horizons=HORIZONS,
        shown_months: int = 3,
        random_state: int | None = 0,
    ):
        self.kind = kind
        self.horizons = horizons
        self.shown_months = shown_months
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, labels: pd.DataFrame, groups=None, periods=None):
        """Fit the hazard on the rows whose next month is known, then calibrate each
        horizon on the rows whose outcome over it is known.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
        labels : DataFrame with one column per horizon (1/0, NA = censored)
        groups, periods : array-like of shape (n_samples,), optional
            The person and the month of each row (see `AttritionRiskModel.fit`).

        Returns
        -------
        self : HorizonRiskModel
        """
        if 1 not in self.horizons:
            raise ValueError(f"horizons must include 1 (the monthly hazard), got {self.horizons}")
        X = pd.DataFrame(X).reset_index(drop=True)
        labels = labels.reset_index(drop=True)
        known = labels[1].notna().to_numpy()
        self.hazard_ = AttritionRiskModel(kind=self.kind, random_state=self.random_state).fit(
            X[known],
            labels.loc[known, 1].astype(int).to_numpy(),
            groups=None if groups is None else np.asarray(groups)[known],
            periods=None if periods is None else np.asarray(periods)[known],
        )
        self.feature_names_in_ = self.hazard_.feature_names_in_
        self.reference_ = self.hazard_.reference_
        hazard = self.hazard_.predict_proba(X)[:, 1]
        self.calibration_, self.exits_ = {}, {}
        for months in sorted(self.horizons):
            rows = labels[months].notna().to_numpy()
            y = labels.loc[rows, months].astype(int).to_numpy()
            self.exits_[months] = int(y.sum())
            self.calibration_[months] = (0.0, 1.0)
            if months == 1 or y.sum() < MIN_CALIBRATION_EXITS or y.sum() == len(y):
                continue  # the hazard is calibrated already; or too few exits
            raw = _logit(1 - (1 - hazard[rows]) ** months).reshape(-1, 1)
            platt = LogisticRegression(C=1e4, max_iter=1000).fit(raw, y)
            self.calibration_[months] = (float(platt.intercept_[0]), float(platt.coef_[0, 0]))
        return self

    def predict_risk(self, X: pd.DataFrame) -> pd.DataFrame:
        """One column per horizon (`risk_<h>m`), non-decreasing along the horizons."""
        check_is_fitted(self, "hazard_")
        hazard = self.hazard_.predict_proba(X)[:, 1]
        columns = []
        for months in sorted(self.horizons):
            intercept, slope = self.calibration_[months]
            raw = 1 - (1 - hazard) ** months
            if (intercept, slope) == (0.0, 1.0):
                columns.append(raw)
            else:
                columns.append(1 / (1 + np.exp(-(intercept + slope * _logit(raw)))))
        risks = np.maximum.accumulate(np.column_stack(columns), axis=1)
        return pd.DataFrame(risks, columns=[risk_column(m) for m in sorted(self.horizons)])

    def predict_proba(self, X: pd.DataFrame, months: int | None = None) -> np.ndarray:
        """[P(stays), P(leaves)] within `months` (default: `shown_months`), scikit-learn's
        shape."""
        risk = self.predict_risk(X)[risk_column(months or self.shown_months)].to_numpy()
        return np.column_stack([1 - risk, risk])
