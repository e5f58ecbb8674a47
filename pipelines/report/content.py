"""The report as sections of plain text, tables and chart names: one layout-free model
that both the HTML and the PDF renderers draw, so the two always say the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipelines.formatting import money
from pipelines.report.data import AT_QUOTA_BANDS, MIN_GROUP, Kpi, ReportData
from pipelines.safe_text import markdown, table_cell

SECTION_TITLES = (
    "Headline KPIs",
    "Funnel",
    "Sales cycle",
    "Quota attainment",
    "Revenue concentration (20/80)",
    "Headcount and attrition",
    "Exit reasons",
    "Expected exits and revenue at risk by team",
    "Accounts that depend on one person",
    "Recommended actions",
)


# What a section says when the exports it is made of were not loaded.
MISSING_SOURCE = {
    "crm": "no CRM deals loaded",
    "hr": "no HR employees loaded",
    "quotas": "no sales quotas loaded",
}


@dataclass
class Table:
    """Headers and rows of text; values from the data arrive as `safe_text.table_cell`."""

    headers: list[str]
    rows: list[list[str]]
    tones: list[str] = field(default_factory=list)  # per row: "", "good", "bad", "muted"


@dataclass
class Section:
    title: str
    lead: str
    chart: str | None = None
    table: Table | None = None
    bullets: list[str] = field(default_factory=list)
    missing: str | None = None  # the exports it needs that were not loaded


@dataclass
class ReportContent:
    title: str
    subtitle: str
    sections: list[Section]
    footnote: str


def _unavailable(data: ReportData, title: str, *needs: str) -> Section | None:
    """The section, saying what is missing, when an export it needs was not loaded."""
    missing = " and ".join(MISSING_SOURCE[need] for need in needs if not data.sources.has((need,)))
    if not missing:
        return None
    return Section(title, f"Not available: {missing}.", missing=missing)


def _company_risk(data: ReportData) -> pd.Series | None:
    if data.risk_by_team is None:
        return None
    company = data.risk_by_team[data.risk_by_team["is_company_total"]]
    return None if company.empty or company.iloc[0]["is_suppressed"] else company.iloc[0]


def leadership_actions(data: ReportData) -> list[str]:
    """What leadership should do this week, from the figures in the report."""
    actions = []
    company = _company_risk(data)
    if company is not None and company["high_risk_reps_band"] != "0":
        actions.append(
            f"{company['high_risk_reps_band']} reps are in the High risk band, with about "
            f"{money(company['revenue_at_risk_rounded'], data.currency)} of revenue at risk: "
            "HR has "
            "the names; make sure each gets a stay interview within two weeks and a handover "
            "plan for the accounts that depend on them."
        )
    if data.biggest_drop_stage is not None:
        row = data.funnel.set_index("stage_name").loc[data.biggest_drop_stage]
        actions.append(
            f"The funnel loses most deals at {table_cell(data.biggest_drop_stage)} (only "
            f"{row['conversion_rate']:.0%} advance): review qualification and coaching there."
        )
    if not data.key_accounts.empty:
        revenue = data.key_accounts["trailing_12m_revenue"].sum()
        actions.append(
            f"The {len(data.key_accounts)} largest single-threaded accounts brought "
            f"{money(revenue, data.currency)} in the last 12 months: add a second contact "
            "(manager or solutions engineer) to each."
        )
    attrition = {kpi.name: kpi for kpi in data.kpis}["Voluntary attrition, trailing 12 months"]
    rising = attrition.current is not None and attrition.prior is not None
    if rising and attrition.current > attrition.prior * 1.1:
        actions.append(
            f"Voluntary attrition rose to {attrition.current:.1%} (from "
            f"{attrition.prior:.1%}): review pay against band and promotion timing."
        )
    return actions


SUPPRESSED = f"suppressed (under {MIN_GROUP})"


def at_least(floor: float) -> str:
    """A sum with suppressed counts in it (each of 1 to MIN_GROUP - 1 people)."""
    return f"at least {floor:,.0f}"


def summed_count(shown: float, hidden: int) -> str:
    """A count of people summed over published cells: exact, or what it is at least when
    `hidden` of the cells were suppressed (each holds someone)."""
    return at_least(shown + hidden) if hidden else f"{int(shown):,}"


def format_kpi_value(
    kpi: Kpi, value: float | None, currency: str, floor: float | None = None
) -> str:
    if floor is not None:
        return at_least(floor) if kpi.unit == "count" else SUPPRESSED
    if value is None:
        return "n/a"
    if kpi.unit == "percent":
        return f"{value:.1%}"
    if kpi.unit == "money":
        return money(value, currency)
    if kpi.unit == "days":
        return f"{value:,.0f} days"
    return f"{value:,.0f}"


def kpi_change(kpi: Kpi) -> tuple[str, str]:
    """The change against the prior period in words and whether it is good, bad or flat."""
    if kpi.current_at_least is not None or kpi.prior_at_least is not None:
        return "n/a", "flat"
    if kpi.current is None or kpi.prior is None:
        return "no prior", "flat"
    delta = kpi.current - kpi.prior
    if kpi.unit == "percent":
        text = f"{delta * 100:+.1f} pts"
    elif kpi.prior:
        text = f"{delta / abs(kpi.prior):+.0%}"
    else:
        text = f"{delta:+,.0f}"
    if abs(delta) < 1e-9:
        return text, "flat"
    return text, "good" if (delta > 0) == kpi.higher_is_better else "bad"


def _percent(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.0%}"


def _count(value: float | None) -> str:
    """A published count of people; NaN is one the publication suppressed."""
    return SUPPRESSED if value is None or pd.isna(value) else f"{int(value):,}"


def _kpis(data: ReportData) -> Section:
    rows, tones = [], []
    for kpi in data.kpis:
        change, tone = kpi_change(kpi)
        rows.append(
            [
                kpi.name,
                format_kpi_value(kpi, kpi.current, data.currency, kpi.current_at_least),
                format_kpi_value(kpi, kpi.prior, data.currency, kpi.prior_at_least),
                change,
            ]
        )
        tones.append("" if tone == "flat" else tone)
    return Section(
        SECTION_TITLES[0],
        f"{data.current.label} against {data.prior.label}.",
        table=Table(["KPI", data.current.label, data.prior.label, "Change"], rows, tones),
    )


def _funnel(data: ReportData) -> Section:
    if (unavailable := _unavailable(data, SECTION_TITLES[1], "crm")) is not None:
        return unavailable
    rows = [
        [
            table_cell(r.stage_name),
            f"{int(r.entered):,}",
            f"{int(r.advanced):,}",
            _percent(r.conversion_rate),
        ]
        for r in data.funnel.itertuples()
    ]
    drop = table_cell(data.biggest_drop_stage) if data.biggest_drop_stage else None
    tones = ["bad" if r[0] == drop else "" for r in rows]
    lead = (
        f"The biggest drop is at {drop}."
        if data.biggest_drop_stage
        else "No opportunities were created in the last 12 months."
    )
    return Section(
        SECTION_TITLES[1],
        lead,
        chart="funnel",
        table=Table(["Stage", "Entered", "Advanced", "Conversion"], rows, tones),
    )


def _cycle(data: ReportData) -> Section:
    if (unavailable := _unavailable(data, SECTION_TITLES[2], "crm")) is not None:
        return unavailable
    trend = data.cycle_trend
    if trend.empty:
        return Section(SECTION_TITLES[2], "No deals were won in the last 24 months.")
    last = trend.iloc[-1]
    lead = (
        f"Won deals closed in {last['close_month']:%b %Y} took a median "
        f"{last['median_won_cycle_days']:.0f} days from creation to close "
        f"({int(last['won_deals'])} deals)."
    )
    return Section(SECTION_TITLES[2], lead, chart="cycle")


def _attainment(data: ReportData) -> Section:
    if (unavailable := _unavailable(data, SECTION_TITLES[3], "crm", "quotas")) is not None:
        return unavailable
    bands = data.attainment
    if data.reps_with_quota.hidden:
        lead = f"Fewer than {MIN_GROUP} reps had a quota in {data.current.label}: not shown."
    elif data.reps_with_quota.value is None:
        lead = f"No rep had a quota in {data.current.label}."
    else:
        at_quota = bands.loc[bands["band"].isin(AT_QUOTA_BANDS), "reps"]
        reached = (
            f"{int(at_quota.sum())} of {int(data.reps_with_quota.value)}"
            if at_quota.notna().all()
            else f"A suppressed number (bands under {MIN_GROUP} are not shown) of "
            f"{int(data.reps_with_quota.value)}"
        )
        lead = f"{reached} reps with a quota reached it in {data.current.label}."
    rows = [[str(r.band), _count(r.reps)] for r in bands.itertuples()]
    return Section(
        SECTION_TITLES[3], lead, chart="attainment", table=Table(["Attainment", "Reps"], rows)
    )


def _concentration(data: ReportData) -> Section:
    if (unavailable := _unavailable(data, SECTION_TITLES[4], "crm")) is not None:
        return unavailable
    shares = data.concentration
    if shares.empty:
        return Section(SECTION_TITLES[4], "No complete quarter yet.")
    last = shares.iloc[-1]
    lead = (
        f"The top 20% of reps brought {last['top_20_percent_share']:.0%} of bookings in the last "
        "complete quarter (the dashed line is the 80% of the 20/80 rule)."
    )
    return Section(SECTION_TITLES[4], lead, chart="concentration")


def _exits_in(months: pd.Series, kind: str) -> str:
    """The exits of some months in words: the sum, or a floor when months with 1 to
    MIN_GROUP - 1 exits were suppressed (each of them had at least one)."""
    return f"{summed_count(months.sum(), int(months.isna().sum()))} {kind}"


def _headcount(data: ReportData) -> Section:
    if (unavailable := _unavailable(data, SECTION_TITLES[5], "hr")) is not None:
        return unavailable
    trend = data.headcount
    if trend.empty:
        return Section(SECTION_TITLES[5], "No headcount history.")
    last = trend.iloc[-1]
    rate = last["trailing_12m_voluntary_attrition_rate"]
    year = trend.tail(12)
    lead = (
        f"About {_count(last['closing_headcount'])} reps at the end of "
        f"{last['month_start']:%b %Y}; voluntary attrition over the trailing 12 months "
        f"{_percent(rate)}. Over the last 12 months: "
        f"{_exits_in(year['voluntary_exits'], 'voluntary')}, "
        f"{_exits_in(year['involuntary_exits'], 'involuntary')}, "
        f"{_exits_in(year['regretted_exits'], 'regretted')} exits. Headcounts are rounded "
        f"to the nearest {MIN_GROUP}, and a month with 1 to {MIN_GROUP - 1} exits of a kind "
        "shows none (suppressed)."
    )
    return Section(SECTION_TITLES[5], lead, chart="headcount")


def _exit_reasons(data: ReportData) -> Section:
    if (unavailable := _unavailable(data, SECTION_TITLES[6], "hr")) is not None:
        return unavailable
    rows = [
        [
            table_cell(row["exit_reason"]),
            *(
                summed_count(row[count], int(row[f"hidden_{count}"]))
                for count in ("exits", "voluntary", "regretted")
            ),
        ]
        for _, row in data.exit_reasons.iterrows()
    ]
    lead = (
        f"Exits in the last 4 quarters (to the one holding {data.current.end:%b %Y}) by the "
        f"main reason given. A reason is named in a quarter when it had at least {MIN_GROUP} "
        f"exits there; the other exits are pooled. Counts of 1 to {MIN_GROUP - 1} are not "
        "published, so a total with such a count in it shows what it is at least."
    )
    return Section(
        SECTION_TITLES[6],
        lead,
        table=Table(["Reason", "Exits", "Voluntary", "Regretted"], rows) if rows else None,
    )


def _risk(data: ReportData) -> Section:
    risk = data.risk_by_team
    if risk is None or risk.empty:
        if (unavailable := _unavailable(data, SECTION_TITLES[7], "hr")) is not None:
            return unavailable
        return Section(SECTION_TITLES[7], "Not scored yet: run `repradar score`.")
    rows, tones = [], []
    for r in risk.itertuples():
        if r.is_suppressed:
            rows.append([table_cell(r.team), "suppressed", "", "", ""])
            tones.append("muted")
            continue
        rows.append(
            [
                table_cell(r.team),
                _count(r.reps),
                str(r.high_risk_reps_band),
                str(r.expected_exits_band),
                f"about {money(r.revenue_at_risk_rounded, data.currency)}",
            ]
        )
        tones.append("bad" if r.high_risk_reps_band != "0" else "")
    month_end = risk["month_end"].iloc[0]
    months = risk["horizon_months"].dropna()
    months = int(months.iloc[0]) if len(months) else 3
    lead = (
        f"Scored at {month_end:%d %b %Y}. Expected exits are the sum of the reps' probabilities "
        f"of leaving within {months} months, and High risk is a rep's probability over that "
        "horizon; revenue at risk is what would be lost with them. Teams "
        f"under {MIN_GROUP} reps are suppressed, and the next-smallest with them, so no one "
        "can be singled out; the figures are shown in bands and rounded to two significant "
        "figures so that one rep moving between teams does not show from one week to the next."
    )
    return Section(
        SECTION_TITLES[7],
        lead,
        table=Table(
            [
                "Team",
                "Reps (nearest 5)",
                "High-risk reps",
                f"Expected exits ({months} months)",
                "Revenue at risk",
            ],
            rows,
            tones,
        ),
    )


def _key_accounts(data: ReportData) -> Section:
    if (unavailable := _unavailable(data, SECTION_TITLES[8], "crm")) is not None:
        return unavailable
    rows = [
        [
            table_cell(r.account_name),
            table_cell(r.segment),
            table_cell(r.team),
            money(r.trailing_12m_revenue, data.currency),
            "n/a" if pd.isna(r.days_since_last_touch) else f"{int(r.days_since_last_touch)}",
            _percent(r.documentation_completeness),
        ]
        for r in data.key_accounts.itertuples()
    ]
    lead = (
        "The single-threaded accounts (one person engaged in 180 days) with the most revenue "
        "in the last 12 months: the customers most likely to leave with their rep."
    )
    return Section(
        SECTION_TITLES[8],
        lead,
        table=Table(
            ["Account", "Segment", "Team", "Revenue 12m", "Days since touch", "Documented"], rows
        )
        if rows
        else None,
    )


def report_content(data: ReportData) -> ReportContent:
    sections = [
        _kpis(data),
        _funnel(data),
        _cycle(data),
        _attainment(data),
        _concentration(data),
        _headcount(data),
        _exit_reasons(data),
        _risk(data),
        _key_accounts(data),
        Section(SECTION_TITLES[9], "For this week.", bullets=leadership_actions(data)),
    ]
    return ReportContent(
        title="repradar leadership report",
        subtitle=f"Data as of {data.as_of:%d %B %Y}",
        sections=sections,
        footnote=(
            "Aggregates only, from the analyst database: no person is named; every count of "
            f"fewer than {MIN_GROUP} people is suppressed, headcounts are rounded to the "
            f"nearest {MIN_GROUP} and risk by team is shown in bands. Person-level risk goes "
            "to HR only."
        ),
    )


def summary_markdown(content: ReportContent) -> str:
    """The headline table and the actions as markdown (the Prefect artifact and the body
    of the weekly message). Every cell is escaped (`safe_text.markdown`) so data cannot
    inject markup into the Prefect UI or an e-mail."""

    kpis = sections_by_title(content)[SECTION_TITLES[0]].table
    lines = [f"# {content.title}", "", content.subtitle, ""]
    lines += ["| " + " | ".join(markdown(h) for h in kpis.headers) + " |"]
    lines += ["|" + "---|" * len(kpis.headers)]
    lines += ["| " + " | ".join(markdown(c) for c in row) + " |" for row in kpis.rows]
    actions = sections_by_title(content)[SECTION_TITLES[9]].bullets
    lines += ["", "## Recommended actions", ""] + [f"- {markdown(a)}" for a in actions]
    return "\n".join(lines)


def sections_by_title(content: ReportContent) -> dict[str, Section]:
    return {section.title: section for section in content.sections}
