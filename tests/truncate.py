"""Cut a warehouse's raw data back to what an export taken on a given day would hold."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

DELETE_AFTER = {
    "hr_employees": "hire_date",
    "hr_job_history": "effective_date",
    "hr_compensation": "effective_date",
    "hr_performance_reviews": "review_date",
    "hr_engagement_surveys": "survey_date",
    "hr_exit_interviews": "interview_date",
    "sales_quotas": "period_start",
    "crm_accounts": "created_at",
    "crm_account_owner_history": "valid_from",
    "crm_account_team": "start_date",
    "crm_opportunities": "created_at",
    "crm_opportunity_stage_history": "entered_at",
}
FORGET_AFTER = {
    "hr_employees": ("termination_date", "termination_type", "termination_reason"),
    "crm_account_owner_history": ("valid_to",),
    "crm_account_team": ("end_date",),
}


def truncate_raw(warehouse: Path, day: dt.date) -> None:
    """Remove rows dated after `day`, forget end dates after it, and put opportunities
    that closed after it back in the stage they were in on that day."""
    with duckdb.connect(str(warehouse)) as con:
        for table, column in DELETE_AFTER.items():
            con.execute(f"DELETE FROM raw.{table} WHERE {column} > ?", [day])
        for table, (column, *others) in FORGET_AFTER.items():
            cleared = ", ".join(f"{c} = NULL" for c in (column, *others))
            con.execute(f"UPDATE raw.{table} SET {cleared} WHERE {column} > ?", [day])
        con.execute(
            "DELETE FROM raw.crm_activities WHERE occurred_at >= ? OR logged_at >= ?",
            [day + dt.timedelta(days=1)] * 2,
        )
        con.execute(
            """UPDATE raw.crm_opportunities AS o SET is_closed = false, is_won = false,
                   stage = (SELECT h.stage FROM raw.crm_opportunity_stage_history h
                            WHERE h.opportunity_id = o.opportunity_id
                            ORDER BY h.entered_at DESC LIMIT 1)
               WHERE o.is_closed AND o.close_date > ?""",
            [day],
        )
