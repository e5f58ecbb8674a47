"""The expectation suites: valid GX suites, complete for the contract, and GX agrees with
the SQL the ingest compiles them to."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import great_expectations as gx
import pandas as pd
import pytest

from pipelines.contract import DATE, DECIMAL, INTEGER, STRING, TABLES, TIMESTAMP
from pipelines.ingest.load import LOAD_ORDER
from pipelines.ingest.suites import SUITE_DIR, Policy, load_suite
from tests.conftest import ingest_cli

TODAY = pd.Timestamp.today().normalize()
# Rules GX evaluates row by row on the file as it is, like the ingest's first pass.
ROW_RULES = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b",
)


def suite_json(table: str) -> dict:
    return json.loads((SUITE_DIR / f"{table}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("table", TABLES)
def test_every_suite_is_a_valid_great_expectations_suite(table: str) -> None:
    suite = gx.ExpectationSuite(**suite_json(table))
    assert suite.name == table
    assert len(suite.expectations) == len(suite_json(table)["expectations"])


@pytest.mark.parametrize("table", TABLES)
def test_every_contract_column_has_presence_type_and_null_rules(table: str) -> None:
    rules = {r.rule_id: r for r in load_suite(table)}
    contract = TABLES[table]
    for column, kind in contract.columns.items():
        presence = rules[f"{column}.present"].policy
        assert presence is (Policy.WARN if column in contract.nullable else Policy.REJECT_FILE)
        assert (f"{column}.not_null" in rules) == (column not in contract.nullable)
        assert (f"{column}.type" in rules) == (kind != STRING)
    assert rules["key.unique"].kwargs.get("column_list", [rules["key.unique"].column]) == list(
        contract.key
    )


def test_references_point_to_tables_loaded_earlier() -> None:
    for table in LOAD_ORDER:
        for rule in load_suite(table):
            if rule.references:
                parent = rule.references.split(".")[0]
                assert LOAD_ORDER.index(parent) <= LOAD_ORDER.index(table), rule.qualified_id


def test_every_table_is_in_the_load_order() -> None:
    assert sorted(LOAD_ORDER) == sorted(TABLES)


@pytest.fixture(scope="module")
def dirty_load(dirty_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dirty company, less the survey file that is rejected, ingested."""
    source = tmp_path_factory.mktemp("dirty_rows") / "exports"
    shutil.copytree(dirty_dir, source, ignore=shutil.ignore_patterns("_truth"))
    (source / "hr_engagement_surveys.csv").unlink()
    warehouse = source.parent / "warehouse.duckdb"
    assert ingest_cli(source, warehouse).exit_code == 0
    return warehouse


def _frames(path: Path, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The file as trimmed text, and as values GX can compare (numbers, ISO date text,
    value-set members in their canonical spelling)."""
    encoding = "gb18030" if table == "crm_accounts" else "utf-8-sig"
    text = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    text = text.apply(lambda c: c.str.strip()).replace("", None)
    values = text.copy()
    for column, kind in TABLES[table].columns.items():
        if kind in (DATE, TIMESTAMP):
            values[column] = pd.to_datetime(text[column], format="ISO8601", errors="coerce")
        elif kind in (INTEGER, DECIMAL):
            values[column] = pd.to_numeric(text[column], errors="coerce")
    for rule in load_suite(table):
        if isinstance(rule.kwargs.get("value_set"), list):
            canonical = {v.lower(): v for v in rule.kwargs["value_set"]}
            values[rule.column] = text[rule.column].map(
                lambda v, c=canonical: c.get(v.lower(), v) if v is not None else None
            )
    return text, values


def _gx_failures(table: str, text: pd.DataFrame, values: pd.DataFrame) -> dict[str, int]:
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("exports")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("file")
    )
    expectations = [e for e in suite_json(table)["expectations"] if e["type"] in ROW_RULES]
    on_text = [
        e
        for e in expectations
        if e["type"] != "expect_column_values_to_be_in_set" and e["type"] in ROW_RULES[:2]
    ]
    on_values = [
        e
        for e in expectations
        if e not in on_text and isinstance(e["kwargs"].get("value_set", []), list)
    ]
    for expectation in on_values:  # GX compares datetimes; the suites store ISO dates
        for bound in ("min_value", "max_value"):
            if isinstance(expectation["kwargs"].get(bound), str):
                expectation["kwargs"][bound] = pd.Timestamp(expectation["kwargs"][bound])
    failures = {}
    for frame, chosen in ((text, on_text), (values, on_values)):
        suite = gx.ExpectationSuite(name=f"{table}_rows", expectations=chosen)
        result = batch.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, expectation_parameters={"today": TODAY}
        )
        for outcome in result.results:
            assert "unexpected_count" in outcome.result, outcome.exception_info
            failures[outcome.expectation_config.meta["rule"]] = outcome.result["unexpected_count"]
    return failures


def _not_a_real_value(text: pd.DataFrame, table: str, rule_id: str, regex: str) -> int:
    """Values that match a type's pattern but are not real values (2024-13-45)."""
    column = rule_id.removesuffix(".type")
    values = text[column].dropna()
    shaped = values[values.map(lambda v: re.fullmatch(regex, v) is not None)]
    if TABLES[table].columns[column] in (DATE, TIMESTAMP):
        return int(pd.to_datetime(shaped, format="ISO8601", errors="coerce").isna().sum())
    return 0


@pytest.mark.parametrize("table", [t for t in TABLES if t != "hr_engagement_surveys"])
def test_great_expectations_and_the_ingest_fail_the_same_rows(
    table: str, dirty_dir: Path, dirty_load: Path
) -> None:
    import duckdb

    text, values = _frames(dirty_dir / f"{table}.csv", table)
    with duckdb.connect(str(dirty_load), read_only=True) as con:
        ours = dict(
            con.execute(
                "SELECT rule, failed_rows FROM ops.validation_results WHERE table_name = ?",
                [table],
            ).fetchall()
        )
    regexes = {r.rule_id: r.kwargs.get("regex") for r in load_suite(table)}
    for rule_id, gx_count in _gx_failures(table, text, values).items():
        expected = gx_count
        if rule_id.endswith(".type"):
            expected += _not_a_real_value(text, table, rule_id, regexes[rule_id])
        assert ours.get(rule_id, 0) == expected, f"{table}.{rule_id}"
