"""`repradar ingest` on whole companies: complete, typed, accounted, idempotent, atomic."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.contract import TABLES
from pipelines.warehouse import exclusive_connection
from tests.conftest import REPO, REPRADAR, generate_company, ingest_cli

STAMPS = ("_load_id", "_source_file", "_source_row", "_loaded_at")


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def raw_frame(warehouse: Path, table: str, with_stamps: bool = False) -> pd.DataFrame:
    key = ", ".join(TABLES[table].key)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute(f"SELECT * FROM raw.{table} ORDER BY {key}").df()
    return frame if with_stamps else frame.drop(columns=list(STAMPS))


def snapshot(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every raw and quarantine table, stamps included."""
    tables = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in TABLES:
            for schema in ("raw", "quarantine"):
                tables[f"{schema}.{table}"] = con.execute(
                    f"SELECT * FROM {schema}.{table} ORDER BY ALL"
                ).df()
    return tables


def assert_same_snapshot(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)


@pytest.fixture(scope="module")
def loaded(company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed-7 company ingested once into a fresh warehouse."""
    warehouse = tmp_path_factory.mktemp("loaded") / "warehouse.duckdb"
    result = ingest_cli(company_dir, warehouse)
    assert result.exit_code == 0, result.stderr
    return warehouse


def test_every_row_of_a_clean_company_loads(loaded: Path, company: dict) -> None:
    for table, frame in company.items():
        assert query(loaded, f"SELECT count(*) FROM raw.{table}")[0][0] == len(frame), table
        assert query(loaded, f"SELECT count(*) FROM quarantine.{table}")[0][0] == 0, table


def test_load_log_accounts_for_every_row(loaded: Path) -> None:
    rows = query(
        loaded,
        "SELECT table_name, rows_read, rows_loaded, rows_quarantined, status, file_checksum "
        "FROM ops.load_log",
    )
    assert sorted(r[0] for r in rows) == sorted(TABLES)
    for table, read, loaded_rows, quarantined, status, checksum in rows:
        assert read == loaded_rows + quarantined, table
        assert status == "loaded" and len(checksum) == 64, table


def test_raw_values_keep_the_contract_types(loaded: Path, company: dict) -> None:
    opportunities = raw_frame(loaded, "crm_opportunities")
    expected = company["crm_opportunities"].sort_values("opportunity_id").reset_index(drop=True)
    assert (opportunities["opportunity_id"] == expected["opportunity_id"]).all()
    assert (pd.to_datetime(opportunities["created_at"]) == expected["created_at"]).all()
    amounts = opportunities["amount"].astype(float) - expected["amount"].astype(float)
    assert amounts.abs().max() < 0.01
    assert opportunities["is_won"].dtype == bool
    activities = raw_frame(loaded, "crm_activities")
    assert activities["occurred_at"].dtype.kind == "M"
    assert (activities["occurred_at"].dt.second != 0).any()  # time of day survives


def test_rows_are_stamped_with_load_file_and_row(loaded: Path, company_dir: Path) -> None:
    users = raw_frame(loaded, "crm_users", with_stamps=True).sort_values("_source_row")
    assert users["_load_id"].nunique() == 1
    assert set(users["_source_file"]) == {"crm_users.csv"}
    first_line = (company_dir / "crm_users.csv").read_text().splitlines()[1]
    assert users.iloc[0]["_source_row"] == 2
    assert users.iloc[0]["user_id"] in first_line


def test_parquet_exports_load_the_same_values_as_csv(loaded: Path, tmp_path: Path) -> None:
    parquet = generate_company(tmp_path / "parquet", "--seed", "7", "--format", "parquet")
    warehouse = tmp_path / "parquet.duckdb"
    assert ingest_cli(parquet, warehouse).exit_code == 0
    for table in TABLES:
        pd.testing.assert_frame_equal(
            raw_frame(warehouse, table), raw_frame(loaded, table), obj=table
        )


def test_loading_the_same_exports_again_changes_nothing(company_dir: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest_cli(company_dir, warehouse).exit_code == 0
    before = snapshot(warehouse)
    again = ingest_cli(company_dir, warehouse)
    assert again.exit_code == 0
    assert_same_snapshot(before, snapshot(warehouse))
    statuses = query(
        warehouse,
        "SELECT DISTINCT status, rows_read FROM ops.load_log WHERE load_id = "
        "(SELECT max(load_id) FROM ops.load_log)",
    )
    assert statuses == [("unchanged", 0)]


def _later_export(company_dir: Path, target: Path) -> dict[str, object]:
    """A later export: two deals changed, one new, the oldest deals and their stage
    history no longer exported (an export window that moved on)."""
    shutil.copytree(company_dir, target, ignore=shutil.ignore_patterns("_truth"))
    opportunities = pd.read_csv(target / "crm_opportunities.csv", dtype=str, keep_default_na=False)
    changed = opportunities["opportunity_id"].iloc[[100, 200]].tolist()
    opportunities.loc[opportunities.index[[100, 200]], "amount"] = "12345.67"
    dropped = opportunities["opportunity_id"].iloc[:10].tolist()
    new = opportunities.iloc[[300]].assign(opportunity_id="O99999999")
    opportunities = pd.concat([opportunities.iloc[10:], new])
    opportunities.to_csv(target / "crm_opportunities.csv", index=False)
    history = pd.read_csv(
        target / "crm_opportunity_stage_history.csv", dtype=str, keep_default_na=False
    )
    history = history[~history["opportunity_id"].isin(dropped)]
    history.to_csv(target / "crm_opportunity_stage_history.csv", index=False)
    return {"changed": changed, "dropped": dropped}


def test_a_later_export_updates_changed_rows_by_key_and_keeps_history(
    company_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest_cli(company_dir, warehouse).exit_code == 0
    history_before = len(raw_frame(warehouse, "crm_opportunity_stage_history"))
    later = _later_export(company_dir, tmp_path / "later")
    assert ingest_cli(tmp_path / "later", warehouse).exit_code == 0

    log = dict(
        (row[0], row[1:])
        for row in query(
            warehouse,
            "SELECT table_name, rows_inserted, rows_updated, rows_unchanged, status "
            "FROM ops.load_log WHERE load_id = (SELECT max(load_id) FROM ops.load_log)",
        )
    )
    inserted, updated, _, status = log["crm_opportunities"]
    assert (inserted, updated, status) == (1, 2, "loaded")
    assert log["crm_users"][-1] == "unchanged"
    opportunities = raw_frame(warehouse, "crm_opportunities", with_stamps=True)
    by_id = opportunities.set_index("opportunity_id")
    assert all(float(by_id.loc[o, "amount"]) == 12345.67 for o in later["changed"])
    assert "O99999999" in by_id.index
    assert all(o in by_id.index for o in later["dropped"])  # not deleted by omission
    assert by_id["_load_id"].nunique() == 2  # untouched rows keep their original load
    history_after = len(raw_frame(warehouse, "crm_opportunity_stage_history"))
    assert history_after == history_before + len(
        pd.read_csv(tmp_path / "later" / "crm_opportunity_stage_history.csv").query(
            "opportunity_id == 'O99999999'"
        )
    )


def _start_ingest(source: Path, warehouse: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [REPRADAR, "ingest", "--source", str(source), "--warehouse", str(warehouse)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(process: subprocess.Popen, text: str) -> None:
    for line in process.stderr:
        if text in line:
            return
    raise AssertionError(f"the ingest finished before printing {text!r}")


def test_a_killed_ingest_leaves_the_warehouse_as_it_was_and_a_rerun_completes(
    company_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest_cli(company_dir, warehouse).exit_code == 0
    before = snapshot(warehouse)
    other = generate_company(tmp_path / "seed8", "--seed", "8")

    process = _start_ingest(other, warehouse)
    _wait_for(process, "crm_opportunity_stage_history.csv: validating")  # mid-transaction
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    assert_same_snapshot(before, snapshot(warehouse))
    rerun = ingest_cli(other, warehouse)
    assert rerun.exit_code == 0, rerun.stderr
    statuses = [r[0] for r in query(warehouse, "SELECT status FROM ops.ingest_runs ORDER BY 1")]
    assert statuses == ["interrupted", "loaded", "loaded"]
    assert (
        query(
            warehouse,
            "SELECT count(*) FROM raw.crm_users WHERE _load_id = "
            "(SELECT max(load_id) FROM ops.ingest_runs)",
        )[0][0]
        > 0
    )


def test_a_second_concurrent_run_is_refused_with_a_clear_message(
    company_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with exclusive_connection(warehouse):
        result = subprocess.run(
            [REPRADAR, "ingest", "--source", str(company_dir), "--warehouse", str(warehouse)],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
    assert result.returncode == 4
    assert "another repradar run is writing" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_warehouse_open_in_another_program_is_refused_with_a_clear_message(
    company_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(warehouse)!r}); "
            "print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        result = ingest_cli(company_dir, warehouse)
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 4
    assert "is open in another program" in result.stderr


def test_the_validation_report_is_written_and_escapes_data(tmp_path: Path) -> None:
    source = tmp_path / "exports"
    source.mkdir()
    (source / "crm_opportunity_stage_history.csv").write_text(
        "opportunity_id,stage,entered_at\n"
        "O1,Lead,2024-01-02\nO1,Contacted,2024-01-09\nO2,Lead,2024-01-03\n"
        "O2,<script>alert(1)</script>,2024-01-10\n"
    )
    result = ingest_cli(source, tmp_path / "warehouse.duckdb")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "reports" / "validation" / "latest.html").read_text()
    assert "crm_opportunity_stage_history.csv" in page
    assert "stage.in_set" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page


def test_force_validates_a_loaded_file_again_under_a_changed_policy(
    dirty_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "exports"
    source.mkdir()
    shutil.copy(dirty_dir / "hr_compensation.csv", source)
    warehouse = tmp_path / "warehouse.duckdb"
    assert ingest_cli(source, warehouse).exit_code == 0
    negative = "SELECT count(*) FROM raw.hr_compensation WHERE base_salary < 0"
    assert query(warehouse, negative)[0][0] == 0
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("policies:\n  hr_compensation.base_salary.non_negative: warn\n")
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert query(warehouse, negative)[0][0] == 0  # same checksum: skipped
    forced = ingest_cli(source, warehouse, "--mapping", str(mapping), "--force")
    assert forced.exit_code == 0
    assert query(warehouse, negative)[0][0] == 1
