"""What a partial load leaves empty, and why: the notes `repradar transform`, the daily
flow and the model steps print when the CRM or the HR exports (or a key table of them)
have no rows."""

from __future__ import annotations

from pathlib import Path

from pipelines.contract import TABLES
from pipelines.warehouse import empty_raw_tables, read_only

CRM_TABLES = tuple(name for name in TABLES if name.startswith("crm_"))
HR_TABLES = tuple(name for name in TABLES if name not in CRM_TABLES)  # with sales_quotas
SALES_MARTS = (
    "sales marts (fct_opportunities, fct_stage_transitions, mart_funnel_conversion, "
    "mart_sales_cycle)"
)
PEOPLE_MARTS = "people marts (dim_employees, mart_headcount_attrition, mart_exit_reasons)"
WITHOUT_HR = (
    f"{PEOPLE_MARTS} and mart_handover_outcomes are empty, and the attrition model has no "
    "rep-month snapshots; scorecards use CRM users (no quota, job level or tenure)"
)
WITHOUT_CRM = (
    f"{SALES_MARTS}, mart_account_coverage and mart_handover_outcomes are empty; scorecards "
    "have no bookings, deals, pipeline or activities"
)
WHOLE_SOURCE = {"CRM": (CRM_TABLES, WITHOUT_CRM), "HR": (HR_TABLES, WITHOUT_HR)}
# A table without rows while the rest of its export is there: what it leaves empty.
SINGLE_TABLE = {
    "hr_employees": WITHOUT_HR,
    "sales_quotas": (
        "quota, attainment and pipeline coverage in mart_rep_scorecard are null, and only "
        "employees who own deals count as reps"
    ),
    "crm_users": "deals have no owner: no CRM scorecards, and every deal is team Unassigned",
    "crm_opportunities": f"{SALES_MARTS} are empty; scorecards have no bookings or pipeline",
    "crm_opportunity_stage_history": (
        "mart_funnel_conversion and fct_stage_transitions are empty, and deals have no "
        "furthest stage"
    ),
    "crm_accounts": "mart_account_coverage is empty; deals are in segment Unknown",
    "crm_account_owner_history": (
        "mart_handover_outcomes is empty (the account-loss model uses its prior)"
    ),
    "crm_activities": "activities, people engaged and documentation completeness are zero",
}
UNLINKED = (
    "no CRM user's employee_id is an employee in hr_employees: deals are not linked to HR "
    "records, so HR reps have no bookings and deal owners get CRM-user scorecards"
)


def users_linked_to_employees(warehouse: Path) -> bool:
    """Some CRM user's employee_id is an employee of the HR export."""
    with read_only(warehouse) as con:
        return con.execute(
            "SELECT EXISTS (SELECT 1 FROM raw.crm_users JOIN raw.hr_employees USING (employee_id))"
        ).fetchone()[0]


def data_gaps(warehouse: Path) -> list[str]:
    """One line per export (CRM, HR) with no rows at all, then per key table without rows
    in an export that is otherwise there: which marts are empty because of it; and a line
    when both are there but not linked (no CRM user is an HR employee)."""
    empty = empty_raw_tables(warehouse)
    notes, explained = [], set()
    for source, (tables, consequence) in WHOLE_SOURCE.items():
        if empty.issuperset(tables):
            notes.append(f"no {source} exports loaded: {consequence}")
            explained.update(tables)
    notes += [
        f"{table} has no rows: {consequence}"
        for table, consequence in SINGLE_TABLE.items()
        if table in empty - explained
    ]
    if not empty & {"crm_users", "hr_employees"} and not users_linked_to_employees(warehouse):
        notes.append(UNLINKED)
    return notes
