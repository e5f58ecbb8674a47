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

from pipelines.transform.build import RISK_SCORES_TAG, build_duckdb
from pipelines.transform.publish import MIN_CELL, OTHER_REASONS, PUBLISHED, analytics_path
from tests.conftest import run_repradar
from tests.marts import query

PERSON_WORDS = re.compile(
    r"employee|email|salary|pay|gender|birth|probab|risk|rating|survey|manager"
)
NOT_A_PERSON = {"account_name", "stage_name"}
# Team aggregates of risk, in bands: what leadership sees (never a person's risk).
TEAM_RISK_BANDS = {"high_risk_reps_band", "expected_exits_band", "revenue_at_risk_rounded"}
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
    "mart_quota_attainment": ("reps", "reps_with_quota"),
    "mart_risk_by_team": ("reps",),
}


@pytest.fixture(scope="module")
def analytics(built: tuple[Path, str]) -> Path:
    """The analyst database of a built company (transformed, never scored)."""
    return built[0].with_name("analytics.duckdb")


@pytest.fixture(scope="module")
def scored_analytics(operated: Path) -> Path:
    """The analyst database after a daily run (built and scored): every published table."""
    return analytics_path(operated)


@pytest.fixture(params=["built", "scored"])
def any_analytics(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("analytics" if request.param == "built" else "scored_analytics")


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
    assert tables == {table.name for table in PUBLISHED if not table.needs_scores}
    assert not tables & {"dim_employees", "mart_rep_scorecard", "mart_risk_by_team"}


def test_after_scoring_it_also_holds_risk_by_team_in_bands_only(scored_analytics: Path) -> None:
    assert set(columns(scored_analytics)["table_name"]) == {table.name for table in PUBLISHED}
    risk = query(scored_analytics, "SELECT * FROM marts.mart_risk_by_team")
    assert set(risk.columns) == {
        "team",
        "is_company_total",
        "month_end",
        "horizon_months",
        "reps",
        "is_suppressed",
        *TEAM_RISK_BANDS,
    }
    assert risk["expected_exits_band"].notna().any()
    assert (risk["reps"].dropna() % MIN_CELL == 0).all()


def test_no_published_column_points_at_or_describes_a_person(any_analytics: Path) -> None:
    published = columns(any_analytics)
    flagged = [
        f"{row.table_name}.{row.column_name}"
        for row in published.itertuples()
        if (
            PERSON_WORDS.search(row.column_name)
            and not (row.table_name == "mart_risk_by_team" and row.column_name in TEAM_RISK_BANDS)
        )
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
    any_analytics: Path, table: str, column: str
) -> None:
    """The small-cell census of every analyst mart that counts people."""
    if table not in set(columns(any_analytics)["table_name"]):
        pytest.skip(f"{table} is published once reps are scored")
    small = query(
        any_analytics, f"SELECT count(*) AS n FROM marts.{table} WHERE {column} BETWEEN 1 AND 4"
    )
    assert small["n"].iloc[0] == 0


def test_the_census_covers_every_published_count_of_people(scored_analytics: Path) -> None:
    """A published integer column is a count of people unless it counts something else."""
    counts_of_things = {
        "fct_opportunities",
        "fct_stage_transitions",
        "mart_funnel_conversion",
        "mart_sales_cycle",
        "mart_account_coverage",
        "mart_handover_outcomes",
        "mart_revenue_concentration",  # reps and top_reps: see the README (20/80)
    }
    integers = columns(scored_analytics).query("data_type in ('BIGINT', 'INTEGER', 'HUGEINT')")
    uncounted = [
        f"{row.table_name}.{row.column_name}"
        for row in integers.itertuples()
        if row.table_name not in counts_of_things
        and row.column_name not in PEOPLE_COUNTS.get(row.table_name, ())
        and row.column_name not in ("band_order", "horizon_months")  # an order, a duration
    ]
    assert uncounted == []


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


@pytest.mark.parametrize("column", ["exits", "voluntary_exits", "hires"])
def test_the_suppressed_teams_of_a_month_hold_at_least_the_minimum_cell_together(
    analytics: Path, warehouse: Path, column: str
) -> None:
    """Company total minus the teams shown is what the suppressed teams hold together: it
    must not be a small count either (two teams of 1 and 2 exits would show as 3)."""
    published = query(
        analytics,
        f"SELECT month_start, team, {column} AS shown FROM marts.mart_headcount_attrition "
        "WHERE NOT is_company_total",
    )
    exact = query(
        warehouse,
        f"SELECT month_start, team, {column} AS exact FROM marts.mart_headcount_attrition "
        "WHERE NOT is_company_total",
    )
    cells = published.merge(exact, on=["month_start", "team"])
    hidden = cells[cells["shown"].isna()].groupby("month_start")["exact"].agg(["count", "sum"])
    assert not hidden.empty
    assert (hidden["count"] >= 2).all()
    company_small = query(
        analytics,
        f"SELECT month_start FROM marts.mart_headcount_attrition "
        f"WHERE is_company_total AND {column} IS NULL",
    )["month_start"]
    together = hidden.drop(index=company_small, errors="ignore")["sum"]
    assert ((together == 0) | (together >= MIN_CELL)).all(), together[together < MIN_CELL]


def test_no_attainment_band_is_the_only_one_suppressed_in_its_window(analytics: Path) -> None:
    alone = query(
        analytics,
        "SELECT window_end_month FROM marts.mart_quota_attainment GROUP BY window_end_month "
        "HAVING count(*) FILTER (WHERE reps IS NULL) = 1",
    )
    assert alone.empty


def test_attainment_bands_shown_add_up_with_the_hidden_ones_to_the_window(
    analytics: Path, warehouse: Path
) -> None:
    published = query(analytics, "SELECT * FROM marts.mart_quota_attainment")
    exact = query(warehouse, "SELECT * FROM marts.mart_quota_attainment")
    assert published["reps"].isna().any() and published["reps"].notna().any()
    cells = published.merge(exact, on="attainment_row_id", suffixes=("", "_exact"))
    shown = cells[cells["reps"].notna()]
    assert (shown["reps"] == shown["reps_exact"]).all()
    hidden = cells[cells["reps"].isna()].groupby("window_end_month")["reps_exact"].sum()
    assert (hidden >= MIN_CELL).all()
    windows = exact.groupby("window_end_month")["reps"].sum()
    assert (windows == exact.groupby("window_end_month")["reps_with_quota"].first()).all()


def test_moving_one_rep_between_teams_does_not_show_their_risk_to_analysts(
    operated: Path, tmp_path: Path
) -> None:
    """The review's differencing case: in the HR mart the team sums change by exactly the
    rep's probability; the analyst database's bands and rounded amounts do not give it."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(operated, warehouse)
    shutil.copyfile(analytics_path(operated), analytics_path(warehouse))
    before_hr = query(warehouse, "SELECT * FROM marts.mart_risk_by_team").set_index("team")
    before = query(analytics_path(warehouse), "SELECT * FROM marts.mart_risk_by_team")
    shown = before_hr[~before_hr["is_suppressed"] & ~before_hr["is_company_total"]]
    source, target = shown.index[0], shown.index[1]
    rep = query(
        warehouse,
        "SELECT employee_key, probability, revenue_at_risk FROM ml.rep_attrition_scores "
        "WHERE team = ? AND score_run_id = (SELECT max(score_run_id) FROM ml.score_runs) "
        "ORDER BY probability DESC LIMIT 1",
        [source],
    ).iloc[0]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "UPDATE ml.rep_attrition_scores SET team = ? WHERE employee_key = ?",
            [target, rep["employee_key"]],
        )
    assert build_duckdb(warehouse, select=[f"tag:{RISK_SCORES_TAG}"]).success
    after_hr = query(warehouse, "SELECT * FROM marts.mart_risk_by_team").set_index("team")
    moved = after_hr.loc[target, "expected_exits_3m"] - before_hr.loc[target, "expected_exits_3m"]
    assert moved == pytest.approx(rep["probability"])  # the attack works on the HR mart
    after = query(analytics_path(warehouse), "SELECT * FROM marts.mart_risk_by_team")
    assert set(after.columns) == set(before.columns)
    changes = before.set_index("team").join(after.set_index("team"), rsuffix="_after")
    differences = (
        changes["revenue_at_risk_rounded_after"] - changes["revenue_at_risk_rounded"]
    ).abs()
    assert not (differences - rep["revenue_at_risk"]).abs().lt(0.01).any()
    numeric = after.select_dtypes("number").columns
    for column in numeric:
        assert not after[column].sub(rep["probability"]).abs().lt(1e-4).any(), column


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
        shown = f'<h2 id="{table.name}">marts.{table.name}</h2>' in html
        assert shown != table.needs_scores, table.name  # this company was never scored
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
