"""Partial exports end to end, through the real CLI on real DuckDB files: a company with
only its CRM exports, one with only its HR exports, and one whose CRM leaves fields empty
(deals without an account, never engaged, open without a close date or an amount).

Company: the small seed-3 company (20 reps, 12 months, as of 2026-10-31), cut down.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from pipelines.cli import app
from pipelines.pseudonyms import CRM_USER, pseudonym
from pipelines.transform.gaps import UNLINKED, data_gaps
from tests.conftest import AS_OF, TEST_PSEUDONYM_KEY, ingest_cli, read_exports, run_repradar
from tests.marts import query

pytestmark = pytest.mark.slow

AS_OF_DAY = pd.Timestamp(AS_OF)
HR_FILES = ("hr_*.csv", "sales_quotas.csv")
BLANK_ACCOUNT, BLANK_CREATED, BLANK_CLOSE = 6, 6, 8
POLICIES = """policies:
  crm_opportunities.account_id.not_null: warn
  crm_opportunities.created_at.not_null: warn
  crm_opportunities.close_date.not_null: warn
  crm_opportunities.amount.not_null: warn
  crm_opportunities.lead_source.not_null: warn
  crm_accounts.owner_user_id.not_null: warn
  crm_accounts.created_at.not_null: warn
  crm_accounts.is_key_account.not_null: warn
  crm_accounts.industry.not_null: warn
  crm_users.email.not_null: warn
"""


def crm_user_key(user_id: str) -> str:
    """The scorecard key of a rep the HR export does not know (README: Partial data)."""
    return pseudonym(TEST_PSEUDONYM_KEY.encode(), CRM_USER, user_id)


def copy_without(source: Path, out: Path, patterns: tuple[str, ...]) -> Path:
    shutil.copytree(source, out, dirs_exist_ok=True)
    for pattern in patterns:
        for path in out.glob(pattern):
            path.unlink()
    return out


def succeeds(*args: str) -> Result:
    """A quick step in-process: the same CLI code, output and exit code, no start-up."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def build(source: Path, warehouse: Path, *ingest_options: str) -> subprocess.CompletedProcess:
    """Ingest and transform through the CLI; returns the finished `repradar transform`."""
    loaded = ingest_cli(source, warehouse, *ingest_options)
    assert loaded.exit_code == 0, loaded.output
    return run_repradar("transform", "--warehouse", str(warehouse))


@pytest.fixture(scope="module")
def exports(small_company_dir: Path) -> dict[str, pd.DataFrame]:
    return read_exports(small_company_dir)


@pytest.fixture(scope="module")
def crm_only_dir(small_company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_without(small_company_dir, tmp_path_factory.mktemp("crm-only"), HR_FILES)


@pytest.fixture(scope="module")
def crm_only(
    crm_only_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess]:
    """The CRM-only company ingested and transformed: (warehouse, the transform run)."""
    warehouse = tmp_path_factory.mktemp("crm-only-warehouse") / "warehouse.duckdb"
    return warehouse, build(crm_only_dir, warehouse)


@pytest.fixture(scope="module")
def hr_only(
    small_company_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess]:
    """The company without its CRM exports (quotas kept), ingested and transformed."""
    source = copy_without(small_company_dir, tmp_path_factory.mktemp("hr-only"), ("crm_*.csv",))
    warehouse = tmp_path_factory.mktemp("hr-only-warehouse") / "warehouse.duckdb"
    return warehouse, build(source, warehouse)


def _blank(frame: pd.DataFrame, rows: pd.Index, *columns: str) -> None:
    frame.loc[rows, list(columns)] = ""


@pytest.fixture(scope="module")
def blanked(small_company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The company with empty CRM cells as real exports have them, loaded with a mapping
    that lets them through (policy warn) and transformed. Holds the warehouse, the
    transform run, the blanked opportunity ids per field and the user without employee_id."""
    out = tmp_path_factory.mktemp("blanked")
    shutil.copytree(small_company_dir, out, dirs_exist_ok=True)
    deals = pd.read_csv(out / "crm_opportunities.csv", dtype=str, keep_default_na=False)
    won = deals.index[deals["is_won"] == "true"]
    closed = deals.index[deals["is_closed"] == "true"]
    still_open = deals.index[deals["is_closed"] == "false"]
    no_account = won[-BLANK_ACCOUNT:]  # recent wins: they count in the scorecard
    no_created = closed[:BLANK_CREATED]
    no_close = still_open[:BLANK_CLOSE]
    _blank(deals, no_account, "account_id")
    _blank(deals, no_created, "created_at")
    _blank(deals, no_close, "close_date", "amount")
    _blank(deals, deals.index[::50], "lead_source")
    deals.to_csv(out / "crm_opportunities.csv", index=False)
    accounts = pd.read_csv(out / "crm_accounts.csv", dtype=str, keep_default_na=False)
    _blank(accounts, accounts.index[:5], "owner_user_id", "created_at", "is_key_account")
    _blank(accounts, accounts.index[5:10], "industry")
    accounts.to_csv(out / "crm_accounts.csv", index=False)
    users = pd.read_csv(out / "crm_users.csv", dtype=str, keep_default_na=False)
    seller = deals.loc[no_account[0], "owner_user_id"]
    _blank(users, users.index[users["user_id"] == seller], "employee_id", "email")
    _blank(users, users.index[:3], "manager_user_id")
    users.to_csv(out / "crm_users.csv", index=False)
    mapping = tmp_path_factory.mktemp("blanked-mapping") / "mapping.yaml"
    mapping.write_text(POLICIES, encoding="utf-8")
    warehouse = tmp_path_factory.mktemp("blanked-warehouse") / "warehouse.duckdb"
    ids = deals["opportunity_id"]
    return {
        "warehouse": warehouse,
        "transform": build(out, warehouse, "--mapping", str(mapping)),
        "no_account": set(ids[no_account]),
        "no_created": set(ids[no_created]),
        "no_close": set(ids[no_close]),
        "seller": seller,
    }


def won_in_window(exports: dict[str, pd.DataFrame], start: pd.Timestamp) -> pd.DataFrame:
    """Won deals closed from the first reporting month to the as-of date."""
    deals = exports["crm_opportunities"]
    return deals[
        (deals["is_won"] == "true")
        & (deals["close_date"] >= start)
        & (deals["close_date"] <= AS_OF_DAY)
    ]


def count(warehouse: Path, table: str) -> int:
    return int(query(warehouse, f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])


# --- only CRM exports -------------------------------------------------------------------


def test_crm_only_transform_says_which_marts_are_empty_and_why(crm_only) -> None:
    _, transform = crm_only
    assert "partial data: no HR exports loaded:" in transform.stdout
    assert "mart_headcount_attrition" in transform.stdout
    assert "scorecards use CRM users" in transform.stdout


def test_crm_only_sales_and_account_marts_hold_every_deal_and_account(crm_only, exports) -> None:
    warehouse, _ = crm_only
    assert count(warehouse, "marts.fct_opportunities") == len(exports["crm_opportunities"])
    assert count(warehouse, "marts.fct_stage_transitions") == len(
        exports["crm_opportunity_stage_history"]
    )
    assert count(warehouse, "marts.mart_account_coverage") == len(exports["crm_accounts"])
    for mart in ("mart_funnel_conversion", "mart_sales_cycle", "mart_revenue_concentration"):
        assert count(warehouse, f"marts.{mart}") > 0, mart
    for mart in ("dim_employees", "mart_headcount_attrition", "mart_exit_reasons"):
        assert count(warehouse, f"marts.{mart}") == 0, mart


def test_crm_only_scorecard_deals_and_bookings_per_rep_match_the_exports(crm_only, exports) -> None:
    warehouse, _ = crm_only
    start = exports["crm_opportunities"]["created_at"].min().to_period("M").to_timestamp()
    won = won_in_window(exports, start)
    expected = (
        won.assign(
            employee_key=won["owner_user_id"].map(crm_user_key), amount=won["amount"].astype(float)
        )
        .groupby("employee_key")[["amount"]]
        .agg(["size", "sum"])
    )
    expected.columns = ["deals_won", "bookings"]
    mart = query(
        warehouse,
        "SELECT employee_key, sum(deals_won) AS deals_won, sum(bookings) AS bookings "
        "FROM marts.mart_rep_scorecard GROUP BY employee_key HAVING sum(deals_won) > 0",
    ).set_index("employee_key")
    joined = expected.join(mart.astype(float), rsuffix="_mart", how="outer")
    assert len(joined) == len(expected) > 10
    assert (joined["deals_won"] == joined["deals_won_mart"]).all()
    assert (joined["bookings"] - joined["bookings_mart"]).abs().max() < 0.01


def test_crm_only_scorecard_keys_are_hashed_user_ids_with_crm_teams(crm_only, exports) -> None:
    warehouse, _ = crm_only
    scorecard = query(
        warehouse,
        "SELECT DISTINCT employee_key, team, has_hr_record, quota_amount "
        "FROM marts.mart_rep_scorecard",
    )
    users = exports["crm_users"]
    owners = users[users["user_id"].isin(exports["crm_opportunities"]["owner_user_id"])]
    assert set(scorecard["employee_key"]) == set(owners["user_id"].map(crm_user_key))
    teams = dict(zip(owners["user_id"].map(crm_user_key), owners["team"], strict=True))
    assert (scorecard["team"] == scorecard["employee_key"].map(teams)).all()
    assert not scorecard["has_hr_record"].any() and scorecard["quota_amount"].isna().all()


@pytest.mark.parametrize("step", ["train", "score"])
def test_crm_only_model_steps_skip_for_lack_of_hr_data(crm_only, step: str) -> None:
    warehouse, _ = crm_only
    finished = succeeds(step, "--warehouse", str(warehouse))
    assert f"{step} skipped:" in finished.stdout
    assert "no HR employees loaded" in finished.stdout


def test_crm_only_report_says_which_sections_need_hr_data(crm_only) -> None:
    warehouse, _ = crm_only
    finished = succeeds("report", "--warehouse", str(warehouse))
    assert "report section skipped: Headcount and attrition (no HR employees loaded)" in (
        finished.stdout
    )
    assert "report section skipped: Funnel" not in finished.stdout
    [html] = (warehouse.parent / "reports" / "leadership").glob("*.html")
    assert "The biggest drop is at" in html.read_text(encoding="utf-8")


def test_crm_only_alerts_say_what_they_cannot_alert_on(crm_only) -> None:
    warehouse, _ = crm_only
    finished = succeeds("alerts", "send", "--warehouse", str(warehouse))
    assert "0 new alerts recorded" in finished.stdout
    assert "team alerts skipped: no HR employees loaded" in finished.stdout


def test_the_daily_run_of_a_crm_only_company_succeeds_and_says_what_it_skipped(
    crm_only_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    finished = run_repradar("run", "--source", str(crm_only_dir), "--warehouse", str(warehouse))
    assert "partial data: no HR exports loaded" in finished.stdout
    assert "train skipped: no HR employees loaded" in finished.stdout
    assert "score skipped:" in finished.stdout
    assert count(warehouse, "marts.mart_rep_scorecard") > 0


# --- only HR exports --------------------------------------------------------------------


def test_hr_only_transform_says_the_sales_marts_are_empty(hr_only) -> None:
    _, transform = hr_only
    assert "partial data: no CRM exports loaded:" in transform.stdout
    assert "mart_funnel_conversion" in transform.stdout


def test_hr_only_headcount_matches_the_exports(hr_only, exports) -> None:
    warehouse, _ = hr_only
    last = query(
        warehouse,
        "SELECT month_end, closing_headcount FROM marts.mart_headcount_attrition "
        "WHERE is_company_total ORDER BY month_start DESC LIMIT 1",
    ).iloc[0]
    people = exports["hr_employees"]
    end = pd.Timestamp(last["month_end"])
    employed = (people["hire_date"] <= end) & (
        people["termination_date"].isna() | (people["termination_date"] > end)
    )
    assert last["closing_headcount"] == employed.sum() > 0
    assert count(warehouse, "marts.mart_exit_reasons") > 0
    assert count(warehouse, "intermediate.int_rep_month_snapshots") > 0


@pytest.mark.parametrize("step", ["train", "score"])
def test_hr_only_model_steps_skip_with_the_reason(hr_only, step: str) -> None:
    """12 months hold no voluntary exit with a full outcome: nothing to learn yet."""
    warehouse, _ = hr_only
    finished = succeeds(step, "--warehouse", str(warehouse))
    assert f"{step} skipped:" in finished.stdout
    assert "voluntary exits" in finished.stdout


# --- CRM fields left empty -------------------------------------------------------------


def test_transform_passes_every_test_on_empty_crm_fields(blanked) -> None:
    transform = blanked["transform"]
    assert transform.returncode == 0 and " tests on duckdb" in transform.stdout
    assert "partial data" not in transform.stdout  # both exports are there


def test_fct_opportunities_keeps_every_deal_and_flags_what_is_unknown(blanked, exports) -> None:
    deals = query(
        blanked["warehouse"],
        "SELECT opportunity_id, is_closed, cycle_days, segment, is_account_unknown, "
        "is_created_on_unknown, is_close_date_unknown, is_amount_unknown "
        "FROM marts.fct_opportunities",
    ).set_index("opportunity_id")
    assert set(deals.index) == set(exports["crm_opportunities"]["opportunity_id"])
    assert set(deals.index[deals["is_account_unknown"]]) == blanked["no_account"]
    assert set(deals.index[deals["is_created_on_unknown"]]) == blanked["no_created"]
    assert set(deals.index[deals["is_close_date_unknown"]]) == blanked["no_close"]
    assert set(deals.index[deals["is_amount_unknown"]]) == blanked["no_close"]
    assert deals.loc[list(blanked["no_created"]), "cycle_days"].isna().all()
    assert (
        deals.loc[deals["is_closed"] & ~deals["is_created_on_unknown"], "cycle_days"].notna().all()
    )
    assert (deals.loc[list(blanked["no_account"]), "segment"] == "Unknown").all()


def test_deals_without_an_account_count_in_the_funnel(blanked, exports) -> None:
    history = exports["crm_opportunity_stage_history"]
    first_entry = (
        history[history["opportunity_id"].isin(blanked["no_account"])]
        .groupby("opportunity_id")["entered_at"]
        .min()
    )
    start = exports["sales_quotas"]["period_start"].min()
    expected = first_entry.between(start, AS_OF_DAY).sum()
    entered = query(
        blanked["warehouse"],
        "SELECT sum(entered) AS entered FROM marts.mart_funnel_conversion "
        "WHERE segment = 'Unknown' AND stage_order = 1",
    )["entered"].iloc[0]
    assert entered == expected > 0


def test_deals_without_an_account_count_in_the_scorecard(blanked) -> None:
    booked = query(
        blanked["warehouse"],
        "SELECT o.opportunity_id FROM marts.fct_opportunities o "
        "JOIN marts.mart_rep_scorecard s ON s.employee_key = o.owner_employee_key "
        "AND s.month_start = o.close_month AND s.deals_won > 0 WHERE o.is_account_unknown",
    )
    assert set(booked["opportunity_id"]) == blanked["no_account"]


def test_a_crm_user_without_an_employee_id_gets_a_crm_user_scorecard(blanked, exports) -> None:
    seller = blanked["seller"]
    scorecard = query(
        blanked["warehouse"],
        "SELECT employee_key, has_hr_record, sum(deals_won) AS deals_won "
        "FROM marts.mart_rep_scorecard GROUP BY ALL",
    ).set_index("employee_key")
    assert not scorecard.loc[crm_user_key(seller), "has_hr_record"]
    start = exports["sales_quotas"]["period_start"].min()
    won = won_in_window(exports, start)
    assert (
        scorecard.loc[crm_user_key(seller), "deals_won"] == (won["owner_user_id"] == seller).sum()
    )


# --- both exports, but not linked -----------------------------------------------------


def test_crm_users_not_linked_to_hr_employees_are_reported(blanked, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(blanked["warehouse"], warehouse)
    assert UNLINKED not in data_gaps(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE raw.crm_users SET employee_id = NULL")
    assert UNLINKED in data_gaps(warehouse)
