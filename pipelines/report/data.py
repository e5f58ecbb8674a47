"""What the leadership report says, read from the analyst database only (the marts as
published for analysts: aggregates, no person in them).

Every section is a small frame. Counts of fewer than `MIN_GROUP` people arrive
suppressed (NULL) from the publication (`pipelines.transform.publish`): a sum with
suppressed cells in it is shown as what it is at least (`Figure.at_least`: each cell
holds someone), never as a sum that quietly leaves them out. A partial load (only CRM or
only HR exports, no quotas) leaves some marts empty: the figures that need them are
unknown (None), not zero, and `Sources` says which.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.errors import RepradarError
from pipelines.safe_text import plain
from pipelines.transform.publish import MIN_CELL, OTHER_REASONS, analytics_path

MIN_GROUP = MIN_CELL
CURRENCY_LIMIT = 8  # characters of the currency code, as written in amounts
PERIOD_MONTHS = 3  # the report compares the last 3 complete months with the 3 before
TREND_MONTHS = 24
AT_QUOTA_BANDS = ("100-120%", "120% and over")


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
class Figure:
    """A published figure, or a sum of published cells: `value` is the sum of the cells
    shown (None when there is none), `hidden` the number of cells the publication
    suppressed (each a count of 1 to MIN_GROUP - 1 people)."""

    value: float | None
    hidden: int = 0

    @property
    def exact(self) -> float | None:
        return None if self.hidden else self.value

    @property
    def at_least(self) -> float | None:
        """What the sum is at least when cells are hidden (each holds someone)."""
        return (self.value or 0.0) + self.hidden if self.hidden else None


@dataclass(frozen=True)
class Kpi:
    name: str
    current: float | None  # exact; None when unknown or suppressed
    prior: float | None
    unit: str  # "percent", "money", "days", "count"
    higher_is_better: bool
    current_at_least: float | None = None  # set when some of it is suppressed
    prior_at_least: float | None = None


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
    attainment: pd.DataFrame  # band, reps (NaN where suppressed)
    reps_with_quota: Figure  # reps with a quota in the current period
    concentration: pd.DataFrame  # period_start, top_20_percent_share
    headcount: pd.DataFrame  # month_start, closing_headcount (to 5), exits (NaN: suppressed)
    exit_reasons: pd.DataFrame  # exit_reason, exits, voluntary, regretted, hidden_<each>
    risk_by_team: pd.DataFrame | None  # published mart_risk_by_team (None before scoring)
    key_accounts: pd.DataFrame  # single-threaded accounts with the most revenue


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """The rows of `sql`; integer columns as floats, a suppressed (NULL) count as NaN."""
    frame = con.execute(sql, params or []).df()
    counts = frame.select_dtypes(include=["integer"]).columns
    return frame.astype({column: "float64" for column in counts})


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The query's single value as a float; None when null or when it finds no row."""
    row = con.execute(sql, params or []).fetchone()
    value = None if row is None else row[0]
    return None if value is None or pd.isna(value) else float(value)


def _figure(con: duckdb.DuckDBPyConnection, column: str, where: str, params: list) -> Figure:
    """sum(column) of the published rows `where` selects, with the number of them that
    are suppressed (NULL); unknown (None) when there is none."""
    rows, known, total = con.execute(
        f"SELECT count(*), count({column}), sum({column}) FROM {where}", params
    ).fetchone()
    return Figure(None if total is None else float(total), hidden=rows - known)


def _has_rows(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    return con.execute(f"SELECT EXISTS ({sql})").fetchone()[0]


def read_sources(con: duckdb.DuckDBPyConnection) -> Sources:
    return Sources(
        crm=_has_rows(con, "SELECT 1 FROM marts.fct_opportunities"),
        hr=_has_rows(con, "SELECT 1 FROM marts.mart_headcount_attrition"),
        quotas=_has_rows(con, "SELECT 1 FROM marts.mart_quota_attainment"),
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


def _period_kpis(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str, Figure]:
    bounds = [period.start, period.end]
    company_months = (
        "marts.mart_headcount_attrition WHERE is_company_total AND month_start BETWEEN ? AND ?"
    )
    return {
        "Bookings": Figure(
            _scalar(
                con,
                "SELECT sum(amount) FROM marts.fct_opportunities "
                "WHERE is_won AND close_date BETWEEN ? AND ?",
                bounds,
            )
        ),
        "Win rate (deals closed)": Figure(
            _scalar(
                con,
                "SELECT avg(CASE WHEN is_won THEN 1.0 ELSE 0.0 END) "
                "FROM marts.fct_opportunities WHERE is_closed AND close_date BETWEEN ? AND ?",
                bounds,
            )
        ),
        "Median sales cycle, won deals": Figure(
            _scalar(
                con,
                "SELECT median(cycle_days) FROM marts.fct_opportunities "
                "WHERE is_won AND close_date BETWEEN ? AND ?",
                bounds,
            )
        ),
        "Quota attainment": _figure(
            con,
            "attainment",
            "marts.mart_quota_attainment WHERE window_end_month = ? AND band_order = 1",
            [_month_start(period.end)],
        ),
        "Reps at period end (nearest 5)": _figure(
            con,
            "closing_headcount",
            "marts.mart_headcount_attrition WHERE is_company_total AND month_end = ?",
            [period.end],
        ),
        "Voluntary exits": _figure(con, "voluntary_exits", company_months, bounds),
        "Regretted exits": _figure(con, "regretted_exits", company_months, bounds),
        "Voluntary attrition, trailing 12 months": _figure(
            con,
            "trailing_12m_voluntary_attrition_rate",
            "marts.mart_headcount_attrition WHERE is_company_total AND month_end = ?",
            [period.end],
        ),
    }


KPI_SHAPE = {  # name: (unit, higher is better, the exports it needs)
    "Bookings": ("money", True, ("crm",)),
    "Win rate (deals closed)": ("percent", True, ("crm",)),
    "Median sales cycle, won deals": ("days", False, ("crm",)),
    "Quota attainment": ("percent", True, ("crm", "quotas")),
    "Reps at period end (nearest 5)": ("count", True, ("hr",)),
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
        current, prior = (now[name], before[name]) if known else (Figure(None), Figure(None))
        kpis.append(
            Kpi(
                name,
                current.exact,
                prior.exact,
                unit,
                higher_is_better,
                current_at_least=current.at_least,
                prior_at_least=prior.at_least,
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
    included (the mart is by quarter). A reason is named in a quarter when it had at least
    MIN_GROUP exits there; the rest of the quarter's exits are in the pooled row. Each
    count is the sum of the cells shown, with `hidden_<count>` the cells suppressed."""
    counts = {
        "exits": "exits",
        "voluntary": "CASE WHEN termination_type = 'voluntary' THEN exits ELSE 0 END",
        "regretted": "regretted_exits",
    }
    sums = ", ".join(
        f"coalesce(sum({cell}), 0) AS {name}, count(*) - count({cell}) AS hidden_{name}"
        for name, cell in counts.items()
    )
    return _frame(
        con,
        f"""SELECT exit_reason, {sums}
        FROM marts.mart_exit_reasons
        WHERE exit_quarter > ? AND exit_quarter <= ?
        GROUP BY exit_reason
        ORDER BY exit_reason = ?, exits DESC, exit_reason""",
        [quarter_start(current.end, quarters_back=4), current.end, OTHER_REASONS],
    )


def _attainment(con: duckdb.DuckDBPyConnection, current: Period) -> tuple[pd.DataFrame, Figure]:
    """Reps per attainment band over the current period (NaN where suppressed), and the
    number of reps with a quota in it."""
    window = [_month_start(current.end)]
    bands = _frame(
        con,
        """SELECT attainment_band AS band, reps FROM marts.mart_quota_attainment
        WHERE window_end_month = ? ORDER BY band_order""",
        window,
    )
    reps = _figure(
        con,
        "reps_with_quota",
        "marts.mart_quota_attainment WHERE window_end_month = ? AND band_order = 1",
        window,
    )
    return bands, reps


def _risk_by_team(con: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'marts' AND table_name = 'mart_risk_by_team'"
    ).fetchone()[0]
    if not exists:
        return None
    return _frame(
        con,
        """SELECT team, is_company_total, month_end, horizon_months, reps, high_risk_reps_band,
            expected_exits_band, revenue_at_risk_rounded, is_suppressed
        FROM marts.mart_risk_by_team
        ORDER BY is_company_total DESC, is_suppressed, revenue_at_risk_rounded DESC NULLS LAST,
            team""",
    )


def read_report_data(warehouse: Path) -> ReportData:
    """Everything the report shows, from the analyst database published beside
    `warehouse` (never from the HR warehouse itself)."""
    analytics = analytics_path(warehouse)
    if not analytics.exists():
        raise ReportDataError(f"no analyst database at {analytics}; run `repradar transform` first")
    with duckdb.connect(str(analytics), read_only=True) as con:
        try:
            # the reporting date, else (no CRM accounts) the last month of headcount
            as_of_value = con.execute(
                """SELECT coalesce(
                    (SELECT max(as_of_date) FROM marts.mart_account_coverage),
                    (SELECT max(month_end) FROM marts.mart_headcount_attrition))"""
            ).fetchone()[0]
        except duckdb.CatalogException as error:
            raise ReportDataError(
                f"{analytics} has no marts; run `repradar transform` first"
            ) from error
        if as_of_value is None:
            raise ReportDataError(f"{analytics} has empty marts; load exports first")
        current, prior = reporting_periods(as_of_value)
        sources = read_sources(con)
        funnel = _funnel(con, current)
        attainment, reps_with_quota = _attainment(con, current)
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
            attainment=attainment,
            reps_with_quota=reps_with_quota,
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
