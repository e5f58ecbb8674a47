"""`kill -9` of score, report and generate at chosen moments: each leaves its last whole
result (or its whole new one), and the partial files it left are removed by the next run.
(Ingest, transform and train: `test_fault_pairs.py`, `test_faults.py`; alerts:
`test_alert_faults.py`.)"""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from models_ml.score import latest_model_run, record_drift, score
from pipelines.generate import GenerateRequest, generate
from pipelines.report.build import build_report
from pipelines.warehouse import scratch_copy_path, writer_lock
from tests.conftest import REPO, copy_warehouse

KILLED = -signal.SIGKILL
KILL = "os.kill(os.getpid(), signal.SIGKILL)"
PRELUDE = "import os, signal, sys\nfrom pathlib import Path\n"
SCORE_KILLED_WRITING_ITS_SCORES = f"""{PRELUDE}
import models_ml.score as score_module
append = score_module.append
def append_one_then_die(con, name, frame):
    append(con, name, frame)
    {KILL}
score_module.append = append_one_then_die
from pipelines.steps import score_and_build
score_and_build(Path(sys.argv[1]))
"""
SCORE_KILLED_WHILE_DBT_BUILDS_THE_RISK_MARTS = f"""{PRELUDE}
import pipelines.transform.build as build
build.invoke = lambda *args, **kwargs: {KILL}
from pipelines.steps import score_and_build
score_and_build(Path(sys.argv[1]))
"""
SCORE_KILLED_REWRITING_THE_MODEL_CARD = f"""{PRELUDE}
import models_ml.score as score_module
scores = score_module.score(Path(sys.argv[1]))
Path.replace = lambda *args: {KILL}
score_module.record_drift(scores)
"""
REPORT_KILLED_WRITING_THE_PDF = f"""{PRELUDE}
import pipelines.report.build as build
build.render_pdf = lambda *args: {KILL}
build.build_report(Path(sys.argv[1]), Path(sys.argv[2]))
"""
REPORT_KILLED_BETWEEN_ITS_TWO_RENAMES = f"""{PRELUDE}
replace = Path.replace
def replace_once_then_die(self, target):
    replace(self, target)
    {KILL}
Path.replace = replace_once_then_die
import pipelines.report.build as build
build.build_report(Path(sys.argv[1]), Path(sys.argv[2]))
"""
GENERATE_KILLED_WRITING_ITS_EXPORTS = f"""{PRELUDE}
import datetime as dt
import pipelines.generate as generate
write = generate.write_table
def write_one_then_die(*args, **kwargs):
    write(*args, **kwargs)
    {KILL}
generate.write_table = write_one_then_die
generate.generate(
    generate.GenerateRequest(out=Path(sys.argv[1]), reps=12, months=6, seed=int(sys.argv[2])),
    progress=lambda message: None,
)
"""
SMALL = {"reps": 12, "months": 6}


def killed(script: str, *args: object) -> None:
    """Run `script` in a fresh interpreter that SIGKILLs itself where its patch says."""
    finished = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], cwd=REPO, capture_output=True, text=True
    )
    assert finished.returncode == KILLED, finished.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprints(directory: Path) -> dict[str, str]:
    """Every file under `directory` (hidden ones too) by its path and content."""
    return {
        str(path.relative_to(directory)): sha256(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def copy(operated: Path, tmp_path: Path) -> Path:
    """A copy of the daily-run warehouse and its models."""
    shutil.copytree(operated.parent / "models", tmp_path / "models")
    return copy_warehouse(operated, tmp_path)


# score


@pytest.mark.parametrize(
    "script", [SCORE_KILLED_WRITING_ITS_SCORES, SCORE_KILLED_WHILE_DBT_BUILDS_THE_RISK_MARTS]
)
def test_a_scoring_killed_before_its_scores_land_leaves_the_warehouse_as_it_was(
    copy: Path, script: str
) -> None:
    before = sha256(copy)
    killed(script, copy)
    assert sha256(copy) == before
    assert scratch_copy_path(copy).exists()  # the next writer removes it
    with writer_lock(copy):
        assert not scratch_copy_path(copy).exists()


def test_a_scoring_killed_rewriting_the_model_card_leaves_the_card_whole(copy: Path) -> None:
    card = copy.parent / latest_model_run(copy)["card_path"]
    card_before = card.read_text(encoding="utf-8")
    killed(SCORE_KILLED_REWRITING_THE_MODEL_CARD, copy)
    assert card.read_text(encoding="utf-8") == card_before
    [left] = [path.name for path in card.parent.iterdir() if path.name.startswith(".")]
    assert left.startswith(f".{card.name}.") and left.endswith(".partial")


def test_the_next_scoring_removes_the_card_partial_a_killed_one_left(copy: Path) -> None:
    killed(SCORE_KILLED_REWRITING_THE_MODEL_CARD, copy)
    scores = score(copy)
    assert record_drift(scores) is None
    assert not [path for path in scores.card_path.parent.iterdir() if path.name.startswith(".")]
    assert "drift" in scores.card_path.read_text(encoding="utf-8").lower()


# report


@pytest.fixture
def reported(operated: Path, tmp_path: Path) -> Path:
    """A folder holding the leadership report of the daily-run warehouse, made earlier
    (its files marked, so that a rewrite shows)."""
    out = tmp_path / "reports"
    result = build_report(operated, out)
    for path in (result.html, result.pdf):
        path.write_bytes(path.read_bytes() + b"\n<!-- earlier -->\n")
    return out


def test_a_report_killed_while_writing_leaves_the_earlier_report_whole(
    operated: Path, reported: Path
) -> None:
    before = fingerprints(reported)
    killed(REPORT_KILLED_WRITING_THE_PDF, operated, reported)
    after = fingerprints(reported)
    assert {name: after[name] for name in before} == before
    [partial] = set(after) - set(before)  # the HTML written, hidden, not renamed
    assert partial.startswith(".leadership-report-") and partial.endswith(".partial")


def test_a_report_killed_between_its_renames_leaves_two_whole_files(
    operated: Path, reported: Path
) -> None:
    killed(REPORT_KILLED_BETWEEN_ITS_TWO_RENAMES, operated, reported)
    html, pdf = (
        sorted(reported.glob("leadership-report-*.html")),
        sorted(reported.glob("leadership-report-*.pdf")),
    )
    assert b"<!-- earlier -->" not in html[0].read_bytes()  # the new HTML, whole
    assert html[0].read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert pdf[0].read_bytes().rstrip().endswith(b"<!-- earlier -->")  # the earlier PDF
    [partial] = [path.name for path in reported.iterdir() if path.name.startswith(".")]
    assert partial.startswith(f".{pdf[0].name}.") and partial.endswith(".partial")


def test_the_next_report_removes_the_partial_files_a_killed_one_left(
    operated: Path, reported: Path
) -> None:
    killed(REPORT_KILLED_WRITING_THE_PDF, operated, reported)
    result = build_report(operated, reported)
    assert sorted(path.name for path in reported.iterdir()) == sorted(
        [result.html.name, result.pdf.name]
    )
    assert result.pdf.read_bytes().startswith(b"%PDF")


def test_a_report_that_fails_midway_leaves_no_partial_file(
    operated: Path, reported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_pdf(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pipelines.report.build.render_pdf", failing_pdf)
    before = fingerprints(reported)
    with pytest.raises(OSError, match="No space left"):
        build_report(operated, reported)
    assert fingerprints(reported) == before


# generate


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """A small generated company (seed 1)."""
    out = tmp_path / "company"
    generate(GenerateRequest(out=out, seed=1, **SMALL), progress=lambda message: None)
    return out


def test_a_generate_killed_writing_its_exports_leaves_the_earlier_company(
    generated: Path,
) -> None:
    before = fingerprints(generated)
    killed(GENERATE_KILLED_WRITING_ITS_EXPORTS, generated, 2)
    assert fingerprints(generated) == before
    [staging] = [path.name for path in generated.parent.iterdir() if path.name != "company"]
    assert staging.startswith(".company.") and staging.endswith(".partial")


def test_the_next_generate_removes_the_folder_a_killed_one_left_and_writes_whole(
    generated: Path, tmp_path: Path
) -> None:
    killed(GENERATE_KILLED_WRITING_ITS_EXPORTS, generated, 2)
    generate(GenerateRequest(out=generated, seed=2, **SMALL), progress=lambda message: None)
    assert [path.name for path in tmp_path.iterdir()] == ["company"]
    fresh = tmp_path / "fresh"
    generate(GenerateRequest(out=fresh, seed=2, **SMALL), progress=lambda message: None)
    assert fingerprints(generated) == fingerprints(fresh)


def test_generate_replaces_exports_of_another_format_and_keeps_other_files(
    generated: Path,
) -> None:
    (generated / "notes.txt").write_text("mine", encoding="utf-8")
    generate(
        GenerateRequest(out=generated, seed=1, fmt="parquet", **SMALL),
        progress=lambda message: None,
    )
    names = {path.name for path in generated.iterdir()}
    assert "notes.txt" in names
    assert not [name for name in names if name.endswith(".csv")]
    assert "crm_opportunities.parquet" in names
