"""Faults end in a known state: `kill -9` of train and transform at chosen moments, a full
disk (a small tmpfs) under transform, score and train, and failures that must not crash
while they are reported. Each test works on a copy of the daily-run warehouse."""

from __future__ import annotations

import datetime as dt
import errno
import pickle
import shutil
import signal
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from models_ml.score import latest_model_run, unusable_model_run
from pipelines.cli import app
from pipelines.errors import WarehouseBusy
from pipelines.flows.ingest import IngestRejected
from pipelines.flows.transform import TransformFailed
from pipelines.steps import Kept, StepFailed, Steps, train_if_due
from pipelines.transform import build
from pipelines.transform.build import TransformResult, build_duckdb
from pipelines.warehouse import human_size, scratch_copy_path, writer_lock
from tests.conftest import REPO
from tests.disk import MiB, mounted_tmpfs, take_free_space
from tests.marts import query, table_fingerprint

DISK_MIB = 80  # holds the daily-run warehouse (~30 MiB), its models and the filler
KILLED = -signal.SIGKILL
KILL = "os.kill(os.getpid(), signal.SIGKILL)"
# The training faults happen after the backtest, which is the same on every copy of the
# daily-run warehouse: each training here reuses the one computed once (`backtest_file`).
CRASH_PRELUDE = """import os, pickle, signal, sys
from pathlib import Path
import models_ml.train
models_ml.train.run_backtest = lambda *a, **k: pickle.loads(Path(sys.argv[2]).read_bytes())
"""
TRAIN_KILLED_BEFORE_ITS_RUN_IS_RECORDED = f"""{CRASH_PRELUDE}
import models_ml.train as train
train._record = lambda *args: {KILL}
train.train(Path(sys.argv[1]))
"""
TRAIN_KILLED_AFTER_ITS_RUN_IS_RECORDED = f"""{CRASH_PRELUDE}
import models_ml.train as train
record = train._record
def record_then_die(*args):
    record(*args)
    {KILL}
train._record = record_then_die
train.train(Path(sys.argv[1]))
"""
TRAIN_KILLED_WRITING_ITS_FILES = f"""{CRASH_PRELUDE}
import models_ml.store as store
write = store._write_synced
def write_one_then_die(path, content):
    write(path, content)
    {KILL}
store._write_synced = write_one_then_die
import models_ml.train as train
train.train(Path(sys.argv[1]))
"""
BUILD_KILLED_WHILE_DBT_RUNS = f"""import os, signal, sys
from pathlib import Path
import pipelines.transform.build as build
build.invoke = lambda *args, **kwargs: {KILL}
build.build_duckdb(Path(sys.argv[1]))
"""
NO_SPACE = "No space left on device"


def copy_operated(operated: Path, directory: Path) -> Path:
    """The daily-run warehouse and its models, copied into `directory`."""
    shutil.copytree(operated.parent / "models", directory / "models")
    copy = directory / "warehouse.duckdb"
    shutil.copyfile(operated, copy)
    return copy


def killed(script: str, warehouse: Path, backtest: Path) -> None:
    """Run `script` on `warehouse` in a fresh interpreter that SIGKILLs itself at the
    moment the script's patch chooses (as `kill -9` would); a training reuses `backtest`."""
    finished = subprocess.run(
        [sys.executable, "-c", script, str(warehouse), str(backtest)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == KILLED, finished.stderr


def run_ids(warehouse: Path) -> list[str]:
    return query(warehouse, "SELECT model_run_id FROM ml.model_runs ORDER BY 1")[
        "model_run_id"
    ].tolist()


def entries(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def backtest_file(operated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The backtest of the daily-run warehouse, computed once and pickled."""
    from models_ml.backtest import label_horizon_months, run_backtest
    from models_ml.features import load_snapshots

    snapshots = load_snapshots(operated)
    horizon = label_horizon_months(snapshots)
    backtest = run_backtest(snapshots, horizon_months=horizon, random_state=0)  # as train
    path = tmp_path_factory.mktemp("backtest") / "backtest.pickle"
    path.write_bytes(pickle.dumps(backtest))
    return path


@pytest.fixture
def known_backtest(backtest_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`repradar train` in this process reuses the pickled backtest."""
    backtest = pickle.loads(backtest_file.read_bytes())
    monkeypatch.setattr("models_ml.train.run_backtest", lambda *args, **kwargs: backtest)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """An empty tmpfs of DISK_MIB MiB, to fill."""
    with mounted_tmpfs(tmp_path / "disk", DISK_MIB) as mount_point:
        yield mount_point


@pytest.fixture
def copy(operated: Path, tmp_path: Path) -> Path:
    """A copy of the daily-run warehouse and its models (one trained run)."""
    return copy_operated(operated, tmp_path / "copy")


@pytest.fixture
def on_disk(operated: Path, disk: Path) -> Path:
    """A copy of the daily-run warehouse and its models on the small tmpfs."""
    return copy_operated(operated, disk)


# kill -9 of train and transform


def test_train_killed_before_recording_its_run_keeps_the_last_model_in_use(
    copy: Path, backtest_file: Path
) -> None:
    before, models = run_ids(copy), entries(copy.parent / "models")
    killed(TRAIN_KILLED_BEFORE_ITS_RUN_IS_RECORDED, copy, backtest_file)
    assert run_ids(copy) == before
    latest = latest_model_run(copy)
    assert latest["model_run_id"] == before[-1]
    assert unusable_model_run(copy, latest) is None
    [orphan] = entries(copy.parent / "models") - models  # complete; no run points at it
    assert entries(copy.parent / "models" / orphan) == {
        "attrition.skops",
        "account_loss.skops",
        "model_card.md",
    }


def test_train_killed_right_after_recording_its_run_leaves_the_runs_files_complete(
    copy: Path, backtest_file: Path
) -> None:
    before = run_ids(copy)
    killed(TRAIN_KILLED_AFTER_ITS_RUN_IS_RECORDED, copy, backtest_file)
    latest = latest_model_run(copy)
    assert run_ids(copy) == sorted([*before, latest["model_run_id"]])
    assert unusable_model_run(copy, latest) is None


def test_train_killed_while_writing_its_files_leaves_only_a_hidden_partial_directory(
    copy: Path, backtest_file: Path
) -> None:
    before, models = run_ids(copy), entries(copy.parent / "models")
    killed(TRAIN_KILLED_WRITING_ITS_FILES, copy, backtest_file)
    assert run_ids(copy) == before
    [left] = entries(copy.parent / "models") - models
    assert left.startswith(".") and left.endswith(".partial")


def test_the_next_training_removes_the_partial_directory_a_killed_one_left(
    copy: Path, known_backtest: None
) -> None:
    partial = copy.parent / "models" / ".20260101T000000-dead.partial"
    partial.mkdir()
    (partial / "attrition.skops").write_bytes(b"cut short")
    result = invoke("train", "--warehouse", str(copy))
    assert result.exit_code == 0, result.output
    assert not partial.exists()
    assert len(run_ids(copy)) == 2


def test_a_build_killed_midway_leaves_a_scratch_copy_the_next_writer_removes(copy: Path) -> None:
    killed(BUILD_KILLED_WHILE_DBT_RUNS, copy, Path("-"))  # no training: no backtest
    scratch = scratch_copy_path(copy)
    assert scratch.stat().st_size >= copy.stat().st_size  # the copy, plus what the build wrote
    with writer_lock(copy):
        assert not scratch.exists()


def test_a_scratch_copy_is_left_alone_while_another_run_holds_the_lock(copy: Path) -> None:
    scratch = scratch_copy_path(copy)
    with writer_lock(copy):
        scratch.write_bytes(b"being built")
        with pytest.raises(WarehouseBusy), writer_lock(copy):
            pass
        assert scratch.read_bytes() == b"being built"


# a run whose model files are missing or incomplete


@pytest.mark.parametrize(
    ("damage", "problem"),
    [("remove", "does not exist"), ("truncate", "is incomplete")],
)
def test_score_of_a_run_whose_model_file_is_gone_or_cut_short_says_to_train(
    copy: Path, damage: str, problem: str
) -> None:
    run = latest_model_run(copy)
    model = copy.parent / run["attrition_path"]
    if damage == "remove":
        model.unlink()
    else:
        model.write_bytes(model.read_bytes()[:1000])
    result = invoke("score", "--warehouse", str(copy))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the files of model run {run['model_run_id']} are not usable: {model} "
        f"{problem}; run `repradar train` to train a new model\n"
    )


def test_the_daily_flow_retrains_when_the_latest_runs_files_are_missing(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = latest_model_run(copy)
    shutil.rmtree(copy.parent / "models")
    monkeypatch.setattr("models_ml.train.train", lambda warehouse, progress: "retrained")
    notes: list[str] = []
    assert train_if_due(copy, retrain_after_days=30, progress=notes.append) == "retrained"
    missing = copy.parent / run["attrition_path"]
    assert notes == [
        f"the files of model run {run['model_run_id']} are not usable: {missing} does not "
        "exist; retraining"
    ]


def test_the_daily_flow_keeps_a_recent_model_whose_files_are_all_there(copy: Path) -> None:
    assert train_if_due(copy, retrain_after_days=30) == Kept(0)


# a full disk


def no_room_message(disk: Path, size: int) -> str:
    return (
        f"error: no space left on the device of {disk} for a build (a scratch copy of "
        "warehouse.duckdb, the size of the warehouse, plus room for the tables it rebuilds): "
        f"it needs {human_size(size)} free there, "
    )


def test_transform_on_a_full_disk_says_where_and_how_much_space_it_needs(on_disk: Path) -> None:
    disk, size = on_disk.parent, on_disk.stat().st_size
    marts = table_fingerprint(on_disk, "marts")
    take_free_space(disk, leave=MiB)
    result = invoke("transform", "--warehouse", str(on_disk))
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(no_room_message(disk, size))
    assert line.endswith("is free; nothing was changed. Free some space, then run again")
    assert not scratch_copy_path(on_disk).exists()
    assert table_fingerprint(on_disk, "marts") == marts


def test_a_build_that_fills_the_disk_midway_removes_its_copy_and_records_the_failure(
    on_disk: Path,
) -> None:
    disk, size = on_disk.parent, on_disk.stat().st_size
    take_free_space(disk, leave=size + MiB)  # room for the copy, not for what dbt writes next to it
    result = invoke("transform", "--warehouse", str(on_disk))
    assert result.exit_code == 1
    assert no_room_message(disk, size) in result.stderr
    assert "Traceback" not in result.output
    assert not scratch_copy_path(on_disk).exists()
    last = query(on_disk, "SELECT status, message FROM ops.transform_runs ORDER BY finished_at")
    assert last["status"].iloc[-1] == "failed"
    assert NO_SPACE in last["message"].iloc[-1]


def test_score_on_a_full_disk_writes_no_scores_and_leaves_no_copy(on_disk: Path) -> None:
    disk, size = on_disk.parent, on_disk.stat().st_size
    scorings = query(on_disk, "SELECT count(*) AS n FROM ml.score_runs")["n"].iloc[0]
    take_free_space(disk, leave=MiB)
    result = invoke("score", "--warehouse", str(on_disk))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith(no_room_message(disk, size))
    assert not scratch_copy_path(on_disk).exists()
    assert query(on_disk, "SELECT count(*) AS n FROM ml.score_runs")["n"].iloc[0] == scorings


def test_train_on_a_full_disk_leaves_no_model_directory_and_no_run(
    on_disk: Path, known_backtest: None
) -> None:
    models = on_disk.parent / "models"
    before, listing = run_ids(on_disk), entries(models)
    take_free_space(on_disk.parent, leave=64 * 1024)
    result = invoke("train", "--warehouse", str(on_disk))
    assert result.exit_code == 1
    message = result.stderr.splitlines()[-1]
    assert message.startswith(
        f"error: no space left on the device of {models} for the model files of "
    )
    assert message.endswith("is free; nothing was changed. Free some space, then run again")
    assert entries(models) == listing
    assert run_ids(on_disk) == before


def test_a_training_whose_run_fits_the_log_but_not_the_checkpoint_stands(
    on_disk: Path, known_backtest: None
) -> None:
    models = on_disk.parent / "models"
    [previous] = models.iterdir()
    files = sum(path.stat().st_size for path in previous.iterdir())
    # room for the files and the log, not for a checkpoint
    take_free_space(on_disk.parent, leave=files + 64 * 1024)
    result = invoke("train", "--warehouse", str(on_disk))
    assert result.exit_code == 0, result.output
    assert on_disk.with_name("warehouse.duckdb.wal").stat().st_size > 0  # not checkpointed
    latest = latest_model_run(on_disk)
    assert latest["model_run_id"] != previous.name
    assert unusable_model_run(on_disk, latest) is None


def test_a_full_disk_no_step_reported_itself_exits_1_with_one_line(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, NO_SPACE, "/data/reports/x.html")

    monkeypatch.setattr("pipelines.transform.build.build_duckdb", disk_full)
    result = invoke("transform", "--warehouse", str(copy))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no space left on the device (/data/reports/x.html); free some space, then "
        "run again\n"
    )


# permissions


def test_a_warehouse_only_its_owner_may_read_stays_so_after_a_transform(copy: Path) -> None:
    copy.chmod(0o600)
    assert build_duckdb(copy, select=["stg_crm__users"]).success
    assert copy.stat().st_mode & 0o777 == 0o600


def test_a_warehouse_only_its_owner_may_read_stays_so_after_a_scoring(copy: Path) -> None:
    copy.chmod(0o600)
    assert Steps().score(copy).success
    assert copy.stat().st_mode & 0o777 == 0o600


# failures reported without a second failure


def test_a_failed_build_that_cannot_be_recorded_warns_instead_of_crashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "warehouse.duckdb"

    def no_room(*_args: object) -> None:
        raise duckdb.IOException(f'Could not write file "{copy}.wal": {NO_SPACE}')

    monkeypatch.setattr(build, "_log_run", no_room)
    failed = TransformResult("run", "duckdb", copy, success=False, seconds=1.0, error="boom")
    said: list[str] = []
    build.record_failure(copy, failed, dt.datetime(2026, 1, 1), said.append)
    assert said == [
        "warning: the failed build is not recorded in ops.transform_runs (Could not write "
        f'file "{copy}.wal": {NO_SPACE})'
    ]


def test_failures_a_flow_run_stores_read_back_with_their_result(tmp_path: Path) -> None:
    failed = TransformResult("run", "duckdb", tmp_path, success=False, seconds=1.0, error="boom")
    transform = pickle.loads(pickle.dumps(TransformFailed(failed)))
    assert transform.result == failed and str(transform) == "boom"
    step = pickle.loads(pickle.dumps(StepFailed("transform", failed, 1, "boom")))
    assert (step.step, step.result, step.exit_code, str(step)) == (
        "transform",
        failed,
        1,
        "transform failed: boom",
    )
    rejected = pickle.loads(pickle.dumps(IngestRejected(types.SimpleNamespace(rejections=["x"]))))
    assert rejected.result.rejections == ["x"] and str(rejected) == "x"
