"""The public Maven CRM sample, read through the shipped `maven_crm` mapping, against an
independent pandas calculation on the same CSV files.

The sample lives in ../shared/datasets, which a user's clone does not have: every test
here is skipped cleanly without it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import REPO, run_repradar

MAVEN = REPO.parent / "shared" / "datasets" / "maven_crm_sales_opportunities"
STAGES = {
    "Prospecting": "Lead",
    "Engaging": "Contacted",
    "Won": "Closed Won",
    "Lost": "Closed Lost",
}

pytestmark = pytest.mark.skipif(
    not (MAVEN / "sales_pipeline.csv").is_file(),
    reason="the Maven sample (../shared/datasets) is not here; a user's clone has no shared/",
)


@pytest.fixture(scope="module")
def maven_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample ingested through the shipped mapping and transformed by the real CLI."""
    warehouse = tmp_path_factory.mktemp("maven") / "warehouse.duckdb"
    run_repradar(
        "ingest", "--source", str(MAVEN), "--mapping", "maven_crm", "--warehouse", str(warehouse)
    )
    run_repradar("transform", "--warehouse", str(warehouse))
    return warehouse


@pytest.fixture(scope="module")
def pipeline() -> pd.DataFrame:
    """sales_pipeline.csv as pandas reads it, independently of repradar."""
    return pd.read_csv(MAVEN / "sales_pipeline.csv", parse_dates=["engage_date", "close_date"])


def query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchdf()


def test_every_deal_reaches_fct_opportunities(
    maven_warehouse: Path, pipeline: pd.DataFrame
) -> None:
    loaded = query(maven_warehouse, "SELECT opportunity_id FROM marts.fct_opportunities")
    assert len(pipeline) == 8_800
    assert sorted(loaded["opportunity_id"]) == sorted(pipeline["opportunity_id"])


def test_nothing_is_quarantined(maven_warehouse: Path) -> None:
    counts = query(
        maven_warehouse,
        "SELECT table_name, rows_read, rows_loaded, rows_quarantined FROM ops.load_log "
        "ORDER BY table_name",
    )
    assert counts["rows_quarantined"].sum() == 0
    opportunities = counts.set_index("table_name").loc["crm_opportunities"]
    assert (opportunities["rows_read"], opportunities["rows_loaded"]) == (8_800, 8_800)


def test_deals_with_blank_account_or_engage_date_are_flagged_not_dropped(
    maven_warehouse: Path, pipeline: pd.DataFrame
) -> None:
    flags = query(
        maven_warehouse,
        "SELECT count_if(is_account_unknown) AS no_account, "
        "count_if(is_created_on_unknown) AS no_engage_date, "
        "count_if(account_id IS NULL) AS null_account FROM marts.fct_opportunities",
    ).iloc[0]
    assert flags["no_account"] == flags["null_account"] == pipeline["account"].isna().sum()
    assert flags["no_account"] == 1_425
    assert flags["no_engage_date"] == pipeline["engage_date"].isna().sum() == 500


def test_deals_by_stage_equal_pandas(maven_warehouse: Path, pipeline: pd.DataFrame) -> None:
    marts = query(
        maven_warehouse,
        "SELECT current_stage, count(*) AS deals FROM marts.fct_opportunities GROUP BY ALL",
    ).set_index("current_stage")["deals"]
    expected = pipeline["deal_stage"].map(STAGES).value_counts()
    assert marts.sort_index().to_dict() == expected.sort_index().to_dict()


def test_win_rate_per_agent_equals_pandas(maven_warehouse: Path, pipeline: pd.DataFrame) -> None:
    marts = query(
        maven_warehouse,
        "SELECT users.user_id AS agent, sum(cards.deals_won) AS won, "
        "sum(cards.deals_lost) AS lost "
        "FROM marts.mart_rep_scorecard AS cards "
        "JOIN intermediate.int_user_employees AS users ON cards.employee_key = users.rep_key "
        "GROUP BY ALL",
    ).set_index("agent")
    marts_rate = (marts["won"] / (marts["won"] + marts["lost"])).round(10)
    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])]
    expected = closed.groupby("sales_agent")["deal_stage"].apply(lambda s: (s == "Won").mean())
    assert len(expected) == 30  # 35 agents in sales_teams.csv, 30 with closed deals
    assert marts_rate.sort_index().to_dict() == expected.round(10).sort_index().to_dict()


def test_median_days_from_engage_to_close_of_won_deals_equals_pandas(
    maven_warehouse: Path, pipeline: pd.DataFrame
) -> None:
    marts = query(
        maven_warehouse,
        "SELECT median(cycle_days) AS days FROM marts.fct_opportunities WHERE is_won",
    ).iloc[0]["days"]
    won = pipeline[pipeline["deal_stage"] == "Won"]
    assert marts == (won["close_date"] - won["engage_date"]).dt.days.median()


def test_median_days_per_agent_of_won_deals_equal_pandas(
    maven_warehouse: Path, pipeline: pd.DataFrame
) -> None:
    marts = query(
        maven_warehouse,
        "SELECT opportunities.owner_user_id AS agent, median(facts.cycle_days) AS days "
        "FROM marts.fct_opportunities AS facts "
        "JOIN raw.crm_opportunities AS opportunities USING (opportunity_id) "
        "WHERE facts.is_won GROUP BY ALL",
    ).set_index("agent")["days"]
    won = pipeline[pipeline["deal_stage"] == "Won"]
    expected = (won["close_date"] - won["engage_date"]).dt.days.groupby(won["sales_agent"])
    assert marts.sort_index().to_dict() == expected.median().sort_index().to_dict()
