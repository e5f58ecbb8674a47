"""The analyst starter notebook (`notebooks/analyst_starter.py`), executed for real: in a
Jupyter kernel of this venv, and as a plain script, on the analyst database published
beside the built seed-7 warehouse."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import jupytext
import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOK = REPO / "notebooks" / "analyst_starter.py"
STAGES = ["Lead", "Contacted", "Needs Analysis", "Proposal", "Negotiation"]


def kernel_env(root: Path, analytics: Path) -> dict[str, str]:
    """Jupyter and IPython state under `root`, a `python3` kernelspec that is this venv's
    interpreter, and the analyst database the notebook should open."""
    spec_dir = root / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "repradar venv",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return {
        "REPRADAR_ANALYTICS": str(analytics),
        "JUPYTER_PATH": str(root / "jupyter"),  # searched before the user's and the venv's
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_CONFIG_DIR": str(root / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(root / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(root / "jupyter-runtime"),
        "IPYTHONDIR": str(root / "ipython"),
        "MPLCONFIGDIR": str(root / "matplotlib"),
    }


@pytest.fixture(scope="module")
def executed(operated: Path, tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """The notebook executed top to bottom in a kernel, on a copy of the analyst database of
    a daily run; a cell that raises fails the fixture with the cell's traceback."""
    root = tmp_path_factory.mktemp("notebook")
    copy = root / "analytics.duckdb"
    shutil.copyfile(operated.with_name("analytics.duckdb"), copy)
    nb = jupytext.read(NOTEBOOK)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in kernel_env(root, copy).items():
            patch.setenv(name, value)
        patch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws the PNGs
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(root)}},
        )
        client.execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def text_of(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook printed or displayed as text."""
    parts = []
    for out in outputs(nb):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


def run_as_script(cwd: Path, **settings: str) -> subprocess.CompletedProcess:
    """The notebook as `python notebooks/analyst_starter.py`, given only `settings`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("REPRADAR_")}
    env |= {**settings, "MPLBACKEND": "Agg"}
    env["MPLCONFIGDIR"] = str(cwd / "matplotlib")
    return subprocess.run(
        [sys.executable, str(NOTEBOOK)], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_the_notebook_file_is_percent_jupytext_that_round_trips_through_ipynb() -> None:
    text = NOTEBOOK.read_text()
    nb = jupytext.reads(text, fmt="py:percent")
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert [c.cell_type for c in nb.cells].count("markdown") >= 4
    ipynb = nbformat.reads(jupytext.writes(nb, fmt="ipynb"), as_version=4)
    assert jupytext.writes(ipynb, fmt="py:percent") == text


def test_the_notebook_runs_top_to_bottom_and_draws_the_funnel_and_attrition_charts(
    executed: nbformat.NotebookNode,
) -> None:
    assert not [out for out in outputs(executed) if out["output_type"] == "error"]
    pngs = [out for out in outputs(executed) if "image/png" in out.get("data", {})]
    assert len(pngs) == 2
    assert "chart saved" not in text_of(executed)  # drawn inline, nothing written to disk


def test_the_notebook_shows_each_funnel_stage_and_names_the_stage_with_the_lowest_conversion(
    executed: nbformat.NotebookNode, operated: Path
) -> None:
    with duckdb.connect(str(operated), read_only=True) as con:
        funnel = con.sql("select * from marts.mart_funnel_conversion").df()
    first = funnel["cohort_month"].max() - pd.DateOffset(months=11)
    recent = funnel[funnel["cohort_month"] >= first]
    totals = recent.groupby("stage_name")[["entered", "advanced"]].sum()
    lowest = (totals["advanced"] / totals["entered"]).idxmin()

    text = text_of(executed)
    assert all(stage in text for stage in STAGES)
    assert f"Biggest drop: {lowest}, where " in text


def test_the_notebook_lists_the_published_tables_with_their_descriptions(
    executed: nbformat.NotebookNode,
) -> None:
    text = text_of(executed)
    assert "mart_headcount_attrition" in text
    assert "are NULL" in text  # the suppression note of the headcount mart


def test_the_notebook_reads_no_risk_and_no_hr_schema(executed: nbformat.NotebookNode) -> None:
    code = "\n".join(cell.source for cell in executed.cells if cell.cell_type == "code")
    assert not re.search(r"mart_risk|restricted\.|\bml\.|\braw\.|warehouse\.duckdb", code)


def test_run_as_a_plain_script_the_notebook_saves_both_charts_next_to_the_analyst_database(
    warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "analytics.duckdb"
    shutil.copyfile(warehouse.with_name("analytics.duckdb"), copy)

    finished = run_as_script(tmp_path, REPRADAR_ANALYTICS=str(copy))

    assert finished.returncode == 0, finished.stderr
    assert f"analyst database: {copy}" in finished.stdout
    assert "Biggest drop: " in finished.stdout
    for chart in ("funnel", "attrition"):
        assert (tmp_path / "charts" / f"{chart}.png").read_bytes().startswith(b"\x89PNG")


def test_given_only_the_warehouse_the_notebook_opens_the_analyst_database_beside_it(
    warehouse: Path, tmp_path: Path
) -> None:
    shutil.copyfile(warehouse.with_name("analytics.duckdb"), tmp_path / "analytics.duckdb")

    finished = run_as_script(tmp_path, REPRADAR_WAREHOUSE=str(tmp_path / "warehouse.duckdb"))

    assert finished.returncode == 0, finished.stderr
    assert f"analyst database: {tmp_path / 'analytics.duckdb'}" in finished.stdout


def test_the_notebook_stops_with_a_clear_message_when_the_analyst_database_is_missing(
    tmp_path: Path,
) -> None:
    finished = run_as_script(tmp_path, REPRADAR_ANALYTICS=str(tmp_path / "missing.duckdb"))

    assert finished.returncode != 0
    assert (
        f"no analyst database at {tmp_path / 'missing.duckdb'}: run `make demo`" in finished.stderr
    )
