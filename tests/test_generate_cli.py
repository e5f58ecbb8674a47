"""`repradar generate` and `repradar demo` as a user runs them."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.contract import TABLES
from tests.conftest import generate_company, run_repradar


def file_digests(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    first = generate_company(tmp_path / "a", "--reps", "24", "--months", "12", "--seed", "3")
    second = generate_company(tmp_path / "b", "--reps", "24", "--months", "12", "--seed", "3")
    assert file_digests(first) == file_digests(second)


def test_different_seed_writes_different_data(tmp_path: Path) -> None:
    first = generate_company(tmp_path / "a", "--reps", "24", "--months", "12", "--seed", "3")
    second = generate_company(tmp_path / "b", "--reps", "24", "--months", "12", "--seed", "4")
    changed = [
        name
        for name in TABLES
        if (first / f"{name}.csv").read_bytes() != (second / f"{name}.csv").read_bytes()
    ]
    assert changed == list(TABLES)


def test_parquet_export_has_every_table_with_typed_columns(tmp_path: Path) -> None:
    out = generate_company(tmp_path, "--reps", "24", "--months", "12", "--format", "parquet")
    for name, table in TABLES.items():
        schema = pq.read_schema(out / f"{name}.parquet")
        assert schema.names == list(table.columns)
        for column, kind in table.columns.items():
            arrow_type = str(schema.field(column).type)
            expected = {
                "string": "string",
                "integer": "int64",
                "decimal": "double",
                "boolean": "bool",
                "date": "date32[day]",
                "timestamp": "timestamp[ms]",  # Parquet has no second unit
            }[kind]
            assert arrow_type == expected, f"{name}.{column}: {arrow_type}"


def test_parquet_is_reproducible_too(tmp_path: Path) -> None:
    args = ("--reps", "12", "--months", "6", "--format", "parquet")
    assert file_digests(generate_company(tmp_path / "a", *args)) == file_digests(
        generate_company(tmp_path / "b", *args)
    )


def test_as_of_date_bounds_every_date(tmp_path: Path) -> None:
    out = generate_company(tmp_path, "--reps", "24", "--months", "12")
    text = (out / "crm_opportunity_stage_history.csv").read_text()
    last_day = max(line.rsplit(",", 1)[1] for line in text.splitlines()[1:])
    assert last_day <= "2026-10-31"


def test_generate_help_documents_every_option() -> None:
    help_text = run_repradar("generate", "--help").stdout
    for option in ("--out", "--reps", "--months", "--seed", "--as-of", "--format", "--dirty"):
        assert option in help_text


def test_too_few_reps_is_a_usage_error(tmp_path: Path) -> None:
    result = run_repradar("generate", "--out", str(tmp_path), "--reps", "3", check=False)
    assert result.returncode == 2
    assert "--reps" in result.stderr


def test_dirty_parquet_is_refused_with_a_reason(tmp_path: Path) -> None:
    result = run_repradar(
        "generate", "--out", str(tmp_path), "--dirty", "--format", "parquet", check=False
    )
    assert result.returncode == 2
    assert "CSV" in result.stderr
    assert not list(tmp_path.iterdir())


def test_every_subcommand_has_help() -> None:
    assert "Usage:" in run_repradar("--help").stdout  # the installed entry point
    commands = ("generate", "demo", "ingest", "transform", "docs", "train", "score", "report")
    commands += ("run", "serve", "alerts", "alerts send", "alerts list", "alerts ack")
    for command in commands:  # the same app in-process (each process start imports it all)
        result = CliRunner().invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0 and "Usage:" in result.stdout, command


def test_demo_runs_every_step_and_prints_where_the_results_are(
    tmp_path: Path,
) -> None:
    # simulated people never leave the machine, whatever channels are configured; with no
    # pseudonym key configured the demo makes its own
    env = {"REPRADAR_ALERT_URLS": "json://127.0.0.1:9/", "REPRADAR_PSEUDONYM_KEY": ""}
    result = run_repradar("demo", "--dir", str(tmp_path / "demo"), env=env)
    assert (tmp_path / "demo" / "exports" / "crm_opportunities.csv").exists()
    assert str(tmp_path / "demo" / "exports") in result.stdout
    assert str(tmp_path / "demo" / "warehouse.duckdb") in result.stdout
    assert "crm_opportunities.csv" in result.stdout.split("Load summary:")[1]
    assert (tmp_path / "demo" / "reports" / "validation" / "latest.html").exists()
    assert "built 43 models and passed" in result.stdout
    assert "Headline KPIs:" in result.stdout
    assert "win rate, deals closed in the last 12 months: " in result.stdout
    with duckdb.connect(str(tmp_path / "demo" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.mart_rep_scorecard").fetchone()[0] > 0
    assert "ROC AUC" in result.stdout.split("Attrition model:")[1]
    assert list((tmp_path / "demo" / "models").glob("*/model_card.md"))
    risk = result.stdout.split("Risk by team")[1]
    assert "All teams" in risk and "revenue at risk" in risk
    results = result.stdout.split("Results:")[1]
    demo = tmp_path / "demo"
    for path in (
        demo / "warehouse.duckdb",
        demo / "analytics.duckdb",
        demo / "reports" / "leadership" / "leadership-report-",
        demo / "outbox" / "hr",
    ):
        assert str(path) in results
    assert list((demo / "reports" / "leadership").glob("*.pdf"))
    assert list((demo / "outbox" / "hr").glob("*.md"))
    assert "Not built yet" not in result.stdout
    key = demo / "pseudonym.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_text().strip()) >= 48
