"""The Prefect flow `transform`: a real flow run against a temporary Prefect server."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.flows.transform import TransformFailed, transform_flow
from tests.conftest import build_warehouse, flow_run_artifact


@pytest.fixture(scope="module")
def ingested(small_company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("flow") / "warehouse.duckdb"
    build_warehouse(small_company_dir, warehouse)
    return warehouse


def test_the_flow_run_builds_the_marts_and_publishes_kpis(
    prefect_server: None, ingested: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(ingested, warehouse)
    state = transform_flow(warehouse=str(warehouse), return_state=True)
    assert state.is_completed()
    assert state.result().success
    summary = flow_run_artifact(state, "transform-summary")
    assert "(duckdb): success" in summary
    assert "- win rate, deals closed in the last 12 months: " in summary
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT status FROM ops.transform_runs").fetchall()[-1] == ("success",)


def test_a_failing_build_fails_the_flow_run(
    prefect_server: None, ingested: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(ingested, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "UPDATE raw.hr_employees SET termination_type = 'retired' WHERE employee_id = "
            "(SELECT min(employee_id) FROM raw.hr_employees WHERE termination_date IS NOT NULL)"
        )
    state = transform_flow(warehouse=str(warehouse), return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, TransformFailed)
    assert "accepted_values_mart_exit_reasons_termination_type" in str(error)
    assert "FAILED" in flow_run_artifact(state, "transform-summary")
