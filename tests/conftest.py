"""Shared fixtures: companies generated once per session through the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.testing.utilities import prefect_test_harness
from typer.testing import CliRunner, Result

from pipelines.cli import app
from pipelines.contract import DATE, TABLES, TIMESTAMP

# A pytest-xdist worker runs as `python -c`, so its `__main__` has no `__file__`; pyspark's
# `sql.connect` (imported by Great Expectations) then takes the worker for a doctest run and
# calls sys.exit(0) (pyspark 4.0, sql/connect/utils.py). An empty main file keeps it importing
# as it does in a plain `pytest` run (multiprocessing's spawn would run /dev/null: nothing).
if os.environ.get("PYTEST_XDIST_WORKER") and not hasattr(sys.modules["__main__"], "__file__"):
    sys.modules["__main__"].__file__ = os.devnull

# Every build needs a pseudonym key (there is no default outside the demo): the suite's own,
# set before any command or flow runs. A test that needs none sets it to "".
TEST_PSEUDONYM_KEY = "repradar-test-suite-pseudonym-key-0123456789"
os.environ["REPRADAR_PSEUDONYM_KEY"] = TEST_PSEUDONYM_KEY
NEW_KEY = "a-new-pseudonym-key-after-rotation-abcdefghij"  # what `rotate` tests move to

REPO = Path(__file__).resolve().parents[1]
REPRADAR = str(Path(sys.executable).parent / "repradar")
AS_OF = "2026-10-31"
HOSTILE = "<script>alert(1)</script>"
MARKDOWN_LINK = "[x](https://evil.example)"


def run_repradar(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the installed `repradar` entry point as a user would (`env`: extra variables),
    from a shell whose umask lets everyone read what is created (022, the usual default)."""
    environment = {**os.environ, **(env or {})}
    result = subprocess.run(
        [REPRADAR, *args], capture_output=True, text=True, cwd=REPO, env=environment, umask=0o022
    )
    if check and result.returncode != 0:
        raise AssertionError(f"repradar {' '.join(args)} failed:\n{result.stderr}")
    return result


def rotate(warehouse: Path, old_key: str, new_key: str) -> subprocess.CompletedProcess:
    """`repradar pseudonyms rotate` from `old_key` to `new_key` (configured in its
    environment), the old key on standard input."""
    environment = {**os.environ, "REPRADAR_PSEUDONYM_KEY": new_key}
    return subprocess.run(
        [REPRADAR, "pseudonyms", "rotate", "--old-key-stdin", "--warehouse", str(warehouse)],
        input=old_key + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
    )


def generate_company(out: Path, *extra: str) -> Path:
    run_repradar("generate", "--out", str(out), "--as-of", AS_OF, *extra)
    return out


def ingest_cli(source: Path, warehouse: Path, *extra: str) -> Result:
    """`repradar ingest` in-process (same code path, exit code, stdout and stderr)."""
    args = ["ingest", "--source", str(source), "--warehouse", str(warehouse), *extra]
    return CliRunner().invoke(app, args)


def read_exports(directory: Path) -> dict[str, pd.DataFrame]:
    """Read a clean CSV company with the contract's date and timestamp columns parsed."""
    frames = {}
    for name, table in TABLES.items():
        dates = [c for c, kind in table.columns.items() if kind in (DATE, TIMESTAMP)]
        frames[name] = pd.read_csv(
            directory / f"{name}.csv",
            parse_dates=dates,
            keep_default_na=False,
            na_values=[""],
            dtype={c: str for c in table.columns if c not in dates},
        )
    return frames


@pytest.fixture(scope="session")
def company_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default-size company (150 reps, 36 months) of seed 7."""
    return generate_company(tmp_path_factory.mktemp("company"), "--seed", "7")


@pytest.fixture(scope="session")
def company(company_dir: Path) -> dict[str, pd.DataFrame]:
    return read_exports(company_dir)


@pytest.fixture(scope="session")
def truth(company_dir: Path) -> dict[str, pd.DataFrame]:
    truth_dir = company_dir / "_truth"
    return {p.stem: pd.read_csv(p) for p in truth_dir.glob("*.csv")}


@pytest.fixture(scope="session")
def summary(company_dir: Path) -> dict:
    return json.loads((company_dir / "_truth" / "summary.json").read_text())


@pytest.fixture(scope="session")
def dirty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed 7 with every `--dirty` defect; `_truth/dirty_manifest.csv` lists them."""
    return generate_company(tmp_path_factory.mktemp("dirty"), "--seed", "7", "--dirty")


def build_warehouse(source: Path, warehouse: Path) -> subprocess.CompletedProcess:
    """Ingest a company and build the marts through the real CLI; returns transform's run."""
    run_repradar("ingest", "--source", str(source), "--warehouse", str(warehouse))
    return run_repradar("transform", "--warehouse", str(warehouse))


@pytest.fixture(scope="session")
def built(company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Seed 7 ingested and transformed: (warehouse, stdout of `repradar transform`)."""
    warehouse = tmp_path_factory.mktemp("built") / "warehouse.duckdb"
    finished = build_warehouse(company_dir, warehouse)
    return warehouse, finished.stdout


@pytest.fixture(scope="session")
def warehouse(built: tuple[Path, str]) -> Path:
    return built[0]


@pytest.fixture(scope="session")
def small_company_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small company (20 reps, 12 months) for tests that rebuild the marts."""
    return generate_company(
        tmp_path_factory.mktemp("small"), "--seed", "3", "--reps", "20", "--months", "12"
    )


@pytest.fixture(scope="session")
def small_warehouse(small_company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small company ingested without a mapping and transformed: the canonical side
    of the vendor round trips. Read it only (copy it to change it)."""
    warehouse = tmp_path_factory.mktemp("small-built") / "warehouse.duckdb"
    build_warehouse(small_company_dir, warehouse)
    return warehouse


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """A temporary Prefect server for the flow tests (one per test session)."""
    with pytest.MonkeyPatch.context() as patch:
        # Telemetry writes race the test server's SQLite database ("database is locked").
        patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        with prefect_test_harness(server_startup_timeout=120):
            yield


def flow_run_artifact(state: State, key: str) -> str:
    """The markdown of the artifact `key` that the state's flow run published."""
    with get_client(sync_client=True) as client:
        run_id = str(state.state_details.flow_run_id)
        # The client's read_artifacts sends nulls this server version rejects; ask directly.
        response = client._client.post(
            "/artifacts/filter", json={"artifacts": {"key": {"any_": [key]}}, "limit": 50}
        )
    [artifact] = [a for a in response.json() if a["flow_run_id"] == run_id]
    return artifact["data"]


@pytest.fixture(scope="session")
def hostile_company_dir(company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed 7 with every other account renamed to markup (`<script>alert(1)</script> &
    <b>Sons</b> [x](https://evil.example) N`), to show that reports and alerts print
    names as text: no tag, no link."""
    out = tmp_path_factory.mktemp("hostile")
    shutil.copytree(company_dir, out, dirs_exist_ok=True)
    accounts = pd.read_csv(out / "crm_accounts.csv", dtype=str, keep_default_na=False)
    renamed = accounts.index[::2]
    accounts.loc[renamed, "name"] = [
        f"{HOSTILE} & <b>Sons</b> {MARKDOWN_LINK} {n}" for n in range(len(renamed))
    ]
    accounts.to_csv(out / "crm_accounts.csv", index=False)
    return out


@pytest.fixture(scope="session")
def daily_run(
    hostile_company_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess]:
    """`repradar run --source` (the daily flow: ingest, transform, train, score, alerts to
    the file outbox) on the hostile company: (warehouse, the finished process)."""
    warehouse = tmp_path_factory.mktemp("daily") / "warehouse.duckdb"
    finished = run_repradar(
        "run", "--source", str(hostile_company_dir), "--warehouse", str(warehouse)
    )
    return warehouse, finished


@pytest.fixture(scope="session")
def operated(daily_run: tuple[Path, subprocess.CompletedProcess]) -> Path:
    """The warehouse after one daily run (treat as read-only; copy it to change it)."""
    return daily_run[0]


def copy_warehouse(warehouse: Path, folder: Path) -> Path:
    """Copy `warehouse` and the analyst database published beside it into `folder`;
    returns the copy of the warehouse."""
    copy = folder / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    shutil.copyfile(warehouse.with_name("analytics.duckdb"), folder / "analytics.duckdb")
    return copy


@pytest.fixture
def unalerted(operated: Path, tmp_path: Path) -> Path:
    """A copy of the daily-run warehouse (and its analyst database) with an empty alert
    outbox."""
    copy = copy_warehouse(operated, tmp_path)
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM ops.alert_outbox")
        con.execute("DELETE FROM ops.alert_events")
        con.execute("DELETE FROM ops.alert_deliveries")
    return copy
