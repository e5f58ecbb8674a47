"""Faults of the ingest and of runs that meet: every writing command refused while
another run writes the warehouse (nothing touched), `kill -9` of an ingest at two
moments, and an ingest on a full disk (a small tmpfs). Each outcome is exact: the
warehouse holds the last good load, and the next run works."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pipelines.cli import app
from pipelines.warehouse import scratch_copy_path, writer_lock
from tests.conftest import REPO, ingest_cli
from tests.disk import mounted_tmpfs, take_free_space
from tests.marts import query

KILL = "os.kill(os.getpid(), signal.SIGKILL)"
INGEST = "from pipelines.cli import app\napp(sys.argv[1:])\n"
INGEST_KILLED_AFTER_ITS_FIRST_FILE = f"""import os, signal, sys
import pipelines.ingest.load as load
real = load._load_file
calls = []
def load_then_die(*args, **kwargs):
    if calls:
        {KILL}
    calls.append(1)
    return real(*args, **kwargs)
load._load_file = load_then_die
{INGEST}"""
INGEST_KILLED_BEFORE_ITS_COMMIT = f"""import os, signal, sys
import pipelines.ingest.load as load
load._write_log = lambda *args, **kwargs: {KILL}
{INGEST}"""
RAW_ROWS = (
    "SELECT (SELECT count(*) FROM raw.crm_users) + (SELECT count(*) FROM raw.crm_accounts)"
    " + (SELECT count(*) FROM raw.crm_opportunities) + (SELECT count(*) FROM raw.hr_employees)"
    " AS n"
)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_rows(warehouse: Path) -> int:
    return int(query(warehouse, RAW_ROWS)["n"].iloc[0])


def run_statuses(warehouse: Path) -> list[str]:
    frame = query(warehouse, "SELECT status FROM ops.ingest_runs ORDER BY started_at")
    return frame["status"].tolist()


@pytest.fixture(scope="module")
def held(operated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the daily-run warehouse whose writer lock this test process holds."""
    directory = tmp_path_factory.mktemp("held")
    shutil.copytree(operated.parent / "models", directory / "models")
    copy = directory / "warehouse.duckdb"
    shutil.copyfile(operated, copy)
    with writer_lock(copy):
        yield copy


# two runs at once: the second is refused and changes nothing

WRITING_COMMANDS = {
    "ingest": ["ingest", "--source", "{source}"],
    "transform": ["transform"],
    "train": ["train"],
    "score": ["score"],
    "alerts send": ["alerts", "send"],
    "alerts ack": ["alerts", "ack", "1", "--by", "dana", "--action", "stay interview"],
    "docs": ["docs", "--out", "{out}"],
}


@pytest.mark.parametrize("command", WRITING_COMMANDS, ids=str)
def test_a_writing_command_is_refused_with_exit_4_while_another_run_writes(
    command: str, held: Path, small_company_dir: Path, tmp_path: Path
) -> None:
    before = sha256(held)
    args = [
        part.format(source=small_company_dir, out=tmp_path / "docs")
        for part in WRITING_COMMANDS[command]
    ]
    result = invoke(*args, "--warehouse", str(held))
    assert result.exit_code == 4, result.output
    assert f"another repradar run is writing {held}" in result.stderr
    assert "Traceback" not in result.output
    assert sha256(held) == before
    assert not scratch_copy_path(held).exists()


def test_train_is_refused_before_it_spends_time_backtesting(held: Path) -> None:
    result = invoke("train", "--warehouse", str(held))
    assert result.exit_code == 4
    assert "backtesting" not in result.output


def test_the_refusal_names_the_process_that_holds_the_warehouse(held: Path) -> None:
    result = invoke("transform", "--warehouse", str(held))
    assert f"(pid {__import__('os').getpid()}, started " in result.stderr


# kill -9 of an ingest


def killed_ingest(script: str, source: Path, warehouse: Path) -> None:
    command = ["ingest", "--source", str(source), "--warehouse", str(warehouse)]
    finished = subprocess.run(
        [sys.executable, "-c", script, *command], cwd=REPO, capture_output=True, text=True
    )
    assert finished.returncode == -signal.SIGKILL, finished.stderr


@pytest.fixture
def loaded_once(small_company_dir: Path, tmp_path: Path) -> Path:
    """A warehouse holding one load of the small company."""
    warehouse = tmp_path / "warehouse.duckdb"
    result = ingest_cli(small_company_dir, warehouse)
    assert result.exit_code == 0, result.output
    return warehouse


@pytest.mark.parametrize(
    "script",
    [INGEST_KILLED_AFTER_ITS_FIRST_FILE, INGEST_KILLED_BEFORE_ITS_COMMIT],
    ids=["after its first file", "before its commit"],
)
def test_an_ingest_killed_midway_leaves_the_last_load_and_the_next_ingest_works(
    script: str, loaded_once: Path, company_dir: Path
) -> None:
    before = raw_rows(loaded_once)
    killed_ingest(script, company_dir, loaded_once)
    assert raw_rows(loaded_once) == before
    assert run_statuses(loaded_once) == ["loaded", "running"]

    result = ingest_cli(company_dir, loaded_once)
    assert result.exit_code == 0, result.output
    assert run_statuses(loaded_once) == ["loaded", "interrupted", "loaded"]
    assert raw_rows(loaded_once) > before


# an ingest on a full disk


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path / "disk", size_mib=40) as mount_point:
        yield mount_point


def test_an_ingest_on_a_full_disk_exits_1_with_one_line_and_keeps_the_last_load(
    small_company_dir: Path, company_dir: Path, disk: Path
) -> None:
    warehouse = disk / "warehouse.duckdb"
    assert ingest_cli(small_company_dir, warehouse).exit_code == 0
    before = raw_rows(warehouse)
    filler = take_free_space(disk, leave=256 * 1024)

    result = ingest_cli(company_dir, warehouse)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0] == result.stderr.splitlines()[-1]
    assert errors[0].startswith("error: no space left on the device")
    assert "free some space" in errors[0]

    filler.unlink()
    assert raw_rows(warehouse) == before
    assert ingest_cli(company_dir, warehouse).exit_code == 0
    assert raw_rows(warehouse) > before
