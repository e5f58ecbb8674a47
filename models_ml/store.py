"""Fitted models on disk, in skops format (never pickle).

Loading trusts exactly the types our estimators are made of; a file that asks for any
other type (a tampered or foreign file) is refused before anything in it is executed.
"""

from __future__ import annotations

from pathlib import Path

import skops.io as sio

from models_ml.estimators import AccountLossModel, AttritionRiskModel
from pipelines.errors import RepradarError

TRUSTED_TYPES = frozenset(
    {
        "models_ml.estimators.AttritionRiskModel",
        "models_ml.estimators.AccountLossModel",
        "numpy.dtype",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.compose._column_transformer.make_column_selector",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.model_selection._split.StratifiedKFold",
    }
)


class UntrustedModelFile(RepradarError):
    """The model file needs types outside TRUSTED_TYPES."""


def save_model(model: AttritionRiskModel | AccountLossModel, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path)
    return path


def load_model(path: Path) -> AttritionRiskModel | AccountLossModel:
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist; run `repradar train`")
    untrusted = set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES
    if untrusted:
        raise UntrustedModelFile(
            f"{path} asks for types repradar does not trust: {', '.join(sorted(untrusted))}"
        )
    return sio.load(path, trusted=sorted(TRUSTED_TYPES))
