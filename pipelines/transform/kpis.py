"""Headline KPIs read back from the marts: what `transform` and `demo` print."""

from __future__ import annotations

from pathlib import Path

import duckdb

HEADLINES = {
    "win rate, deals closed in the last 12 months": """
        SELECT sum(CASE WHEN is_won THEN 1 ELSE 0 END) / count(*)
        FROM marts.fct_opportunities, intermediate.int_reporting_dates d
        WHERE is_closed AND close_date > d.as_of_date - INTERVAL 365 DAY
          AND close_date <= d.as_of_date""",
    "median sales cycle (days), last 12 months": """
        SELECT median(cycle_days)
        FROM marts.fct_opportunities, intermediate.int_reporting_dates d
        WHERE is_closed AND close_date > d.as_of_date - INTERVAL 365 DAY
          AND close_date <= d.as_of_date""",
    # bookings are unknown, not zero, without CRM deals
    "quota attainment, last 12 months": """
        SELECT sum(bookings) / sum(quota_amount)
        FROM marts.mart_rep_scorecard, intermediate.int_reporting_dates d
        WHERE month_start > d.last_complete_month_end - INTERVAL 12 MONTH
          AND EXISTS (SELECT 1 FROM marts.fct_opportunities)""",
    "bookings from the top 20% of reps, last complete quarter": """
        SELECT top_20_percent_share FROM marts.mart_revenue_concentration
        WHERE period_type = 'quarter' AND is_complete_period
        ORDER BY period_start DESC LIMIT 1""",
    "voluntary attrition, trailing 12 months": """
        SELECT trailing_12m_voluntary_attrition_rate FROM marts.mart_headcount_attrition
        WHERE is_company_total ORDER BY month_start DESC LIMIT 1""",
    "regretted exits, last 12 months": """
        SELECT sum(regretted_exits) FROM marts.mart_headcount_attrition
        WHERE is_company_total
          AND month_start > (SELECT max(month_start) FROM marts.mart_headcount_attrition)
              - INTERVAL 12 MONTH""",
    "single-threaded accounts with revenue": """
        SELECT avg(CASE WHEN is_single_threaded THEN 1.0 ELSE 0.0 END)
        FROM marts.mart_account_coverage WHERE trailing_12m_revenue > 0""",
}
PERCENT = {
    "win rate, deals closed in the last 12 months",
    "quota attainment, last 12 months",
    "bookings from the top 20% of reps, last complete quarter",
    "voluntary attrition, trailing 12 months",
    "single-threaded accounts with revenue",
}


def _value(con: duckdb.DuckDBPyConnection, sql: str) -> float | None:
    """The query's single value; None when it finds no row (a mart a partial load left
    empty)."""
    row = con.execute(sql).fetchone()
    return None if row is None else row[0]


def headline_kpis(warehouse: Path) -> dict[str, float | None]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {name: _value(con, sql) for name, sql in HEADLINES.items()}


def format_kpis(values: dict[str, float | None]) -> list[str]:
    lines = []
    for name, value in values.items():
        if value is None:
            shown = "n/a"
        elif name in PERCENT:
            shown = f"{float(value):.1%}"
        else:
            shown = f"{float(value):,.0f}"
        lines.append(f"{name}: {shown}")
    return lines
