"""The leadership report: aggregates from the marts as self-contained HTML and PDF."""

from pipelines.report.build import ReportResult, build_report, default_report_directory
from pipelines.report.data import ReportDataError

__all__ = ["ReportDataError", "ReportResult", "build_report", "default_report_directory"]
