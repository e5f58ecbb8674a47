"""The validation rules: one Great Expectations suite per contract table.

The suites are plain GX `ExpectationSuite` JSON files in `expectations/`, reviewed like
code. Each expectation's `meta` names its rule id, its policy (what happens to a row or
file that fails it) and the expected value in words, which is what error messages quote.
The ingest compiles them to DuckDB SQL (see `validate.py`); the tests also run them
through GX itself to prove the two agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pipelines.errors import RepradarError

SUITE_DIR = Path(__file__).parent / "expectations"


class Policy(StrEnum):
    """What a failed rule does."""

    REJECT_ROW = "reject_row"  # the row goes to quarantine, the rest of the file loads
    REJECT_FILE = "reject_file"  # the whole run is rejected, nothing changes (exit 3)
    WARN = "warn"  # the row loads; the failure is counted in the report


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, as the ingest uses it."""

    table: str
    rule_id: str
    expectation: str
    kwargs: dict[str, Any]
    policy: Policy
    expected: str
    references: str | None = None

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or self.kwargs.get("column_A")

    @property
    def qualified_id(self) -> str:
        return f"{self.table}.{self.rule_id}"


class SuiteError(RepradarError, ValueError):
    """A suite or a policy override that cannot be used."""


def load_suite(table: str, policy_overrides: dict[str, str] | None = None) -> list[Rule]:
    """The rules of one table, with policies overridden by `table.rule` keys."""
    path = SUITE_DIR / f"{table}.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    overrides = policy_overrides or {}
    rules = []
    for expectation in suite["expectations"]:
        meta = expectation["meta"]
        rule_id = meta["rule"]
        policy = overrides.get(f"{table}.{rule_id}", meta["policy"])
        try:
            policy = Policy(policy)
        except ValueError as error:
            raise SuiteError(
                f"{table}.{rule_id}: policy {policy!r} is not one of "
                f"{', '.join(p.value for p in Policy)}"
            ) from error
        rules.append(
            Rule(
                table=table,
                rule_id=rule_id,
                expectation=expectation["type"],
                kwargs=expectation["kwargs"],
                policy=policy,
                expected=meta["expected"],
                references=meta.get("references"),
            )
        )
    return rules


def all_rule_ids() -> set[str]:
    """Every `table.rule` id of every suite (to check policy overrides against)."""
    return {
        f"{path.stem}.{expectation['meta']['rule']}"
        for path in SUITE_DIR.glob("*.json")
        for expectation in json.loads(path.read_text(encoding="utf-8"))["expectations"]
    }


def value_sets(rules: list[Rule]) -> dict[str, list[str]]:
    """Each column with a fixed set of contract values (an in-set rule): those values."""
    return {
        rule.column: rule.kwargs["value_set"]
        for rule in rules
        if rule.column is not None
        and rule.expectation == "expect_column_values_to_be_in_set"
        and isinstance(rule.kwargs.get("value_set"), list)
    }
