"""`repradar report`: read the analyst database, draw the charts, write the HTML and the
PDF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.alerts.drafts import AlertDraft
from pipelines.file_modes import give_shared_mode, shared_directory
from pipelines.partial_files import partial_path, remove_left_over_partials
from pipelines.report.charts import all_charts
from pipelines.report.content import ReportContent, report_content, summary_markdown
from pipelines.report.data import ReportData, read_report_data
from pipelines.report.render import render_html, render_pdf

Progress = Callable[[str], None]
REPORT_PREFIX = "leadership-report-"


@dataclass
class ReportResult:
    html: Path
    pdf: Path
    data: ReportData
    content: ReportContent

    @property
    def markdown(self) -> str:
        return summary_markdown(self.content)


def default_report_directory(warehouse: Path) -> Path:
    return warehouse.parent / "reports" / "leadership"


def build_report(
    warehouse: Path, out: Path | None = None, progress: Progress | None = None
) -> ReportResult:
    """Write leadership-report-<as of>.html and .pdf into `out` (default
    reports/leadership/ next to the warehouse); each file appears whole or not at all,
    and no partial file outlives a failure (one a killed report left is removed here)."""
    say = progress or (lambda _message: None)
    directory = shared_directory(out or default_report_directory(warehouse))
    say("reading the analyst database ...")
    data = read_report_data(warehouse)
    content = report_content(data)
    say("drawing the charts ...")
    charts = all_charts(data)
    generated_at = dt.datetime.now(dt.UTC)
    stem = f"{REPORT_PREFIX}{data.as_of:%Y-%m-%d}"
    html = directory / f"{stem}.html"
    pdf = directory / f"{stem}.pdf"
    say("writing the HTML and the PDF ...")
    remove_left_over_partials(directory, f"{REPORT_PREFIX}*")
    partial_html = partial_path(html)
    partial_pdf = partial_path(pdf)
    try:
        partial_html.write_text(render_html(content, charts, generated_at), encoding="utf-8")
        render_pdf(content, charts, generated_at, partial_pdf)
        give_shared_mode(partial_html)
        give_shared_mode(partial_pdf)
        partial_html.replace(html)
        partial_pdf.replace(pdf)
    finally:
        partial_html.unlink(missing_ok=True)
        partial_pdf.unlink(missing_ok=True)
    return ReportResult(html=html, pdf=pdf, data=data, content=content)


def report_delivery(result: ReportResult, now: dt.datetime) -> AlertDraft:
    """The report as an outbox message for the leadership list: the headline summary,
    with the PDF attached; one per ISO week."""
    week = f"{now:%G-W%V}"
    body = (
        f"{result.markdown}\n\nThe full report is attached (PDF); the same report as a web "
        f"page: {result.html.resolve()}"
    )
    return AlertDraft(
        kind="leadership_report",
        audience="leadership",
        subject_key="leadership-report",
        episode=week,
        band=None,
        priority=0,
        revenue_at_risk=0.0,
        title=f"{result.content.title}: {result.content.subtitle} (week {week})",
        body=body,
        attachment=str(result.pdf.resolve()),
    )
