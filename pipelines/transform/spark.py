"""`repradar transform --target spark`: the same dbt project on a local Spark session.

The raw tables are handed over as Parquet (DuckDB `COPY`), registered in Spark by the
project's on-run-start hook, and the marts are written as Parquet tables under
`spark/warehouse/<schema>.db/<table>/` next to the DuckDB warehouse. Spark's metastore
(embedded Derby) admits one Spark process at a time, so this also takes the writer lock.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.pseudonyms import check_key, pseudonym_key, pseudonym_table
from pipelines.transform.build import (
    RISK_SCORES_TAG,
    TransformError,
    TransformResult,
    check_raw_data,
)
from pipelines.transform.dbt_invoke import PROJECT_DIR, Progress, invoke
from pipelines.warehouse import lit, new_run_id, writer_lock


def spark_directory(warehouse: Path) -> Path:
    """Spark's state for this warehouse: metastore, Parquet raw tables, built tables."""
    return warehouse.parent / "spark"


def spark_table_files(warehouse: Path, schema: str, table: str) -> str:
    """Glob of the Parquet files of a table built on Spark (readable with DuckDB)."""
    return str(spark_directory(warehouse) / "warehouse" / f"{schema}.db" / table / "*.parquet")


def export_raw(warehouse: Path, directory: Path, key: bytes) -> list[str]:
    """Write every raw table as directory/<table>/data.parquet and the pseudonyms made
    with `key` as directory/pseudonyms.keys/data.parquet; return the raw table names."""
    if directory.exists():
        shutil.rmtree(directory)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' "
                "ORDER BY 1"
            ).fetchall()
        ]
        for table in tables:
            (directory / table).mkdir(parents=True)
            target = str(directory / table / "data.parquet").replace("'", "''")
            con.execute(f"COPY raw.{table} TO '{target}' (FORMAT parquet)")
        check_key(con, key)
        pseudonyms = pseudonym_table(con, key)
        (directory / "pseudonyms.keys").mkdir(parents=True)
        target = lit(str(directory / "pseudonyms.keys" / "data.parquet"))
        con.register("pseudonyms", pseudonyms)
        con.execute(f"COPY (SELECT * FROM pseudonyms) TO {target} (FORMAT parquet)")
        con.unregister("pseudonyms")
    return tables


def build_spark(
    warehouse: Path,
    *,
    select: list[str] | None = None,
    exclude: list[str] | None = None,
    variables: str | None = None,
    progress: Progress | None = None,
) -> TransformResult:
    """dbt build of the project on local Spark from the warehouse's raw tables: every
    model and test, or only the nodes dbt's `select` and `exclude` name (node selection
    syntax; a selected model brings the tests whose every parent is selected)."""
    if (
        importlib.util.find_spec("pyspark") is None
        or importlib.util.find_spec("dbt.adapters.spark") is None
    ):
        raise TransformError(
            "the spark target needs the spark extra (pyspark and dbt-spark): "
            "`uv sync --extra spark`, or `pip install 'repradar[spark]'`"
        )
    check_raw_data(warehouse)
    key = pseudonym_key(warehouse)
    say = progress or (lambda _: None)
    state = spark_directory(warehouse).resolve()
    run_id = new_run_id()
    clock = time.perf_counter()
    with writer_lock(warehouse):
        tables = export_raw(warehouse, state / "raw", key)
        say(f"handed {len(tables)} raw tables to Spark as Parquet under {state / 'raw'}")
        say("starting Spark (local) and building; the first statement takes ~15 s ...")
        outcome = invoke(
            [
                "build",
                *(["--select", *select, "--indirect-selection", "cautious"] if select else []),
                "--exclude",
                f"tag:{RISK_SCORES_TAG}",
                *(exclude or []),
            ],
            target="spark",
            work_dir=state / "dbt",
            environment={
                settings.SPARK_DIR.name: str(state),
                settings.RAW_PARQUET.name: str(state / "raw"),
                settings.SPARK_LOG4J.name: str(PROJECT_DIR / "spark" / "log4j2.properties"),
                "SPARK_LOCAL_IP": "127.0.0.1",
            },
            variables=variables,
            progress=progress,
        )
    return TransformResult.from_outcome(
        outcome,
        run_id=run_id,
        target="spark",
        warehouse=state / "warehouse",
        seconds=time.perf_counter() - clock,
    )
