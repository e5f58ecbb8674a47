"""`repradar generate`: a simulated company's CRM and HR exports in the canonical contract.

`simulation.Company` holds the company's state and runs the monthly loop; each monthly
process is a module of plain functions (`org`, `selling`, `activities`, `hr_events`,
`leaving`, `handovers`) and every number that shapes them is in `params`. `tables` turns
the state into the contract tables and ground truth, `dirty` adds export defects, and
`writer` writes the files.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.contract import TABLES
from pipelines.partial_files import partial_path, remove_left_over_partials

from .dirty import make_dirty
from .simulation import Company
from .summary import summarize
from .tables import CompanyTables
from .writer import write_table, write_truth

TRUTH_DIR = "_truth"


@dataclass(frozen=True)
class GenerateRequest:
    out: Path
    reps: int = 150
    months: int = 36
    seed: int = 42
    as_of: dt.date = dt.date(2026, 10, 31)
    fmt: str = "csv"
    dirty: bool = False


def _move_into_place(staging: Path, out: Path, file_names: list[str]) -> None:
    """Replace the company in `out` by the one written into `staging`: each export by a
    rename, the exports of tables no longer written (another format) removed, and the
    ground truth folder swapped. Files that are not a contract table's are left alone."""
    for name in file_names:
        (staging / name).replace(out / name)
    for stale in [*out.glob("*.csv"), *out.glob("*.parquet")]:
        if stale.stem in TABLES and stale.name not in file_names:
            stale.unlink()
    if (out / TRUTH_DIR).exists():
        (out / TRUTH_DIR).replace(staging / f"{TRUTH_DIR}.old")
    (staging / TRUTH_DIR).replace(out / TRUTH_DIR)


def generate(request: GenerateRequest, progress: Callable[[str], None] = print) -> dict:
    """Simulate the company, write its exports and ground truth; returns the summary.
    Everything is written into a hidden folder beside `out` first and renamed into place
    once complete, so a failed or killed run leaves the company that was there."""
    progress(
        f"simulating {request.reps} reps over {request.months} months "
        f"to {request.as_of} (seed {request.seed})"
    )
    company = Company(request.reps, request.months, request.seed, request.as_of).run()
    progress("assembling the contract tables")
    builder = CompanyTables(company)
    tables, truth = builder.all(), builder.truth()
    summary = summarize(tables, truth, pd.Timestamp(request.as_of), request.months)

    out = request.out
    out.mkdir(parents=True, exist_ok=True)
    folder = out.resolve()  # "." has no name to put a sibling beside
    remove_left_over_partials(folder.parent, folder.name)
    staging = partial_path(folder)
    staging.mkdir()
    try:
        encodings: dict[str, str] = {}
        if request.dirty:
            tables, manifest, encodings = make_dirty(tables, request.seed)
            truth = {**truth, "dirty_manifest": manifest}
        written = []
        for name, frame in tables.items():
            progress(f"writing {name} ({len(frame):,} rows)")
            written.append(
                write_table(name, frame, staging, request.fmt, encodings.get(name, "utf-8"))
            )
        write_truth(truth, staging / TRUTH_DIR)
        parameters = {
            "reps": request.reps,
            "months": request.months,
            "seed": request.seed,
            "as_of": request.as_of.isoformat(),
            "format": request.fmt,
            "dirty": request.dirty,
        }
        (staging / TRUTH_DIR / "summary.json").write_text(
            json.dumps({"parameters": parameters, **summary}, indent=2) + "\n", encoding="utf-8"
        )
        _move_into_place(staging, out, [path.name for path in written])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summary
