"""`repradar mapping check`: what a mapping would do to a source, without the warehouse.

The dry run is a real ingest of the source through the mapping into a throw-away DuckDB
file, so it finds exactly what `repradar ingest` would: mapped and unmapped columns,
unknown values, rule failures with their first row, and the rows as they would load.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.ingest.load import IngestRequest, IngestResult, run
from pipelines.ingest.options import IngestOptions
from pipelines.warehouse import q

SAMPLE_ROWS = 3
HIDDEN = ("_load_id", "_source_file", "_loaded_at")


@dataclass
class DryRun:
    options: IngestOptions
    result: IngestResult
    samples: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return self.result.exit_code


def _samples(warehouse: Path, tables: list[str]) -> dict[str, list[dict[str, object]]]:
    samples = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in tables:
            cursor = con.execute(
                f"SELECT * EXCLUDE ({', '.join(HIDDEN)}) FROM raw.{q(table)} "
                f"ORDER BY _source_file LIMIT {SAMPLE_ROWS}"
            )
            names = [d[0] for d in cursor.description]
            samples[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return samples


def dry_run(source: Path, options: IngestOptions, today: dt.date | None = None) -> DryRun:
    """Ingest `source` through `options` into a temporary warehouse and describe it."""
    with tempfile.TemporaryDirectory(prefix="repradar-mapping-check-") as workdir:
        warehouse = Path(workdir) / "dry-run.duckdb"
        request = IngestRequest(
            source=source,
            warehouse=warehouse,
            reports=Path(workdir) / "reports",
            options=options,
            today=today or dt.date.today(),
            force=True,
        )
        result = run(request, progress=lambda _: None)
        loaded = [f.table for f in result.files if f.status == "loaded"]
        samples = _samples(warehouse, loaded) if not result.rejections else {}
    return DryRun(options, result, samples)


def _value_text(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def report_lines(check: DryRun) -> list[str]:
    """The dry run in words, table by table."""
    options, result = check.options, check.result
    lines = []
    if options.description:
        lines.append(f"mapping: {options.path} ({options.description})")
    if options.unverified:
        lines.append(f"unverified: {options.unverified}")
    for load in result.files:
        lines.append("")
        lines.append(
            f"{load.table} <- {load.source_file}: {load.rows_read:,} rows, "
            f"{load.rows_loaded:,} would load, {load.rows_quarantined:,} quarantined"
            + (" (REJECTED)" if load.status == "rejected" else "")
        )
        lines += [f"  {column} <- {origin}" for column, origin in load.origins.items()]
        if load.ignored:
            lines.append("  not mapped (ignored): " + ", ".join(load.ignored))
        lines += [f"  note: {note}" for note in load.notes if not note.startswith("ignored ")]
        for outcome in load.outcomes:
            lines.append(
                f"  {outcome.policy}: {outcome.rule} failed on {outcome.failed:,} row(s), "
                f"first {outcome.example}"
            )
        for row in check.samples.get(load.table, []):
            values = ", ".join(f"{k}={_value_text(v)}" for k, v in row.items())
            lines.append(f"  row: {values}")
    if result.missing_tables:
        lines += ["", "no file for: " + ", ".join(result.missing_tables)]
    for table, patterns in result.unmatched_files.items():
        lines.append(f"the mapping's file for {table} not found: {', '.join(patterns)}")
    if result.ignored_files:
        lines.append("not read: " + ", ".join(result.ignored_files))
    lines.append("")
    if result.rejections:
        lines += [f"error: {rejection}" for rejection in result.rejections]
        lines.append("the load would be rejected (exit code 3); nothing was written anywhere")
    else:
        lines.append("the load would succeed; nothing was written anywhere (dry run)")
    return lines
