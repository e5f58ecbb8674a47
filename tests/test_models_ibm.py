"""Issue #5 public-dataset check: AttritionRiskModel on the IBM HR attrition table.

Skipped when the dataset (outside the repo, ../shared/datasets/ibm_hr_attrition/) is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from models_ml.ibm_hr import (
    AUC_BAR,
    BASELINE,
    DATASET,
    PROTECTED,
    best_model,
    cross_validate_ibm_hr,
    default_against_baseline,
    load_ibm_hr,
)

pytestmark = pytest.mark.skipif(
    not DATASET.exists(), reason=f"IBM HR attrition dataset not found at {DATASET}"
)


@pytest.fixture(scope="module")
def cv_frame() -> pd.DataFrame:
    return cross_validate_ibm_hr(DATASET, folds=5, seed=0)


@pytest.mark.slow
def test_best_model_reaches_the_auc_bar_next_to_the_baseline(cv_frame: pd.DataFrame) -> None:
    best = best_model(cv_frame)
    assert best["roc_auc_mean"] >= AUC_BAR, cv_frame.to_string()
    assert BASELINE in set(cv_frame["estimator"])
    assert cv_frame["roc_auc_mean"].notna().all()


@pytest.mark.slow
def test_the_self_tuning_default_matches_or_beats_a_plain_logistic_regression(
    cv_frame: pd.DataFrame,
) -> None:
    assert default_against_baseline(cv_frame) >= -0.001, cv_frame.to_string()


def test_protected_attributes_are_never_features() -> None:
    X, y = load_ibm_hr(DATASET)
    assert not set(PROTECTED) & set(X.columns)
    assert X.shape == (1470, 27) and set(y) == {0, 1}


def test_a_missing_dataset_names_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "attrition.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_ibm_hr(missing)
