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


def generate(request: GenerateRequest, progress: Callable[[str], None] = print) -> dict:
    """Simulate the company, write its exports and ground truth; returns the summary."""
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
    if (out / TRUTH_DIR).exists():
        shutil.rmtree(out / TRUTH_DIR)
    for stale in [*out.glob("*.csv"), *out.glob("*.parquet")]:
        if stale.stem in TABLES:
            stale.unlink()
    out.mkdir(parents=True, exist_ok=True)
    encodings: dict[str, str] = {}
    if request.dirty:
        tables, manifest, encodings = make_dirty(tables, request.seed)
        truth = {**truth, "dirty_manifest": manifest}
    for name, frame in tables.items():
        progress(f"writing {name} ({len(frame):,} rows)")
        write_table(name, frame, out, request.fmt, encodings.get(name, "utf-8"))
    write_truth(truth, out / TRUTH_DIR)
    parameters = {
        "reps": request.reps,
        "months": request.months,
        "seed": request.seed,
        "as_of": request.as_of.isoformat(),
        "format": request.fmt,
        "dirty": request.dirty,
    }
    (out / TRUTH_DIR / "summary.json").write_text(
        json.dumps({"parameters": parameters, **summary}, indent=2) + "\n", encoding="utf-8"
    )
    return summary
