"""How to read a source: the options of `repradar ingest` and its `--mapping` YAML file.

A mapping file may set, globally or per table: the file name, the text encoding, the
delimiter, and the source column name of each contract column. Globally it also sets the
day/month order of ambiguous dates, the policy of any rule, and the share of a file's
rows that may be quarantined before the whole file is rejected.

```yaml
date_order: MDY            # 03/05/2024 is March 5th (default DMY: 5 March)
encoding: gb18030          # default: detected (UTF-8, UTF-8 with BOM, else GB18030)
max_quarantine_share: 0.5  # more than half the rows failing rejects the file
policies:
  crm_activities.logged_at.not_before_occurred_at: warn
tables:
  crm_opportunities:
    file: Opportunities.csv
    delimiter: ";"
    columns: {opportunity_id: Id, owner_user_id: OwnerId}
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.contract import TABLES
from pipelines.ingest.suites import Policy, all_rule_ids

DATE_ORDERS = ("DMY", "MDY")
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "latin-1", "cp1252", "utf-16")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class TableSource:
    """Where one contract table comes from."""

    file: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestOptions:
    date_order: str = "DMY"
    encoding: str | None = None
    delimiter: str | None = None
    max_quarantine_share: float = 0.5
    policies: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TableSource] = field(default_factory=dict)

    def source_of(self, table: str) -> TableSource:
        configured = self.tables.get(table, TableSource())
        return TableSource(
            file=configured.file,
            encoding=configured.encoding or self.encoding,
            delimiter=configured.delimiter or self.delimiter,
            columns=configured.columns,
        )


def _check_keys(where: str, found: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _check_encoding(where: str, encoding: str | None) -> None:
    if encoding is not None and encoding.lower() not in ENCODINGS:
        raise MappingError(
            f"{where}: encoding {encoding!r} is not supported; use one of {', '.join(ENCODINGS)}"
        )


def _table_source(path: Path, table: str, spec: dict[str, Any]) -> TableSource:
    where = f"{path}: tables.{table}"
    if table not in TABLES:
        raise MappingError(f"{where}: not a contract table; tables are {', '.join(TABLES)}")
    _check_keys(where, spec, {"file", "encoding", "delimiter", "columns"})
    _check_encoding(where, spec.get("encoding"))
    columns = spec.get("columns") or {}
    unknown = sorted(set(columns) - set(TABLES[table].columns))
    if unknown:
        raise MappingError(
            f"{where}.columns: {', '.join(unknown)} not in the contract; "
            f"{table} has {', '.join(TABLES[table].columns)}"
        )
    return TableSource(
        file=spec.get("file"),
        encoding=spec.get("encoding"),
        delimiter=spec.get("delimiter"),
        columns={k: str(v) for k, v in columns.items()},
    )


def read_mapping(path: Path) -> IngestOptions:
    """Parse and check a mapping file; every mistake is a MappingError naming the key."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise MappingError(f"{path}: cannot read the mapping file: {error}") from error
    if not isinstance(spec, dict):
        raise MappingError(f"{path}: expected a mapping of keys, found {type(spec).__name__}")
    allowed = {"date_order", "encoding", "delimiter", "max_quarantine_share", "policies", "tables"}
    _check_keys(str(path), spec, allowed)
    date_order = str(spec.get("date_order", "DMY")).upper()
    if date_order not in DATE_ORDERS:
        raise MappingError(f"{path}: date_order {date_order!r} must be one of DMY, MDY")
    _check_encoding(str(path), spec.get("encoding"))
    share = float(spec.get("max_quarantine_share", 0.5))
    if not 0 <= share <= 1:
        raise MappingError(f"{path}: max_quarantine_share {share} must be between 0 and 1")
    policies = {str(k): str(v) for k, v in (spec.get("policies") or {}).items()}
    known = all_rule_ids()
    for rule, policy in policies.items():
        if rule not in known:
            raise MappingError(f"{path}: policies.{rule} is not a rule of any suite")
        if policy not in {p.value for p in Policy}:
            raise MappingError(
                f"{path}: policies.{rule}: {policy!r} must be reject_row, reject_file or warn"
            )
    tables = {
        table: _table_source(path, table, table_spec or {})
        for table, table_spec in (spec.get("tables") or {}).items()
    }
    return IngestOptions(
        date_order=date_order,
        encoding=spec.get("encoding"),
        delimiter=spec.get("delimiter"),
        max_quarantine_share=share,
        policies=policies,
        tables=tables,
    )
