"""The report's charts as PNG images (matplotlib, no display needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from pipelines.report.data import ReportData
from pipelines.safe_text import table_cell

BLUE, GREY, RED, AMBER = "#2f5d8a", "#9aa5b1", "#c0392b", "#e0a526"
SIZE = (7.0, 2.8)
LABEL_LIMIT = 40  # characters of a label from the data (a funnel stage)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=150)
    plt.close(figure)
    return buffer.getvalue()


def _label(text: object) -> str:
    """A label from the data for a chart: plain, at most LABEL_LIMIT characters, with `$`
    escaped so matplotlib does not parse it as mathtext (which can fail on any input)."""
    return table_cell(text, LABEL_LIMIT).replace("$", r"\$")


def _axes(title: str):
    figure, axes = plt.subplots(figsize=SIZE)
    axes.set_title(title, loc="left", fontsize=10, fontweight="bold")
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    return figure, axes


def funnel_chart(data: ReportData) -> bytes:
    figure, axes = _axes("Stage conversion, opportunities created in the last 12 months")
    funnel = data.funnel.dropna(subset=["conversion_rate"])
    colours = [RED if s == data.biggest_drop_stage else BLUE for s in funnel["stage_name"]]
    labels = [_label(stage) for stage in funnel["stage_name"]]
    bars = axes.barh(labels, funnel["conversion_rate"], color=colours)
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlim(0, 1)
    for bar, entered in zip(bars, funnel["entered"], strict=True):
        axes.text(
            bar.get_width() + 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{bar.get_width():.0%} of {int(entered):,}",
            va="center",
            fontsize=7,
        )
    return _png(figure)


def cycle_chart(data: ReportData) -> bytes:
    figure, axes = _axes("Median sales cycle of won deals (days), by close month")
    trend = data.cycle_trend
    axes.plot(trend["close_month"], trend["median_won_cycle_days"], color=BLUE, marker="o", ms=3)
    axes.set_ylim(bottom=0)
    return _png(figure)


def attainment_chart(data: ReportData) -> bytes:
    figure, axes = _axes(
        f"Quota attainment of reps, {data.current.label} (bands under 5 reps not shown)"
    )
    colours = [RED, AMBER, GREY, BLUE, BLUE]
    axes.bar(data.attainment["band"], data.attainment["reps"].fillna(0), color=colours)
    axes.set_ylabel("reps", fontsize=8)
    return _png(figure)


def headcount_chart(data: ReportData) -> bytes:
    figure, axes = _axes(
        "Exits per month (months with 1-4 of a kind not shown) and trailing-12-month "
        "voluntary attrition"
    )
    trend = data.headcount
    months = trend["month_start"]
    voluntary = trend["voluntary_exits"].fillna(0)  # suppressed months draw no bar
    axes.bar(months, voluntary, width=20, color=RED, label="voluntary")
    axes.bar(
        months,
        trend["involuntary_exits"].fillna(0),
        width=20,
        bottom=voluntary,
        color=GREY,
        label="involuntary",
    )
    axes.plot(months, trend["regretted_exits"], "k.", label="regretted")
    axes.set_ylabel("exits", fontsize=8)
    rate = axes.twinx()
    rate.plot(months, trend["trailing_12m_voluntary_attrition_rate"], color=BLUE, label="rate")
    rate.yaxis.set_major_formatter(PercentFormatter(1.0))
    rate.set_ylim(bottom=0)
    rate.tick_params(labelsize=8)
    axes.legend(fontsize=7, loc="upper left", frameon=False, ncols=3)
    return _png(figure)


def concentration_chart(data: ReportData) -> bytes:
    figure, axes = _axes("Share of bookings from the top 20% of reps, by quarter")
    shares = data.concentration
    labels = [f"{d:%Y} Q{(d.month - 1) // 3 + 1}" for d in shares["period_start"]]
    axes.bar(labels, shares["top_20_percent_share"], color=BLUE)
    axes.axhline(0.8, color=GREY, linestyle="--", linewidth=1)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylim(0, 1)
    return _png(figure)


def all_charts(data: ReportData) -> dict[str, bytes]:
    """Every chart of the report by name, as PNG bytes."""
    return {
        "funnel": funnel_chart(data),
        "cycle": cycle_chart(data),
        "attainment": attainment_chart(data),
        "concentration": concentration_chart(data),
        "headcount": headcount_chart(data),
    }
