"""The default AttritionRiskModel against a plain logistic regression on a second public
HR table: Babushkin's employee turnover data (benchmarks/data/turnover_babushkin)."""

from __future__ import annotations

import pandas as pd
import pytest

from models_ml.public_tables import (
    TURNOVER,
    TURNOVER_PROTECTED,
    cross_validate,
    default_against_baseline,
    load_turnover,
)


@pytest.fixture(scope="module")
def turnover_cv() -> pd.DataFrame:
    X, y = load_turnover()
    return cross_validate(X, y, folds=5, seed=0, kinds=("logistic",))


def test_the_turnover_table_loads_whole_without_protected_columns() -> None:
    X, y = load_turnover()
    assert X.shape == (1129, 12) and int(y.sum()) == 571
    assert not set(TURNOVER_PROTECTED) & set(X.columns)


def test_the_self_tuning_default_matches_or_beats_the_baseline_on_turnover(
    turnover_cv: pd.DataFrame,
) -> None:
    assert default_against_baseline(turnover_cv) >= -0.001, turnover_cv.to_string()


def test_a_missing_table_names_its_path(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_turnover(tmp_path / "nowhere.csv")


def test_the_shipped_table_is_the_one_its_source_names() -> None:
    source = (TURNOVER.parent / "SOURCE.md").read_text(encoding="utf-8")
    assert "Babushkin" in source and "1,129" in source
