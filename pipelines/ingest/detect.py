"""`repradar mapping detect`: which system wrote a directory of exports, and a starter
mapping for the labels of this company's own export.

Each shipped mapping is scored on the directory: the share of its tables whose file is
there, and of the mapped columns those files have (localized headers and alternatives
count). The best one is dry-run on the directory; the values its `values:` maps do not
know (a renamed stage, an extra termination type) come back with the guess the ingest
made, and the starter mapping writes them down, `extends:` the shipped one, so that the
user confirms or corrects a short file instead of editing the shipped one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.ingest import project, read
from pipelines.ingest.dryrun import DryRun, dry_run
from pipelines.ingest.errors import FileRejected
from pipelines.ingest.mapping_yaml import load_yaml
from pipelines.ingest.options import IngestOptions, TableSource, read_mapping, shipped_mappings
from pipelines.ingest.validate import normalise_header

MIN_SCORE = 0.3  # below this share of files and columns, a mapping does not fit


@dataclass
class Match:
    """How well one shipped mapping fits the directory."""

    name: str
    options: IngestOptions
    files: dict[str, list[str]] = field(default_factory=dict)  # table -> files it reads
    tables: int = 0  # tables the mapping configures
    columns_found: int = 0
    columns_expected: int = 0

    @property
    def score(self) -> float:
        if not self.tables:
            return 0.0
        found = len(self.files) / self.tables
        columns = self.columns_found / self.columns_expected if self.columns_expected else 0.0
        return (found + columns) / 2

    def describe(self) -> str:
        return (
            f"{self.name:<12} {len(self.files)} of {self.tables} table file(s) found, "
            f"{self.columns_found} of {self.columns_expected} mapped column(s) present"
        )


def _header(source: read.SourceFile) -> dict[str, str]:
    """The file's header as the mapping's projection matches it."""
    with duckdb.connect() as con:
        fingerprint = read.fingerprint(source, source.spec.encoding)
        staged = read.stage(con, source, fingerprint.encoding, "detect")
        names = project.renamed_headers(staged.header, source.spec.header_aliases)
    return {normalise_header(n): n for n in names.values()}


def _mapped_specs(table_source: TableSource) -> list[Any]:
    entries = [table_source.columns, *table_source.rows]
    return [
        spec
        for entry in entries
        for spec in entry.values()
        if spec.value is None or spec.alternatives
    ]


def score(directory: Path, name: str, options: IngestOptions) -> Match:
    """How well the mapping `options` (shipped as `name`) fits the files of `directory`."""
    match = Match(name, options, tables=len(options.tables))
    try:
        found, _, _ = read.discover(directory, options)
    except read.SourceError:
        return match  # a pattern matches several files: not this system's export
    for table in options.tables:
        sources = found.get(table, [])
        for source in sources:
            specs = _mapped_specs(source.spec)
            match.columns_expected += len(specs)
            try:
                header = _header(source)
            except FileRejected:
                continue
            match.files.setdefault(table, []).append(source.path.name)
            match.columns_found += sum(1 for s in specs if project.chosen(s, header) is not None)
        if not sources:
            match.columns_expected += sum(len(_mapped_specs(s)) for s in options.sources_of(table))
    return match


def ranked(directory: Path) -> list[Match]:
    """Every shipped mapping scored on `directory`, best first."""
    matches = [
        score(directory, name, read_mapping(path)) for name, path in shipped_mappings().items()
    ]
    return sorted(matches, key=lambda m: m.score, reverse=True)


def best(matches: list[Match]) -> Match | None:
    return matches[0] if matches and matches[0].score >= MIN_SCORE else None


def _source_index(options: IngestOptions, table: str, file: str) -> int:
    for index, source in enumerate(options.tables.get(table, ())):
        if any(read.matches(file, pattern) for pattern in source.file):
            return index
    return 0


def _with_values(spec: Any, learned: dict[str, str]) -> Any:
    """A column spec of the YAML (text, mapping or list of alternatives) with `learned`
    added to every `values:` it has."""
    if isinstance(spec, list):
        return [_with_values(s, learned) for s in spec]
    if isinstance(spec, dict) and "values" in spec:
        return {**spec, "values": {**(spec["values"] or {}), **learned}}
    return spec


def starter(check: DryRun, match: Match, directory: Path) -> tuple[str, int, list[str]]:
    """The starter mapping's YAML text, how many guessed values it confirms and the
    values it could not guess (left for the user, as comments)."""
    raw = load_yaml(match.options.path)
    tables: dict[str, Any] = {}
    guessed, unguessed = 0, []
    for log in check.result.files:
        for column, values in log.unknown_values.items():
            learned = {v: g for v, g in values.items() if g is not None}
            unguessed += [
                f"{log.table}.{column}: {v!r} ({log.source_file})"
                for v, g in values.items()
                if g is None
            ]
            if not learned:
                continue
            guessed += len(learned)
            targets = [log.table]
            if log.table == "crm_opportunities" and column == "stage":
                targets.append("crm_opportunity_stage_history")
            for table in targets:
                base = raw.get("tables", {}).get(table)
                if base is None:
                    continue
                index = _source_index(match.options, table, log.source_file)
                entries = base if isinstance(base, list) else [base]
                entry = entries[min(index, len(entries) - 1)]
                spec = (entry.get("columns") or {}).get(column)
                from_headers = entry.get("rows_from_headers") or {}
                if spec is not None:
                    override = {"columns": {column: _with_values(spec, learned)}}
                elif from_headers.get("as") == column:
                    override = {"rows_from_headers": _with_values(from_headers, learned)}
                else:
                    continue
                if isinstance(base, list):
                    current = tables.get(table) or [{} for _ in entries]
                    current[index] = override
                    tables[table] = current
                else:
                    tables[table] = override
    lines = [
        f"# Starter mapping written by `repradar mapping detect` on {dt.date.today()} from",
        f"# {directory}: the shipped mapping {match.name}, with the values of this export",
        "# that it does not map, as the ingest guessed them. Check every guessed value",
        "# (a wrong stage or termination type changes the marts and the model), then:",
        f"#   repradar mapping check THIS_FILE --source {directory}",
    ]
    if unguessed:
        lines += ["# Values without a guess (their rows are quarantined until you map them):"]
        lines += [f"#   {item}" for item in unguessed]
    body = {"extends": match.name, "tables": tables} if tables else {"extends": match.name}
    text = "\n".join(lines) + "\n" + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
    return text, guessed, unguessed


def detect(directory: Path) -> tuple[list[Match], DryRun | None]:
    """Every shipped mapping scored on `directory`, and the dry run of the best one."""
    matches = ranked(directory)
    chosen = best(matches)
    return matches, (dry_run(directory, chosen.options) if chosen is not None else None)
