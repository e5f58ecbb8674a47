"""The scheduled flows for real: `repradar run` (the daily flow), the weekly report
flow with its delivery, and the alerts flow, with their Prefect artifacts."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.flows.operations import alerts_flow, report_flow, weekly_report
from pipelines.steps import step_note, train_if_due
from tests.conftest import flow_run_artifact, run_repradar

pytestmark = pytest.mark.slow


def people_names(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT name FROM raw.hr_employees").fetchall()
    return {name for (name,) in rows if name}


def test_daily_run_goes_from_exports_to_alerts(
    daily_run: tuple[Path, subprocess.CompletedProcess],
) -> None:
    warehouse, finished = daily_run
    assert "new alerts recorded" in finished.stdout
    assert f"warehouse: {warehouse}" in finished.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        scored = con.execute("SELECT count(*) FROM restricted.mart_rep_risk").fetchone()[0]
        runs = con.execute("SELECT count(*) FROM ml.model_runs").fetchone()[0]
    assert scored > 100 and runs == 1


def test_the_daily_flow_keeps_a_recent_model_and_retrains_an_old_one(
    operated: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(operated, copy)
    shutil.copytree(operated.parent / "models", tmp_path / "models")
    assert step_note(train_if_due(copy, retrain_after_days=30)).startswith(
        "model trained 0 days ago"
    )
    assert step_note(train_if_due(copy, retrain_after_days=0)).startswith("trained ")
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ml.model_runs").fetchone()[0] == 2


def test_a_rejected_load_fails_the_daily_run_and_keeps_the_marts(
    operated: Path, hostile_company_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(operated, copy)
    broken = tmp_path / "exports"
    shutil.copytree(hostile_company_dir, broken)
    opportunities = pd.read_csv(broken / "crm_opportunities.csv", dtype=str)
    opportunities.drop(columns=["stage"]).to_csv(broken / "crm_opportunities.csv", index=False)
    with duckdb.connect(str(copy), read_only=True) as con:
        marts_before = con.execute("SELECT * FROM marts.mart_funnel_conversion").df()
    finished = run_repradar("run", "--source", str(broken), "--warehouse", str(copy), check=False)
    assert finished.returncode == 1
    assert "marts and scores of the last good run" in finished.stderr
    with duckdb.connect(str(copy), read_only=True) as con:
        marts_after = con.execute("SELECT * FROM marts.mart_funnel_conversion").df()
    pd.testing.assert_frame_equal(marts_before, marts_after)


def test_weekly_report_flow_delivers_to_the_leadership_outbox(
    prefect_server, unalerted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPRADAR_REPORT_URLS", raising=False)
    state = weekly_report(warehouse=str(unalerted), return_state=True)
    result = state.result()
    assert len(result.sent) == 1
    [message] = (unalerted.parent / "outbox" / "leadership").glob("*.md")
    text = message.read_text()
    assert "| Bookings |" in text and ".pdf" in text
    artifact = flow_run_artifact(state, "leadership-report")
    assert "## Recommended actions" in artifact
    assert not [n for n in people_names(unalerted) if n in artifact + text]


def test_a_report_that_cannot_be_made_fails_the_flow_at_once_without_retrying(
    prefect_server, tmp_path: Path
) -> None:
    """Only a busy warehouse is worth waiting for (5 minutes, 3 times); a missing analyst
    database is not."""
    (tmp_path / "warehouse.duckdb").touch()
    clock = time.perf_counter()
    state = report_flow(warehouse=str(tmp_path / "warehouse.duckdb"), return_state=True)
    assert state.is_failed()
    assert "no analyst database" in str(state.result(raise_on_failure=False))
    assert time.perf_counter() - clock < 60


def test_alerts_flow_artifact_has_counts_not_names(
    prefect_server, unalerted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPRADAR_ALERT_URLS", raising=False)
    state = alerts_flow(warehouse=str(unalerted), return_state=True)
    result = state.result()
    artifact = flow_run_artifact(state, "alerts-summary")
    assert f"{len(result.created)} new alerts recorded" in artifact
    assert not [n for n in people_names(unalerted) if n in artifact]
