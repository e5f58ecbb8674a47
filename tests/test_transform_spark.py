"""The same dbt project on Spark (dbt-spark, method: session, local) gives the same marts.

The suite builds the two marts whose SQL differs most between engines (percentiles and
month arithmetic go through adapter-dispatched macros) with their parents; the whole
project with every test, compared mart by mart, is `benchmarks/spark_parity.py`."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.transform.spark import spark_table_files
from tests.conftest import run_repradar

COMPARED = {
    "mart_sales_cycle": "sales_cycle_row_id",
    "mart_headcount_attrition": "headcount_row_id",
}
SELECTION = [argument for mart in COMPARED for argument in ("--select", f"+{mart}")]
MODELS_ONLY = ["--exclude", "resource_type:test", "--exclude", "resource_type:unit_test"]


@pytest.fixture(scope="module")
def both_builds(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small company's DuckDB build, then the compared marts (and the models
    they are made of) built again on Spark from its raw tables."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("the spark extra is not installed (uv sync --extra spark)")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime (java not on PATH)")
    warehouse = tmp_path_factory.mktemp("spark") / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, warehouse)
    finished = run_repradar(
        "transform", "--target", "spark", *SELECTION, *MODELS_ONLY, "--warehouse", str(warehouse)
    )
    assert "on spark" in finished.stdout
    return warehouse


def spark_mart(warehouse: Path, mart: str) -> Path:
    return Path(spark_table_files(warehouse, "marts", mart)).parent


@pytest.mark.parametrize("mart", sorted(COMPARED))
def test_spark_builds_the_same_mart_as_duckdb(both_builds: Path, mart: str) -> None:
    key = COMPARED[mart]
    with duckdb.connect(str(both_builds), read_only=True) as con:
        on_duckdb = con.execute(f"SELECT * FROM marts.{mart} ORDER BY {key}").df()
        files = spark_table_files(both_builds, "marts", mart)
        on_spark = con.execute(f"SELECT * FROM read_parquet('{files}') ORDER BY {key}").df()[
            on_duckdb.columns
        ]
    assert len(on_duckdb) > 10
    pd.testing.assert_frame_equal(on_duckdb, on_spark, check_dtype=False)


def test_a_selection_builds_only_the_selected_marts_on_spark(both_builds: Path) -> None:
    assert all(spark_mart(both_builds, mart).is_dir() for mart in COMPARED)
    assert not spark_mart(both_builds, "mart_account_coverage").exists()


def test_spark_state_stays_next_to_the_warehouse(both_builds: Path) -> None:
    spark = both_builds.parent / "spark"
    assert (spark / "metastore_db").is_dir()
    assert (spark / "raw" / "crm_opportunities" / "data.parquet").is_file()
    assert not (Path.cwd() / "metastore_db").exists()


def test_a_selection_on_the_duckdb_target_is_a_usage_error(tmp_path: Path) -> None:
    """A DuckDB build is whole: the analyst database is published from it."""
    warehouse = tmp_path / "warehouse.duckdb"
    finished = run_repradar(
        "transform", "--select", "+mart_sales_cycle", "--warehouse", str(warehouse), check=False
    )
    assert finished.returncode == 2
    assert "--select and --exclude are for `--target spark`" in finished.stderr
    assert not warehouse.exists()
