"""The analyst database (`analytics.duckdb`, issue #18): published beside the HR warehouse
after each successful build, with the analyst-facing marts and no person in them."""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.transform.publish import MIN_CELL, OTHER_REASONS, PUBLISHED
from tests.conftest import run_repradar
from tests.marts import query

PERSON_WORDS = re.compile(
    r"employee|email|salary|pay|gender|birth|probab|risk|rating|survey|manager"
)
NOT_A_PERSON = {"account_name", "stage_name"}
PEOPLE_COUNTS = {
    "mart_exit_reasons": ("exits", "regretted_exits", "would_return"),
    "mart_headcount_attrition": (
        "opening_headcount",
        "closing_headcount",
        "average_headcount",
        "hires",
        "exits",
        "voluntary_exits",
        "involuntary_exits",
        "regretted_exits",
    ),
}


@pytest.fixture(scope="module")
def analytics(built: tuple[Path, str]) -> Path:
    return built[0].with_name("analytics.duckdb")


def columns(database: Path) -> pd.DataFrame:
    return query(
        database,
        "SELECT schema_name, table_name, column_name, data_type, comment "
        "FROM duckdb_columns() WHERE database_name = current_database()",
    )


def test_a_build_publishes_the_analyst_database_beside_the_warehouse(
    built: tuple[Path, str], analytics: Path
) -> None:
    stdout = built[1]
    assert analytics.is_file()
    assert f"published the analyst database (no person in it): {analytics}" in stdout


def test_the_analyst_database_holds_the_marts_schema_only(analytics: Path) -> None:
    schemas = set(columns(analytics)["schema_name"])
    assert schemas == {"marts"}


def test_the_analyst_database_holds_exactly_the_published_marts(analytics: Path) -> None:
    tables = set(columns(analytics)["table_name"])
    assert tables == {table.name for table in PUBLISHED}
    assert not tables & {"dim_employees", "mart_rep_scorecard", "mart_risk_by_team"}


def test_no_published_column_points_at_or_describes_a_person(analytics: Path) -> None:
    published = columns(analytics)
    flagged = [
        f"{row.table_name}.{row.column_name}"
        for row in published.itertuples()
        if PERSON_WORDS.search(row.column_name)
        or (row.column_name.endswith("name") and row.column_name not in NOT_A_PERSON)
    ]
    assert flagged == []


def test_no_name_or_email_from_the_exports_is_in_any_published_value(
    analytics: Path, company: dict[str, pd.DataFrame]
) -> None:
    people = company["crm_users"][["name", "email"]].stack().tolist()
    people += company["hr_employees"][["name", "email"]].stack().tolist()
    people = {value.strip().lower() for value in people if isinstance(value, str)}
    text = columns(analytics).query("data_type == 'VARCHAR'")
    found = []
    with duckdb.connect(str(analytics), read_only=True) as con:
        for row in text.itertuples():
            values = con.execute(
                f'SELECT DISTINCT lower(trim("{row.column_name}")) FROM marts."{row.table_name}"'
            ).fetchall()
            found += [f"{row.table_name}.{row.column_name}" for (v,) in values if v in people]
    assert found == []


@pytest.mark.parametrize(
    ("table", "column"), [(t, c) for t, counts in PEOPLE_COUNTS.items() for c in counts]
)
def test_every_published_count_of_people_is_zero_or_at_least_the_minimum_cell(
    analytics: Path, table: str, column: str
) -> None:
    small = query(
        analytics, f"SELECT count(*) AS n FROM marts.{table} WHERE {column} BETWEEN 1 AND 4"
    )
    assert small["n"].iloc[0] == 0


def test_some_team_counts_are_suppressed_and_some_published(analytics: Path) -> None:
    """The rule bites on this company (else the tests above would prove nothing)."""
    exits = query(
        analytics,
        "SELECT count(*) FILTER (WHERE exits IS NULL) AS suppressed, "
        "count(*) FILTER (WHERE exits >= 0) AS published "
        "FROM marts.mart_headcount_attrition WHERE NOT is_company_total",
    ).iloc[0]
    assert exits["suppressed"] > 0 and exits["published"] > 0


@pytest.mark.parametrize("column", PEOPLE_COUNTS["mart_headcount_attrition"])
def test_no_team_count_is_the_only_one_suppressed_in_its_month(
    analytics: Path, column: str
) -> None:
    """With the company total published, one suppressed team would be total - the rest."""
    alone = query(
        analytics,
        f"SELECT month_start FROM marts.mart_headcount_attrition WHERE NOT is_company_total "
        f"GROUP BY month_start HAVING count(*) FILTER (WHERE {column} IS NULL) = 1",
    )
    assert alone.empty


def test_team_rows_carry_no_rate_that_would_give_a_small_count_away(analytics: Path) -> None:
    rates = query(
        analytics,
        "SELECT count(*) AS n FROM marts.mart_headcount_attrition WHERE NOT is_company_total "
        "AND (annualized_attrition_rate IS NOT NULL OR trailing_12m_attrition_rate IS NOT NULL)",
    )
    assert rates["n"].iloc[0] == 0


def test_exit_reasons_under_the_minimum_are_pooled_and_the_quarter_still_adds_up(
    analytics: Path, warehouse: Path
) -> None:
    published = query(analytics, "SELECT * FROM marts.mart_exit_reasons")
    hr = query(warehouse, "SELECT * FROM marts.mart_exit_reasons")
    keys = ["exit_quarter", "termination_type"]
    assert (published.loc[published["exit_reason"] != OTHER_REASONS, "exits"] >= MIN_CELL).all()
    complete = published.groupby(keys)["exits"].apply(lambda exits: exits.notna().all())
    totals = published.groupby(keys)["exits"].sum()[complete]
    assert not totals.empty
    expected = hr.groupby(keys)["exits"].sum()[totals.index]
    assert totals.astype(int).tolist() == expected.astype(int).tolist()


def test_deals_are_published_whole_without_their_owner(analytics: Path, warehouse: Path) -> None:
    published = query(analytics, "SELECT * FROM marts.fct_opportunities ORDER BY opportunity_id")
    hr = query(warehouse, "SELECT * FROM marts.fct_opportunities ORDER BY opportunity_id")
    pd.testing.assert_frame_equal(published, hr.drop(columns="owner_employee_key"))


def test_every_published_table_carries_its_dbt_description(analytics: Path) -> None:
    tables = query(
        analytics,
        "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = current_database()",
    )
    assert tables["comment"].str.len().gt(20).all(), tables


def test_published_columns_carry_their_dbt_descriptions(analytics: Path) -> None:
    amount = columns(analytics).query(
        "table_name == 'fct_opportunities' and column_name == 'amount'"
    )
    assert amount["comment"].iloc[0]


def test_the_analyst_database_is_readable_by_the_owners_group(analytics: Path) -> None:
    assert stat.S_IMODE(analytics.stat().st_mode) == 0o640


def test_a_failed_build_leaves_the_last_analyst_database_in_place(
    small_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, warehouse)
    shutil.copyfile(small_warehouse.with_name("analytics.duckdb"), tmp_path / "analytics.duckdb")
    before = (tmp_path / "analytics.duckdb").read_bytes()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("INSERT INTO raw.crm_opportunities SELECT * FROM raw.crm_opportunities LIMIT 1")
    finished = run_repradar("transform", "--warehouse", str(warehouse), check=False)
    assert finished.returncode == 1
    assert (tmp_path / "analytics.duckdb").read_bytes() == before
    assert sorted(path.name for path in tmp_path.glob(".analytics*")) == []


@pytest.mark.parametrize("column", ["opening_headcount", "closing_headcount", "average_headcount"])
def test_headcounts_are_published_as_multiples_of_the_minimum_cell(
    analytics: Path, column: str
) -> None:
    """Exact headcounts would give a suppressed exit count away: opening + hires - closing."""
    headcounts = query(analytics, f"SELECT {column} FROM marts.mart_headcount_attrition")
    published = headcounts[column].dropna()
    assert not published.empty
    assert (published % MIN_CELL == 0).all()


def test_company_rates_are_published_to_whole_percent(analytics: Path, warehouse: Path) -> None:
    rates = ["annualized_attrition_rate", "trailing_12m_attrition_rate"]
    published = query(
        analytics,
        f"SELECT month_start, {', '.join(rates)} FROM marts.mart_headcount_attrition "
        "WHERE is_company_total ORDER BY month_start",
    )
    hr = query(
        warehouse,
        f"SELECT month_start, {', '.join(rates)} FROM marts.mart_headcount_attrition "
        "WHERE is_company_total ORDER BY month_start",
    )
    for rate in rates:
        shown = published[rate].notna()
        assert shown.any()
        assert (published.loc[shown, rate] == hr.loc[shown, rate].round(2)).all()


def test_handovers_show_the_departure_month_but_not_its_date_or_kind(
    analytics: Path, warehouse: Path
) -> None:
    published = query(analytics, "SELECT * FROM marts.mart_handover_outcomes")
    hr = query(warehouse, "SELECT departed_on FROM marts.mart_handover_outcomes")
    assert not {"reason", "departed_on", "handover_on"} & set(published.columns)
    assert not published.empty
    assert sorted(published["departed_month"].astype(str)) == sorted(
        hr["departed_on"].dt.to_period("M").dt.start_time.dt.date.astype(str)
    )


def test_the_analyst_catalog_documents_every_published_table_and_nothing_else(
    warehouse: Path, tmp_path: Path
) -> None:
    finished = run_repradar(
        "docs", "--analysts", "--warehouse", str(warehouse), "--out", str(tmp_path / "docs")
    )
    page = tmp_path / "docs" / "analytics.html"
    assert f"docs: {page}" in finished.stdout
    html = page.read_text(encoding="utf-8")
    for table in PUBLISHED:
        assert f'<h2 id="{table.name}">marts.{table.name}</h2>' in html
    assert "dim_employees" not in html and "mart_rep_scorecard" not in html
    assert "restricted." not in html and "employee_key" not in html
    assert "are NULL" in html  # the suppression note of the headcount mart
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "docs").stat().st_mode) == 0o750


def test_the_analyst_catalog_says_when_there_is_no_analyst_database(tmp_path: Path) -> None:
    (tmp_path / "warehouse.duckdb").touch()
    finished = run_repradar(
        "docs", "--analysts", "--warehouse", str(tmp_path / "warehouse.duckdb"), check=False
    )
    assert finished.returncode == 1
    assert f"no analyst database at {tmp_path / 'analytics.duckdb'}" in finished.stderr
