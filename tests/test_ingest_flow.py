"""The Prefect flow `ingest`: a real flow run against a temporary Prefect server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.testing.utilities import prefect_test_harness

from pipelines.flows.ingest import IngestRejected, ingest_flow


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        # Telemetry writes race the test server's SQLite database ("database is locked").
        patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        with prefect_test_harness(server_startup_timeout=120):
            yield


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
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        # The client's read_artifacts sends nulls this server version rejects; ask directly.
        response = client._client.post(
            "/artifacts/filter",
            json={"artifacts": {"key": {"any_": ["ingest-load-summary"]}}, "limit": 10},
        )
    assert run.state.is_completed()
    [summary] = [a for a in response.json() if a["flow_run_id"] == str(run.id)]
    assert "| crm_opportunities.csv | loaded |" in summary["data"]
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
