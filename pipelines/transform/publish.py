"""The analyst database (`analytics.duckdb` beside the HR warehouse): the analyst-facing
marts with no person in them, published whole after every successful build.

What is published (`PUBLISHED`) is an allow-list; everything else in the warehouse (raw,
quarantine, ops, staging, intermediate, restricted, ml, person-level marts) is not:
- deals, stage transitions, funnel, sales cycle, revenue concentration, account coverage
  and handover outcomes, without the columns that point at a person (`*_employee_key`;
  for handovers also the departure's date and kind, kept as its month);
- counts that describe people (exits by reason, hires and exits by team and month) only
  as cells of at least `MIN_CELL` people: exit reasons under that size are pooled into one
  row per quarter and termination type; a team's monthly count under it is suppressed
  (NULL), together with the smallest other teams of that month that hold someone until
  at least two are suppressed and they hold `MIN_CELL` people together (else the company
  total minus the teams shown would give one, or their sum, away); headcounts are rounded to a
  multiple of `MIN_CELL` and rates to whole percent, so that a suppressed count cannot be
  worked back from them (opening + hires - closing, or two trailing rates); rates are
  published only where the count they are made of is;
- reps by quota attainment band only as cells of at least `MIN_CELL` reps (with more
  bands suppressed as for teams), and risk by team only in bands
  and rounded (`mart_risk_by_team`, once reps have been scored);
- not at all: `dim_employees` and `mart_rep_scorecard` (one row per person) and the
  restricted risk marts.

The file is written beside the warehouse as a partial file, given `REPRADAR_SHARED_MODE`
and renamed into place, so readers see the last whole publication or the new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.file_modes import give_shared_mode
from pipelines.partial_files import partial_path, remove_left_over_partials
from pipelines.warehouse import fsync_directory, lit, q, remove_database

ANALYTICS_FILE = "analytics.duckdb"
MIN_CELL = 5
RATE_DECIMALS = 2  # rates are fractions: 0.17 is 17 %
OTHER_REASONS = "other reasons (fewer than 5 exits each)"


@dataclass(frozen=True)
class Published:
    """One table of the analyst database: its SELECT from the warehouse (attached as
    `hr`) and what the analyst should know about how it differs from the HR mart."""

    name: str
    select: Callable[[], str]
    note: str = ""
    needs_scores: bool = False  # built by `repradar score`: published once it exists


def _without(table: str, *columns: str) -> Callable[[], str]:
    excluded = ", ".join(q(column) for column in columns)
    clause = f" EXCLUDE ({excluded})" if columns else ""
    return lambda: f"SELECT *{clause} FROM hr.marts.{q(table)}"


def _small(expression: str) -> str:
    return f"({expression} BETWEEN 1 AND {MIN_CELL - 1})"


def _suppressed(column: str) -> str:
    """The count, NULL when it is from 1 to MIN_CELL - 1."""
    return f"CASE WHEN {_small(column)} THEN NULL ELSE {column} END AS {column}"


def _cell_flags(column: str, group: str, tiebreak: str) -> str:
    """Window columns for `_hidden`: whether a cell of `column` is small, whether any cell
    of its group is, its rank in the order cells are hidden in (small ones first, then
    the smallest that hold someone, empty ones last) and the people in the cells ranked
    before it."""
    order = (
        f"PARTITION BY {group} ORDER BY {_small(column)} DESC, {column} = 0, {column}, {tiebreak}"
    )
    return (
        f"{_small(column)} AS small_{column}, "
        f"bool_or({_small(column)}) OVER (PARTITION BY {group}) AS group_small_{column}, "
        f"row_number() OVER ({order}) AS rank_{column}, "
        f"coalesce(sum({column}) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 "
        f"PRECEDING), 0) AS before_{column}"
    )


def _hidden(column: str) -> str:
    """The cell is suppressed: it is small, or its group has a small cell and it is among
    the cells hidden with it until at least two are and they hold at least MIN_CELL people
    together (so the group's published total minus the cells shown gives away no small
    count, of one cell or of the hidden ones together)."""
    return (
        f"(small_{column} OR (group_small_{column} AND "
        f"(rank_{column} <= 2 OR before_{column} < {MIN_CELL})))"
    )


def _exit_reasons() -> str:
    """Reasons with at least MIN_CELL exits in a quarter and termination type as they are
    (their regretted and would-return counts only when 0 or at least MIN_CELL), the others
    pooled into one row whose counts show only when the pool reaches MIN_CELL."""
    kept = ", ".join(_suppressed(column) for column in ("exits", "regretted_exits", "would_return"))
    pooled = ", ".join(
        f"CASE WHEN sum({column}) >= {MIN_CELL} THEN sum({column}) END AS {column}"
        for column in ("exits", "regretted_exits", "would_return")
    )
    return f"""
        WITH reasons AS (SELECT * FROM hr.marts.mart_exit_reasons)
        SELECT exit_reason_row_id, exit_quarter, exit_reason, termination_type, {kept}
        FROM reasons WHERE exits >= {MIN_CELL}
        UNION ALL
        SELECT md5(concat_ws('|', exit_quarter, termination_type, 'pooled')),
            exit_quarter, {lit(OTHER_REASONS)}, termination_type, {pooled}
        FROM reasons WHERE exits < {MIN_CELL}
        GROUP BY exit_quarter, termination_type"""


def _handover_outcomes() -> str:
    """The handovers without the people in them: no employee keys, and the departure by
    month only (`departed_month`), not its date or its kind: a departure date and
    'involuntary' would tell colleagues who was let go."""
    return """
        SELECT * EXCLUDE (departed_employee_key, successor_employee_key, reason,
            departed_on, handover_on),
            CAST(date_trunc('month', departed_on) AS DATE) AS departed_month
        FROM hr.marts.mart_handover_outcomes"""


HEADCOUNTS = ("opening_headcount", "closing_headcount", "average_headcount")
EVENT_COUNTS = ("hires", "exits", "voluntary_exits", "involuntary_exits", "regretted_exits")
RATES = {  # a rate and the count it is made of
    "annualized_attrition_rate": "exits",
    "annualized_voluntary_attrition_rate": "voluntary_exits",
}
TRAILING_RATES = {
    "trailing_12m_attrition_rate": "exits",
    "trailing_12m_voluntary_attrition_rate": "voluntary_exits",
}


def _rounded_headcount(column: str) -> str:
    """A headcount to the nearest multiple of MIN_CELL, so that a suppressed count of
    exits cannot be worked back as opening + hires - closing."""
    rounded = f"round({column} / {MIN_CELL}) * {MIN_CELL}"
    return rounded if column == "average_headcount" else f"CAST({rounded} AS BIGINT)"


def _rounded_rate(rate: str) -> str:
    """A rate to whole percent, so that neither the exact headcount under it nor a
    month's suppressed exits (the difference of two trailing rates) can be worked out."""
    return f"round({rate}, {RATE_DECIMALS})"


def _headcount_attrition() -> str:
    """Team rows: team sizes and event counts from 1 to MIN_CELL - 1 suppressed, with
    more teams of the month when needed (`_hidden`), team sizes rounded;
    rates, tenure and trailing rates are not published for teams. Company rows:
    headcounts rounded, counts from 1 to MIN_CELL - 1 suppressed, each rate (to whole
    percent) only when its count is published (the trailing rates when the trailing 12
    months hold at least MIN_CELL such exits)."""
    team_flags = ", ".join(
        _cell_flags(column, "month_start", "team") for column in (*HEADCOUNTS, *EVENT_COUNTS)
    )
    team_values = ", ".join(
        f"CASE WHEN {_hidden(column)} THEN NULL "
        f"ELSE {_rounded_headcount(column) if column in HEADCOUNTS else column} END AS {column}"
        for column in (*HEADCOUNTS, *EVENT_COUNTS)
    )
    trailing_sums = ", ".join(
        f"sum({count}) OVER (ORDER BY month_start ROWS BETWEEN 11 PRECEDING AND CURRENT ROW) "
        f"AS trailing_{rate}"
        for rate, count in TRAILING_RATES.items()
    )
    company_values = ", ".join(
        [
            *(f"{_rounded_headcount(column)} AS {column}" for column in HEADCOUNTS),
            *(_suppressed(column) for column in EVENT_COUNTS),
            *(
                f"CASE WHEN {_small(count)} THEN NULL ELSE {_rounded_rate(rate)} END AS {rate}"
                for rate, count in RATES.items()
            ),
            *(
                f"CASE WHEN trailing_{rate} < {MIN_CELL} THEN NULL "
                f"ELSE {_rounded_rate(rate)} END AS {rate}"
                for rate in TRAILING_RATES
            ),
        ]
    )
    no_rates = ", ".join(f"CAST(NULL AS DOUBLE) AS {rate}" for rate in (*RATES, *TRAILING_RATES))
    keys = "headcount_row_id, month_start, month_end, team, is_company_total"
    return f"""
        WITH company AS (
            SELECT *, {trailing_sums} FROM hr.marts.mart_headcount_attrition
            WHERE is_company_total),
        flagged AS (
            SELECT *, {team_flags} FROM hr.marts.mart_headcount_attrition
            WHERE NOT is_company_total)
        SELECT {keys}, {company_values}, has_full_trailing_12m,
            average_tenure_months
        FROM company
        UNION ALL BY NAME
        SELECT {keys}, {team_values}, {no_rates}, has_full_trailing_12m,
            CAST(NULL AS DOUBLE) AS average_tenure_months
        FROM flagged"""


def _quota_attainment() -> str:
    """Reps per attainment band and window: a count from 1 to MIN_CELL - 1 is NULL, with
    more bands of the window when needed (`_hidden`: the window's total of reps would give
    a lone one away); the window's totals only when it has at least MIN_CELL reps with a
    quota."""
    totals = ", ".join(
        f"CASE WHEN reps_with_quota < {MIN_CELL} THEN NULL ELSE {column} END AS {column}"
        for column in ("reps_with_quota", "bookings", "quota_amount", "attainment")
    )
    return f"""
        WITH flagged AS (
            SELECT *, {_cell_flags("reps", "window_end_month", "band_order")}
            FROM hr.marts.mart_quota_attainment)
        SELECT attainment_row_id, window_start_month, window_end_month, attainment_band,
            band_order, CASE WHEN {_hidden("reps")} THEN NULL ELSE reps END AS reps,
            {totals}
        FROM flagged"""


def _risk_by_team() -> str:
    """Risk by team as leadership sees it: bands of high-risk reps and expected exits and
    revenue at risk to two significant figures (the mart's own suppression of small
    teams kept), team sizes rounded to a multiple of MIN_CELL; none of the exact sums,
    which change by one rep's probability when that rep changes team."""
    return f"""
        SELECT team, is_company_total, month_end,
            CAST(round(reps / {MIN_CELL}) * {MIN_CELL} AS BIGINT) AS reps,
            horizon_months, high_risk_reps_band, expected_exits_band, revenue_at_risk_rounded,
            is_suppressed
        FROM hr.marts.mart_risk_by_team"""


PUBLISHED = (
    Published(
        "fct_opportunities",
        _without("fct_opportunities", "owner_employee_key"),
        "Without the owner's employee key.",
    ),
    Published(
        "fct_stage_transitions",
        _without("fct_stage_transitions", "owner_employee_key"),
        "Without the owner's employee key.",
    ),
    Published("mart_funnel_conversion", _without("mart_funnel_conversion")),
    Published("mart_sales_cycle", _without("mart_sales_cycle")),
    Published("mart_revenue_concentration", _without("mart_revenue_concentration")),
    Published(
        "mart_account_coverage",
        _without("mart_account_coverage", "owner_employee_key"),
        "Without the owner's employee key.",
    ),
    Published(
        "mart_handover_outcomes",
        _handover_outcomes,
        "Without the departed rep's and the successor's employee keys; the departure only "
        "by month and not by kind (voluntary or not).",
    ),
    Published(
        "mart_exit_reasons",
        _exit_reasons,
        f"Reasons with fewer than {MIN_CELL} exits in a quarter and termination type are "
        f"pooled into '{OTHER_REASONS}'; a count from 1 to {MIN_CELL - 1} is NULL.",
    ),
    Published(
        "mart_headcount_attrition",
        _headcount_attrition,
        f"People counts from 1 to {MIN_CELL - 1} are NULL (for teams, also the smallest "
        f"other teams of the month until the suppressed ones hold at least {MIN_CELL} "
        f"together); headcounts are rounded to "
        f"a multiple of {MIN_CELL} and rates to whole percent; team rows carry no rates or "
        "tenure; a company rate is NULL where its count is.",
    ),
    Published(
        "mart_quota_attainment",
        _quota_attainment,
        f"A count of reps from 1 to {MIN_CELL - 1} is NULL, with the smallest other bands "
        f"of the window until the suppressed ones hold at least {MIN_CELL} reps together; "
        f"the window's totals are NULL when it has fewer "
        f"than {MIN_CELL} reps with a quota.",
    ),
    Published(
        "mart_risk_by_team",
        _risk_by_team,
        "Only the bands and the rounded revenue at risk, never the exact sums of individual "
        f"probabilities; team sizes rounded to a multiple of {MIN_CELL}; teams under "
        f"{MIN_CELL} scored reps suppressed, with the smallest others until at least two "
        f"teams and {MIN_CELL} reps are hidden together. Present once "
        "reps have been scored.",
        needs_scores=True,
    ),
)


def analytics_path(warehouse: Path) -> Path:
    """The analyst database published beside `warehouse`."""
    return warehouse.with_name(ANALYTICS_FILE)


def _documentation(work_dir: Path) -> dict[str, dict]:
    """dbt's descriptions of the mart models (table and columns) from the build's
    manifest; empty when the manifest cannot be read."""
    try:
        manifest = json.loads((work_dir / "target" / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        node["name"]: node
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model" and node.get("schema") == "marts"
    }


def _document(con: duckdb.DuckDBPyConnection, table: Published, node: dict | None) -> None:
    description = " ".join(part for part in ((node or {}).get("description"), table.note) if part)
    if description:
        con.execute(f"COMMENT ON TABLE marts.{q(table.name)} IS {lit(description)}")
    published = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'marts' AND table_name = ?",
            [table.name],
        ).fetchall()
    }
    for column, documented in (node or {}).get("columns", {}).items():
        if column in published and documented.get("description"):
            con.execute(
                f"COMMENT ON COLUMN marts.{q(table.name)}.{q(column)} "
                f"IS {lit(documented['description'])}"
            )


def publish_analytics(warehouse: Path, work_dir: Path) -> Path:
    """Write the analyst database from `warehouse` (its marts just built, their dbt
    manifest in `work_dir`) and rename it into place; returns its path. The last
    publication stays in place when this fails."""
    target = analytics_path(warehouse)
    remove_left_over_partials(target.parent, target.name)
    partial = partial_path(target)
    documentation = _documentation(work_dir)
    try:
        with duckdb.connect(str(partial)) as con:
            con.execute(f"ATTACH {lit(str(warehouse))} AS hr (READ_ONLY)")
            con.execute("CREATE SCHEMA marts")
            built = {
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM duckdb_tables() "
                    "WHERE database_name = 'hr' AND schema_name = 'marts'"
                ).fetchall()
            }
            for table in PUBLISHED:
                if table.needs_scores and table.name not in built:
                    continue
                con.execute(f"CREATE TABLE marts.{q(table.name)} AS {table.select()}")
                _document(con, table, documentation.get(table.name))
            con.execute("DETACH hr")
            con.execute("CHECKPOINT")
        give_shared_mode(partial)
        partial.replace(target)
        fsync_directory(target.parent)
    finally:
        remove_database(partial)
    return target
