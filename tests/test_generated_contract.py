"""Generated exports follow the canonical contract: tables, columns, types and keys."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.contract import (
    ACTIVITY_TYPES,
    JOB_CHANGE_TYPES,
    SEGMENTS,
    STAGES,
    TABLES,
    TERMINATION_TYPES,
)
from pipelines.generate.summary import is_rep

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

# (child table, child column, parent table, parent column)
FOREIGN_KEYS = [
    ("crm_users", "employee_id", "hr_employees", "employee_id"),
    ("crm_users", "manager_user_id", "crm_users", "user_id"),
    ("crm_accounts", "owner_user_id", "crm_users", "user_id"),
    ("crm_account_owner_history", "account_id", "crm_accounts", "account_id"),
    ("crm_account_owner_history", "owner_user_id", "crm_users", "user_id"),
    ("crm_account_team", "account_id", "crm_accounts", "account_id"),
    ("crm_account_team", "user_id", "crm_users", "user_id"),
    ("crm_opportunities", "account_id", "crm_accounts", "account_id"),
    ("crm_opportunities", "owner_user_id", "crm_users", "user_id"),
    ("crm_opportunity_stage_history", "opportunity_id", "crm_opportunities", "opportunity_id"),
    ("crm_activities", "account_id", "crm_accounts", "account_id"),
    ("crm_activities", "opportunity_id", "crm_opportunities", "opportunity_id"),
    ("crm_activities", "owner_user_id", "crm_users", "user_id"),
    ("hr_employees", "manager_employee_id", "hr_employees", "employee_id"),
    ("hr_job_history", "employee_id", "hr_employees", "employee_id"),
    ("hr_compensation", "employee_id", "hr_employees", "employee_id"),
    ("hr_performance_reviews", "employee_id", "hr_employees", "employee_id"),
    ("hr_engagement_surveys", "employee_id", "hr_employees", "employee_id"),
    ("hr_exit_interviews", "employee_id", "hr_employees", "employee_id"),
    ("sales_quotas", "employee_id", "hr_employees", "employee_id"),
]


@pytest.mark.parametrize("name", list(TABLES))
def test_table_has_contract_columns_in_order(company_dir: Path, name: str) -> None:
    with (company_dir / f"{name}.csv").open(newline="") as file:
        header = next(csv.reader(file))
    assert header == list(TABLES[name].columns)


@pytest.mark.parametrize("name", list(TABLES))
def test_every_value_parses_as_its_documented_type(company_dir: Path, name: str) -> None:
    columns = {c: DUCKDB_TYPES[kind] for c, kind in TABLES[name].columns.items()}
    path = str(company_dir / f"{name}.csv")
    with duckdb.connect() as db:
        count = db.execute(
            f"select count(*) from read_csv(?, header=true, columns={columns!r})", [path]
        ).fetchone()[0]
    assert count == len((company_dir / f"{name}.csv").read_text().splitlines()) - 1


@pytest.mark.parametrize("name", list(TABLES))
def test_key_is_unique_and_required_columns_are_filled(
    company: dict[str, pd.DataFrame], name: str
) -> None:
    table, frame = TABLES[name], company[name]
    assert len(frame) > 0
    assert not frame.duplicated(list(table.key)).any()
    required = [c for c in table.columns if c not in table.nullable]
    assert frame[required].notna().all().all(), frame[required].isna().sum()


@pytest.mark.parametrize(("child", "column", "parent", "key"), FOREIGN_KEYS)
def test_foreign_keys_resolve(company, child: str, column: str, parent: str, key: str) -> None:
    values = company[child][column].dropna()
    missing = set(values) - set(company[parent][key])
    assert not missing, f"{child}.{column} -> {parent}.{key}: {sorted(missing)[:5]}"


def test_value_sets_are_the_contract_ones(company: dict[str, pd.DataFrame]) -> None:
    assert set(company["crm_opportunities"]["stage"]) == set(STAGES)
    assert set(company["crm_opportunity_stage_history"]["stage"]) == set(STAGES)
    assert set(company["crm_activities"]["activity_type"]) == set(ACTIVITY_TYPES)
    assert set(company["hr_employees"]["termination_type"].dropna()) == set(TERMINATION_TYPES)
    assert set(company["hr_job_history"]["change_type"]) == set(JOB_CHANGE_TYPES)
    assert set(company["crm_accounts"]["segment"]) == set(SEGMENTS)


def test_dates_are_in_a_possible_order(company: dict[str, pd.DataFrame]) -> None:
    opps, employees = company["crm_opportunities"], company["hr_employees"]
    assert (opps["close_date"] >= opps["created_at"]).all()
    left = employees.dropna(subset=["termination_date"])
    assert (left["termination_date"] >= left["hire_date"]).all()
    acts = company["crm_activities"]
    assert (acts["logged_at"] >= acts["occurred_at"]).all()


def test_stage_history_has_a_row_for_every_stage_a_deal_is_in(company) -> None:
    history = company["crm_opportunity_stage_history"]
    current = company["crm_opportunities"][["opportunity_id", "stage"]]
    joined = current.merge(history, on=["opportunity_id", "stage"], how="left", indicator=True)
    assert (joined["_merge"] == "both").all()
    first = history.sort_values("entered_at").groupby("opportunity_id")["stage"].first()
    assert (first == "Lead").all()


def test_closed_flags_agree_with_stage(company: dict[str, pd.DataFrame]) -> None:
    opps = company["crm_opportunities"]
    is_closed = opps["is_closed"] == "true"
    is_won = opps["is_won"] == "true"
    assert (is_closed == opps["stage"].isin(["Closed Won", "Closed Lost"])).all()
    assert (is_won == (opps["stage"] == "Closed Won")).all()


def test_every_rep_has_monthly_quotas(company: dict[str, pd.DataFrame]) -> None:
    quotas = company["sales_quotas"]
    assert (quotas["period_end"] - quotas["period_start"]).dt.days.between(27, 30).all()
    reps = company["hr_employees"][is_rep(company["hr_employees"])]
    assert set(reps["employee_id"]) <= set(quotas["employee_id"])
