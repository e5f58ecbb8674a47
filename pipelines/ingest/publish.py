"""Writing a run's validation report after the run: a report that cannot be written is
a warning, never a failure, because the run's data (or its rejection) is committed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.ingest import report
from pipelines.ingest.load import IngestResult


def write_report(result: IngestResult, directory: Path, warn: Callable[[str], None]) -> Path | None:
    """The report's path, or None (after a warning naming the path and the reason)
    when it could not be written."""
    try:
        return report.write(result, directory)
    except OSError as error:
        where = error.filename or directory
        warn(
            f"warning: the validation report was not written to {where} "
            f"({error.strerror or error}); load {result.load_id} ({result.status}) is "
            "committed and recorded in ops.load_log"
        )
        return None
