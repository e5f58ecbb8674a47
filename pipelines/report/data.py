"""What the leadership report says, read from the marts only (aggregates, no names).

Every section is a small frame; groups of fewer than `MIN_GROUP` people are suppressed
(teams in `mart_risk_by_team` arrive suppressed; exit reasons with fewer than
`MIN_GROUP` exits are pooled into "Other reasons", and hidden if the pool is small too).
A partial load (only CRM or only HR exports, no quotas) leaves some marts empty: the
figures that need them are unknown (None), not zero, and `Sources` says which.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.errors import RepradarError
from pipelines.safe_text import plain

MIN_GROUP = 5
CURRENCY_LIMIT = 8  # characters of the currency code, as written in amounts
PERIOD_MONTHS = 3  # the report compares the last 3 complete months with the 3 before
TREND_MONTHS = 24
OTHER_REASONS = f"Other reasons (fewer than {MIN_GROUP} exits each)"
ATTAINMENT_BINS = (0.0, 0.5, 0.8, 1.0, 1.2, float("inf"))
ATTAINMENT_LABELS = ("under 50%", "50-80%", "80-100%", "100-120%", "120% and over")


class ReportDataError(RepradarError):
    """The marts the report needs are missing or empty."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        return f"{self.start:%b %Y} - {self.end:%b %Y}"


@dataclass(frozen=True)
class Sources:
    """Which exports the marts were built from."""

    crm: bool  # CRM deals (fct_opportunities has rows)
    hr: bool  # HR employees (mart_headcount_attrition has rows)
    quotas: bool  # sales quotas (some scorecard month has one)

    def has(self, needs: tuple[str, ...]) -> bool:
        return all(getattr(self, source) for source in needs)


@dataclass(frozen=True)
class Kpi:
    name: str
    current: float | None
    prior: float | None
    unit: str  # "percent", "money", "days", "count"
    higher_is_better: bool


@dataclass
class ReportData:
    as_of: dt.date
    sources: Sources
    current: Period
    prior: Period
    currency: str
    kpis: list[Kpi]
    funnel: pd.DataFrame  # stage_name, entered, advanced, conversion_rate
    biggest_drop_stage: str | None
    cycle_trend: pd.DataFrame  # close_month, median_won_cycle_days, won_deals
    attainment: pd.DataFrame  # band, reps
    concentration: pd.DataFrame  # period_start, top_20_percent_share
    headcount: pd.DataFrame  # month_start, closing_headcount, voluntary/involuntary/regretted
    exit_reasons: pd.DataFrame  # exit_reason, exits, voluntary, regretted
    risk_by_team: pd.DataFrame | None  # mart_risk_by_team rows (None before any scoring)
    key_accounts: pd.DataFrame  # single-threaded accounts with the most revenue


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The query's single value as a float; None when null or when it finds no row."""
    row = con.execute(sql, params or []).fetchone()
    value = None if row is None else row[0]
    return None if value is None or pd.isna(value) else float(value)


def _has_rows(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    return con.execute(f"SELECT EXISTS ({sql})").fetchone()[0]


def read_sources(con: duckdb.DuckDBPyConnection) -> Sources:
    return Sources(
        crm=_has_rows(con, "SELECT 1 FROM marts.fct_opportunities"),
        hr=_has_rows(con, "SELECT 1 FROM marts.mart_headcount_attrition"),
        quotas=_has_rows(
            con, "SELECT 1 FROM marts.mart_rep_scorecard WHERE quota_amount IS NOT NULL"
        ),
    )


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_start(day: dt.date, quarters_back: int = 0) -> dt.date:
    """The first day of `day`'s calendar quarter, `quarters_back` quarters earlier."""
    first_month = (day.month - 1) // 3 * 3
    return _month_start(dt.date(day.year, first_month + 1, 1), 3 * quarters_back)


def reporting_periods(as_of: dt.date) -> tuple[Period, Period]:
    """The last `PERIOD_MONTHS` complete months up to `as_of`, and the months before."""
    last_complete = as_of if (as_of + dt.timedelta(days=1)).day == 1 else None
    if last_complete is None:
        last_complete = _month_start(as_of) - dt.timedelta(days=1)
    current_start = _month_start(last_complete, PERIOD_MONTHS - 1)
    prior_end = current_start - dt.timedelta(days=1)
    prior_start = _month_start(prior_end, PERIOD_MONTHS - 1)
    return Period(current_start, last_complete), Period(prior_start, prior_end)


def _period_kpis(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, float | None]:
    bounds = [period.start, period.end]
    return {
        "Bookings": _scalar(
            con,
            "SELECT sum(amount) FROM marts.fct_opportunities "
            "WHERE is_won AND close_date BETWEEN ? AND ?",
            bounds,
        ),
        "Win rate (deals closed)": _scalar(
            con,
            "SELECT avg(CASE WHEN is_won THEN 1.0 ELSE 0.0 END) FROM marts.fct_opportunities "
            "WHERE is_closed AND close_date BETWEEN ? AND ?",
            bounds,
        ),
        "Median sales cycle, won deals": _scalar(
            con,
            "SELECT median(cycle_days) FROM marts.fct_opportunities "
            "WHERE is_won AND close_date BETWEEN ? AND ?",
            bounds,
        ),
        "Quota attainment": _scalar(
            con,
            "SELECT sum(bookings) / nullif(sum(quota_amount), 0) FROM marts.mart_rep_scorecard "
            "WHERE month_start BETWEEN ? AND ?",
            bounds,
        ),
        "Reps at period end": _scalar(
            con,
            "SELECT closing_headcount FROM marts.mart_headcount_attrition "
            "WHERE is_company_total AND month_end = ?",
            [period.end],
        ),
        "Voluntary exits": _scalar(
            con,
            "SELECT sum(voluntary_exits) FROM marts.mart_headcount_attrition "
            "WHERE is_company_total AND month_start BETWEEN ? AND ?",
            bounds,
        ),
        "Regretted exits": _scalar(
            con,
            "SELECT sum(regretted_exits) FROM marts.mart_headcount_attrition "
            "WHERE is_company_total AND month_start BETWEEN ? AND ?",
            bounds,
        ),
        "Voluntary attrition, trailing 12 months": _scalar(
            con,
            "SELECT trailing_12m_voluntary_attrition_rate FROM marts.mart_headcount_attrition "
            "WHERE is_company_total AND month_end = ?",
            [period.end],
        ),
    }


KPI_SHAPE = {  # name: (unit, higher is better, the exports it needs)
    "Bookings": ("money", True, ("crm",)),
    "Win rate (deals closed)": ("percent", True, ("crm",)),
    "Median sales cycle, won deals": ("days", False, ("crm",)),
    "Quota attainment": ("percent", True, ("crm", "quotas")),
    "Reps at period end": ("count", True, ("hr",)),
    "Voluntary exits": ("count", False, ("hr",)),
    "Regretted exits": ("count", False, ("hr",)),
    "Voluntary attrition, trailing 12 months": ("percent", False, ("hr",)),
}


def _kpis(
    con: duckdb.DuckDBPyConnection, current: Period, prior: Period, sources: Sources
) -> list[Kpi]:
    """The KPIs of both periods; unknown (None) where the exports they need are missing
    (no deals is not zero bookings)."""
    now, before = _period_kpis(con, current), _period_kpis(con, prior)
    kpis = []
    for name, (unit, higher_is_better, needs) in KPI_SHAPE.items():
        known = sources.has(needs)
        kpis.append(
            Kpi(
                name,
                now[name] if known else None,
                before[name] if known else None,
                unit,
                higher_is_better,
            )
        )
    return kpis


def _funnel(con: duckdb.DuckDBPyConnection, current: Period) -> pd.DataFrame:
    """Stage conversion of the opportunities created in the 12 months to the period end."""
    funnel = _frame(
        con,
        """SELECT stage_name, stage_order, sum(entered) AS entered, sum(advanced) AS advanced
        FROM marts.mart_funnel_conversion
        WHERE cohort_month > ? AND cohort_month <= ?
        GROUP BY stage_name, stage_order ORDER BY stage_order""",
        [_month_start(current.end, 12), current.end],
    )
    funnel["conversion_rate"] = funnel["advanced"] / funnel["entered"].where(funnel["entered"] > 0)
    return funnel


def _biggest_drop(funnel: pd.DataFrame) -> str | None:
    rates = funnel.dropna(subset=["conversion_rate"])
    if rates.empty:
        return None
    return str(rates.loc[rates["conversion_rate"].idxmin(), "stage_name"])


def _exit_reasons(con: duckdb.DuckDBPyConnection, current: Period) -> pd.DataFrame:
    """Exit reasons of the last 4 calendar quarters, the one holding the period end
    included (the mart is by quarter); small reasons pooled, then hidden."""
    reasons = _frame(
        con,
        """SELECT exit_reason, sum(exits) AS exits,
            sum(CASE WHEN termination_type = 'voluntary' THEN exits ELSE 0 END) AS voluntary,
            sum(regretted_exits) AS regretted
        FROM marts.mart_exit_reasons
        WHERE exit_quarter > ? AND exit_quarter <= ?
        GROUP BY exit_reason ORDER BY exits DESC, exit_reason""",
        [quarter_start(current.end, quarters_back=4), current.end],
    )
    return pool_small_groups(reasons, "exit_reason", "exits", OTHER_REASONS)


def pool_small_groups(frame: pd.DataFrame, label: str, size: str, other: str) -> pd.DataFrame:
    """Rows whose `size` is under MIN_GROUP are summed into one `other` row, which is
    dropped if it is under MIN_GROUP as well (a small group never shows on its own)."""
    small = frame[size] < MIN_GROUP
    kept = frame[~small]
    pooled = frame[small].drop(columns=[label]).sum(numeric_only=True)
    if small.any() and pooled[size] >= MIN_GROUP:
        kept = pd.concat([kept, pd.DataFrame([{label: other, **pooled.to_dict()}])])
    return kept.reset_index(drop=True)


def _attainment(con: duckdb.DuckDBPyConnection, current: Period) -> pd.DataFrame:
    reps = _frame(
        con,
        """SELECT sum(bookings) / nullif(sum(quota_amount), 0) AS attainment
        FROM marts.mart_rep_scorecard WHERE month_start BETWEEN ? AND ?
        GROUP BY employee_key HAVING sum(quota_amount) > 0""",
        [current.start, current.end],
    )
    bands = pd.cut(reps["attainment"], ATTAINMENT_BINS, right=False, labels=ATTAINMENT_LABELS)
    counts = bands.value_counts().reindex(ATTAINMENT_LABELS, fill_value=0)
    return pd.DataFrame({"band": list(ATTAINMENT_LABELS), "reps": counts.to_numpy()})


def _risk_by_team(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'marts' AND table_name = 'mart_risk_by_team'"
    ).fetchone()[0]
    if not exists:
        return None
    return _frame(
        con,
        """SELECT team, is_company_total, month_end, reps, high_risk_reps,
            high_risk_reps_band, expected_exits_band, revenue_at_risk_rounded, is_suppressed
        FROM marts.mart_risk_by_team
        ORDER BY is_company_total DESC, is_suppressed, revenue_at_risk_rounded DESC NULLS LAST,
            team""",
    )


def read_report_data(warehouse: Path) -> ReportData:
    """Everything the report shows, from the marts of `warehouse`."""
    if not warehouse.exists():
        raise ReportDataError(f"{warehouse} does not exist; run `repradar transform` first")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        try:
            # the reporting date, else (no CRM accounts) the last month of headcount
            as_of_value = con.execute(
                """SELECT coalesce(
                    (SELECT max(as_of_date) FROM marts.mart_account_coverage),
                    (SELECT max(month_end) FROM marts.mart_headcount_attrition))"""
            ).fetchone()[0]
        except duckdb.CatalogException as error:
            raise ReportDataError(
                f"{warehouse} has no marts; run `repradar transform` first"
            ) from error
        if as_of_value is None:
            raise ReportDataError(f"{warehouse} has empty marts; load exports first")
        current, prior = reporting_periods(as_of_value)
        sources = read_sources(con)
        funnel = _funnel(con, current)
        data = ReportData(
            as_of=as_of_value,
            sources=sources,
            current=current,
            prior=prior,
            currency=plain(
                con.execute("SELECT mode(currency) FROM marts.fct_opportunities").fetchone()[0]
                or "",
                CURRENCY_LIMIT,
            ),
            kpis=_kpis(con, current, prior, sources),
            funnel=funnel,
            biggest_drop_stage=_biggest_drop(funnel),
            cycle_trend=_frame(
                con,
                """SELECT close_month, median(cycle_days) AS median_won_cycle_days,
                    count(*) AS won_deals
                FROM marts.fct_opportunities
                WHERE is_won AND close_month > ? AND close_month <= ?
                GROUP BY close_month ORDER BY close_month""",
                [_month_start(current.end, TREND_MONTHS), current.end],
            ),
            attainment=_attainment(con, current),
            concentration=_frame(
                con,
                """SELECT period_start, top_20_percent_share FROM marts.mart_revenue_concentration
                WHERE period_type = 'quarter' AND is_complete_period AND period_start <= ?
                ORDER BY period_start DESC LIMIT 8""",
                [current.end],
            ).sort_values("period_start"),
            headcount=_frame(
                con,
                """SELECT month_start, closing_headcount, voluntary_exits, involuntary_exits,
                    regretted_exits, trailing_12m_voluntary_attrition_rate
                FROM marts.mart_headcount_attrition
                WHERE is_company_total AND month_start > ? AND month_start <= ?
                ORDER BY month_start""",
                [_month_start(current.end, TREND_MONTHS), current.end],
            ),
            exit_reasons=_exit_reasons(con, current),
            risk_by_team=_risk_by_team(con),
            key_accounts=_frame(
                con,
                """SELECT account_name, segment, owner_team AS team, trailing_12m_revenue,
                    open_pipeline, days_since_last_touch, documentation_completeness
                FROM marts.mart_account_coverage
                WHERE is_single_threaded AND trailing_12m_revenue > 0
                ORDER BY trailing_12m_revenue DESC, account_id LIMIT 10""",
            ),
        )
    return data
