"""Ingestion: export files -> validated DuckDB `raw` layer, with quarantine and a load log.

`ingest()` is what `repradar ingest` and the Prefect flow `ingest` both run.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from pipelines.ingest.load import FileLoad, IngestRequest, IngestResult, run
from pipelines.ingest.publish import write_report
from pipelines.safe_text import terminal


def ingest(request: IngestRequest, progress: Callable[[str], None]) -> IngestResult:
    """Validate and load the exports, then write the validation report (a report that
    cannot be written is a warning through `progress`: the load is committed)."""
    result = run(request, progress)
    result.report = write_report(result, request.reports, warn=progress)
    return result


def _padded(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns (CJK characters take two)."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - shown, 0)


def summary_lines(result: IngestResult) -> list[str]:
    """The load summary printed by the CLI and the demo, one table row per file."""
    lines = [
        f"{'table':<30} {'file':<36} {'status':<12} {'read':>10} {'loaded':>10} {'quarantined':>12}"
    ]
    for f in result.files:
        lines.append(
            f"{f.table:<30} {_padded(f.source_file, 36)} {f.status:<12} {f.rows_read:>10,} "
            f"{f.rows_loaded:>10,} {f.rows_quarantined:>12,}"
        )
    lines.append(
        f"{'total':<30} {'':<36} {'':<12} {sum(f.rows_read for f in result.files):>10,} "
        f"{sum(f.rows_loaded for f in result.files):>10,} "
        f"{sum(f.rows_quarantined for f in result.files):>12,}"
    )
    if result.missing_tables:
        lines.append("no file for: " + ", ".join(result.missing_tables))
    for table, patterns in result.unmatched_files.items():
        lines.append(f"the mapping's file for {table} not found: {', '.join(patterns)}")
    if result.ignored_files:
        lines.append("not read (not a contract table): " + ", ".join(result.ignored_files))
    return lines + problem_lines(result)


EXAMPLE_CHARACTERS = 160  # of a rule's first failure, in the terminal summary


def problem_lines(result: IngestResult) -> list[str]:
    """Every rule that failed, by file: its policy, how many rows and the first one, so a
    user sees all of a run's problems at once (the report has the same, in full)."""
    lines = []
    for f in result.files:
        failed = [o for o in f.outcomes if o.failed]
        if not failed:
            continue
        lines.append(f"problems in {f.source_file} ({f.table}):")
        for o in failed:  # the example quotes the file's values: plain text only
            example = terminal(o.example, EXAMPLE_CHARACTERS)
            lines.append(f"  {o.rule} ({o.policy}): {o.failed:,} row(s); first: {example}")
    return lines


def markdown_summary(result: IngestResult) -> str:
    """The load summary as a markdown table (the Prefect artifact of the flow run)."""
    lines = [
        f"# Load `{result.load_id}`: {result.status}",
        "",
        "| file | status | read | loaded | quarantined |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {f.source_file} | {f.status} | {f.rows_read:,} | {f.rows_loaded:,} | "
        f"{f.rows_quarantined:,} |"
        for f in result.files
    ]
    lines += ["", *(f"- rejected: {r}" for r in result.rejections)]
    lines.append(f"Validation report: `{result.report}`")
    return "\n".join(lines)


__all__ = [
    "FileLoad",
    "IngestRequest",
    "IngestResult",
    "ingest",
    "markdown_summary",
    "summary_lines",
]
