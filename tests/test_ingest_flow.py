"""The Prefect flow `ingest`: a real flow run against a temporary Prefect server."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.flows.ingest import IngestRejected, ingest_flow
from tests.conftest import flow_run_artifact


def test_the_flow_run_loads_the_exports_and_publishes_the_summary(
    prefect_server: None, company_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    state = ingest_flow(source=str(company_dir), warehouse=str(warehouse), return_state=True)
    assert state.is_completed()
    result = state.result()
    assert result.status == "loaded"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.crm_opportunities").fetchone()[0] > 0
    summary = flow_run_artifact(state, "ingest-load-summary")
    assert "| crm_opportunities.csv | loaded |" in summary
    assert result.report is not None and result.report.exists()


def test_a_rejected_load_fails_the_flow_run_and_changes_nothing(
    prefect_server: None, dirty_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    state = ingest_flow(source=str(dirty_dir), warehouse=str(warehouse), return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, IngestRejected)
    assert "hr_engagement_surveys.csv, row 1 (header), column intent_to_stay" in str(error)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.crm_opportunities").fetchone()[0] == 0
        assert con.execute("SELECT status FROM ops.ingest_runs").fetchall() == [("rejected",)]
