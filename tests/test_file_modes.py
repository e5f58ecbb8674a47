"""Who may read what repradar writes: its owner only, except the report leadership is given
and the analyst database (issue #18). The CLI runs from a shell with umask 022, so nothing
here is private by luck."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from pipelines import settings
from pipelines.errors import UsageError
from tests.conftest import copy_warehouse, run_repradar


def readable_by_others(root: Path) -> list[str]:
    """Every file and folder under `root` (itself included) that its group or others can
    open, with its mode."""
    paths = [root, *root.rglob("*")]
    return [
        f"{path.relative_to(root.parent)} {stat.filemode(path.lstat().st_mode)}"
        for path in paths
        if path.lstat().st_mode & 0o077
    ]


def test_everything_the_daily_run_writes_but_the_analyst_database_is_its_owners_only(
    operated: Path,
) -> None:
    shared = f"{operated.parent.name}/analytics.duckdb -rw-r-----"
    assert readable_by_others(operated.parent) == [shared]


def test_the_daily_run_wrote_the_files_this_promise_is_about(operated: Path) -> None:
    written = {path.name for path in operated.parent.rglob("*")}
    expected = {"warehouse.duckdb", "target", "logs", "manifest.json", "latest.html", "outbox"}
    assert expected <= written


def test_generated_exports_are_readable_by_their_owner_only(company_dir: Path) -> None:
    assert readable_by_others(company_dir) == []


def test_a_rebuild_sets_a_warehouse_made_readable_to_others_back_to_its_owner_only(
    small_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, warehouse)
    warehouse.chmod(0o644)
    run_repradar("transform", "--warehouse", str(warehouse))
    assert stat.S_IMODE(warehouse.stat().st_mode) == 0o600


@pytest.fixture(scope="module")
def report_warehouse(operated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the daily run's warehouse (and analyst database) to write reports from."""
    return copy_warehouse(operated, tmp_path_factory.mktemp("report-modes"))


def test_the_report_is_readable_by_the_owners_group_by_default(
    report_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "shared" / "leadership"
    run_repradar("report", "--warehouse", str(report_warehouse), "--out", str(out))
    modes = {path.suffix: stat.S_IMODE(path.stat().st_mode) for path in out.iterdir()}
    assert modes == {".html": 0o640, ".pdf": 0o640}


def test_the_folders_the_report_creates_let_the_group_reach_it(
    report_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "shared" / "leadership"
    run_repradar("report", "--warehouse", str(report_warehouse), "--out", str(out))
    modes = [stat.S_IMODE(folder.stat().st_mode) for folder in (out, out.parent)]
    assert modes == [0o750, 0o750]


def test_the_report_takes_the_shared_mode_setting(report_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "leadership"
    env = {"REPRADAR_SHARED_MODE": "0600"}
    run_repradar("report", "--warehouse", str(report_warehouse), "--out", str(out), env=env)
    modes = {stat.S_IMODE(path.stat().st_mode) for path in out.iterdir()}
    assert modes == {0o600}


def test_a_shared_mode_others_could_write_or_run_is_refused_naming_the_setting(
    report_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "leadership"
    env = {"REPRADAR_SHARED_MODE": "0666"}
    finished = run_repradar(
        "report", "--warehouse", str(report_warehouse), "--out", str(out), env=env, check=False
    )
    assert finished.returncode != 0
    assert "REPRADAR_SHARED_MODE" in finished.stderr
    assert "Traceback" not in finished.stderr


@pytest.mark.parametrize("text", ["0666", "0755", "0620", "0200", "0o1640", "rw-r-----"])
def test_shared_mode_refuses_what_is_not_an_owner_readable_non_executable_mode(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRADAR_SHARED_MODE", text)
    with pytest.raises(UsageError, match="REPRADAR_SHARED_MODE"):
        settings.shared_mode()


@pytest.mark.parametrize(("text", "mode"), [("0640", 0o640), ("644", 0o644), ("0o600", 0o600)])
def test_shared_mode_reads_octal_with_or_without_prefix(
    text: str, mode: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRADAR_SHARED_MODE", text)
    assert settings.shared_mode() == mode
