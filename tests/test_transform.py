"""`repradar transform`: the marts are built, documented, pseudonymous, point-in-time,
and a failed build leaves the last good marts in place."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.warehouse import writer_lock
from tests.conftest import build_warehouse, run_repradar
from tests.marts import query, table_fingerprint
from tests.truncate import truncate_raw

MARTS = {
    "fct_opportunities",
    "fct_stage_transitions",
    "mart_funnel_conversion",
    "mart_sales_cycle",
    "mart_rep_scorecard",
    "mart_revenue_concentration",
    "mart_quota_attainment",
    "mart_headcount_attrition",
    "mart_exit_reasons",
    "mart_account_coverage",
    "mart_handover_outcomes",
    "dim_employees",
}
LABELS = [
    "exit_type_within_horizon",
    "left_voluntarily_within_horizon",
    "label_status",
    "months_to_exit",
    "exit_type",
    "follow_up_months",
]


@pytest.fixture(scope="module")
def small_warehouse(small_company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("small-built") / "warehouse.duckdb"
    build_warehouse(small_company_dir, warehouse)
    return warehouse


def test_transform_reports_what_it_built_and_headline_kpis(built: tuple[Path, str]) -> None:
    warehouse, stdout = built
    assert "built 43 models and passed" in stdout
    assert "win rate, deals closed in the last 12 months: " in stdout
    assert "voluntary attrition, trailing 12 months: " in stdout
    assert f"duckdb -readonly {warehouse.with_name('analytics.duckdb')}" in stdout


def test_every_mart_of_the_design_is_a_table(warehouse: Path) -> None:
    tables = set(
        query(
            warehouse,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'marts' AND table_type = 'BASE TABLE'",
        )["table_name"]
    )
    assert tables == MARTS
    for mart in MARTS:
        assert query(warehouse, f"SELECT count(*) AS n FROM marts.{mart}")["n"][0] > 0, mart


def _people_strings(warehouse: Path) -> set[str]:
    people = query(
        warehouse,
        "SELECT name, email FROM raw.hr_employees UNION ALL SELECT name, email FROM raw.crm_users",
    )
    return set(people["name"]) | set(people["email"])


def _text_values(warehouse: Path, schema: str) -> dict[str, set[str]]:
    """Every distinct text value of every table in a schema, by table."""
    columns = query(
        warehouse,
        "SELECT c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t USING (table_schema, table_name) "
        f"WHERE c.table_schema = '{schema}' AND c.data_type = 'VARCHAR' "
        "AND t.table_type = 'BASE TABLE'",
    )
    values: dict[str, set[str]] = {}
    for table, group in columns.groupby("table_name"):
        union = " UNION ".join(
            f'SELECT DISTINCT "{c}" AS v FROM {schema}.{table}' for c in group["column_name"]
        )
        values[table] = set(query(warehouse, union)["v"].dropna())
    return values


def test_no_names_or_emails_reach_analyst_facing_marts(warehouse: Path) -> None:
    people = _people_strings(warehouse)
    for schema in ("marts", "intermediate"):
        for table, values in _text_values(warehouse, schema).items():
            assert not values & people, f"{schema}.{table} holds names or e-mails"
    columns = query(
        warehouse,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts'",
    )["column_name"]
    assert not {"gender", "birth_year", "name", "email"} & set(columns)


def test_names_live_only_in_the_restricted_schema(warehouse: Path) -> None:
    restricted = _text_values(warehouse, "restricted")["dim_people"]
    assert len(restricted & _people_strings(warehouse)) > 100


def test_snapshots_do_not_see_the_future(small_warehouse: Path, tmp_path: Path) -> None:
    cut_off = dt.date(2026, 4, 30)
    truncated = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, truncated)
    truncate_raw(truncated, cut_off)
    run_repradar("transform", "--warehouse", str(truncated))

    def snapshots(warehouse: Path) -> pd.DataFrame:
        frame = query(
            warehouse,
            f"SELECT * EXCLUDE ({', '.join(LABELS)}) FROM intermediate.int_rep_month_snapshots "
            f"WHERE month_end <= DATE '{cut_off}' ORDER BY snapshot_id",
        )
        return frame.reset_index(drop=True)

    full, cut = snapshots(small_warehouse), snapshots(truncated)
    assert len(full) > 50 and full["month_end"].nunique() >= 5
    pd.testing.assert_frame_equal(full, cut)
    # the labels do change: the cut-off data cannot know who left afterwards
    labels = query(
        truncated,
        "SELECT label_status, count(*) AS n FROM intermediate.int_rep_month_snapshots "
        f"WHERE month_end + INTERVAL 3 MONTH > DATE '{cut_off}' GROUP BY ALL",
    )
    assert set(labels["label_status"]) <= {
        "censored_horizon",
        "observed_exit",
        "censored_involuntary",
    }


def test_a_failed_build_keeps_the_last_good_marts(small_warehouse: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, warehouse)
    before = table_fingerprint(warehouse, "marts")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "INSERT INTO raw.crm_opportunities SELECT * REPLACE (amount * 2 AS amount) "
            "FROM raw.crm_opportunities LIMIT 1"
        )
    finished = run_repradar("transform", "--warehouse", str(warehouse), check=False)
    assert finished.returncode == 1
    assert "unique_stg_crm__opportunities_opportunity_id" in finished.stderr
    assert "the marts of the last good build" in finished.stderr
    assert table_fingerprint(warehouse, "marts") == before
    runs = query(warehouse, "SELECT status, failed, message FROM ops.transform_runs")
    assert runs["status"].iloc[-1] == "failed"
    assert "unique_stg_crm__opportunities_opportunity_id" in runs["message"].iloc[-1]
    assert not list(tmp_path.glob(".*building*"))


def test_transform_without_raw_data_says_to_ingest_first(tmp_path: Path) -> None:
    finished = run_repradar("transform", "--warehouse", str(tmp_path / "none.duckdb"), check=False)
    assert finished.returncode == 1
    assert "run `repradar ingest` first" in finished.stderr


def test_transform_waits_for_no_one(small_warehouse: Path) -> None:
    with writer_lock(small_warehouse):
        finished = run_repradar("transform", "--warehouse", str(small_warehouse), check=False)
    assert finished.returncode == 4
    assert "another repradar run is writing" in finished.stderr


def test_docs_document_every_mart_and_column(small_warehouse: Path, tmp_path: Path) -> None:
    finished = run_repradar(
        "docs", "--warehouse", str(small_warehouse), "--out", str(tmp_path / "docs")
    )
    assert str(tmp_path / "docs" / "index.html") in finished.stdout
    manifest = json.loads((tmp_path / "docs" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "docs" / "catalog.json").read_text())
    documented = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] in ("marts", "restricted")
    ]
    assert {n["name"] for n in documented} >= MARTS | {"dim_people"}
    for node in documented:
        assert node["description"].strip(), node["name"]
        # the risk marts are built only once scores exist: check their declared columns
        built = catalog["nodes"].get(node["unique_id"], {"columns": node["columns"]})
        built_columns = built["columns"]
        for column in built_columns:
            described = node["columns"].get(column, {}).get("description", "")
            assert described.strip(), f"{node['name']}.{column} is not documented"
        if node["config"]["materialized"] == "table":  # the marts (views over ml are not)
            assert node["config"]["contract"]["enforced"], node["name"]
    exposures = {e["name"] for e in manifest["exposures"].values()}
    assert exposures == {"leadership_report", "hr_risk_alerts", "attrition_and_account_loss_models"}
