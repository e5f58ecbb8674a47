"""The whole dbt project on Spark against the DuckDB build: every model and test, then
six marts compared row for row.

Run: .venv/bin/python benchmarks/spark_parity.py [--reps 20] [--months 12] [--seed 3]
[--workdir DIR]
Generates a company (as of 2026-10-31), ingests it and builds it on DuckDB, then runs
`repradar transform --target spark` (every model, data test and unit test) on the same
warehouse and compares the marts below with pandas. Needs the `spark` extra and Java 17+.
`make test` builds only two marts on Spark (tests/test_transform_spark.py); this is the
full check, about 150 s for the 20-rep company on 2 cores. Exit 1 when a mart differs or a
build fails. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import say  # noqa: E402

from pipelines.transform.spark import spark_table_files  # noqa: E402

REPRADAR = str(Path(sys.executable).with_name("repradar"))
COMPARED = {
    "mart_funnel_conversion": "funnel_row_id",
    "mart_sales_cycle": "sales_cycle_row_id",
    "mart_rep_scorecard": "scorecard_row_id",
    "mart_quota_attainment": "attainment_row_id",
    "mart_headcount_attrition": "headcount_row_id",
    "mart_account_coverage": "account_id",
    "mart_handover_outcomes": "handover_id",
}


def repradar(*args: str) -> float:
    clock = time.perf_counter()
    subprocess.run([REPRADAR, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - clock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", default="20")
    parser.add_argument("--months", default="12")
    parser.add_argument("--seed", default="3")
    parser.add_argument("--workdir", type=Path)
    options = parser.parse_args()
    os.environ.setdefault("REPRADAR_PSEUDONYM_KEY", "benchmark-spark-parity-pseudonym-key-0123")
    work = options.workdir or Path(tempfile.mkdtemp(prefix="spark-parity-"))
    exports, warehouse = work / "exports", work / "warehouse.duckdb"
    say(f"generating and building {options.reps} reps x {options.months} months in {work}")
    repradar(
        "generate",
        "--out",
        str(exports),
        "--reps",
        options.reps,
        "--months",
        options.months,
        "--seed",
        options.seed,
        "--as-of",
        "2026-10-31",
    )
    repradar("ingest", "--source", str(exports), "--warehouse", str(warehouse))
    duckdb_seconds = repradar("transform", "--warehouse", str(warehouse))
    say("building on Spark (every model and test) ...")
    spark_seconds = repradar("transform", "--target", "spark", "--warehouse", str(warehouse))
    print("| mart | rows | equal |")
    print("| --- | ---: | --- |")
    differing = 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart, key in COMPARED.items():
            on_duckdb = con.execute(f"SELECT * FROM marts.{mart} ORDER BY {key}").df()
            files = spark_table_files(warehouse, "marts", mart)
            on_spark = con.execute(f"SELECT * FROM read_parquet('{files}') ORDER BY {key}").df()[
                on_duckdb.columns
            ]
            try:
                pd.testing.assert_frame_equal(on_duckdb, on_spark, check_dtype=False)
                equal = "yes"
            except AssertionError as difference:
                equal = f"no: {str(difference).splitlines()[0]}"
                differing += 1
            print(f"| {mart} | {len(on_duckdb):,} | {equal} |")
    print(f"\nDuckDB build {duckdb_seconds:.1f} s, Spark build {spark_seconds:.1f} s")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
