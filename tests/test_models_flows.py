"""Prefect flows `train` and `score`: real flow runs against a temporary Prefect server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.flows.models import score_flow, train_flow
from tests.conftest import flow_run_artifact
from tests.marts import query


@pytest.fixture(scope="module")
def flow_warehouse(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("model-flows") / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    return copy


def test_the_train_flow_publishes_the_backtest(prefect_server: None, flow_warehouse: Path) -> None:
    state = train_flow(warehouse=str(flow_warehouse), return_state=True)
    assert state.is_completed()
    summary = flow_run_artifact(state, "train-summary")
    assert "ROC AUC" in summary and "* = chosen" in summary
    assert Path(state.result().card_path).exists()


def test_the_score_flow_publishes_risk_by_team_without_names(
    prefect_server: None, flow_warehouse: Path
) -> None:
    train_flow(warehouse=str(flow_warehouse))
    state = score_flow(warehouse=str(flow_warehouse), return_state=True)
    assert state.is_completed()
    summary = flow_run_artifact(state, "score-summary")
    assert "All teams" in summary and "expected exits in 3 months" in summary
    names = query(flow_warehouse, "SELECT employee_name FROM restricted.dim_people")
    assert not any(name in summary for name in names["employee_name"])
