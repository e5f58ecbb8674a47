"""How long the leadership report and an alerts run take, by company size.

For each size: generate, ingest, transform, train and score a company (setup, not
timed), then time `repradar report` and `repradar alerts send` (file outbox) as a user
runs them, each in its own process (imports included), and the same again on a second
run (nothing new to alert). Prints a markdown table for benchmarks/README.md.

    .venv/bin/python benchmarks/operations_speed.py [--reps 150 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import say

REPRADAR = str(Path(sys.executable).parent / "repradar")


def repradar(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    finished = subprocess.run([REPRADAR, *args], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, finished.stdout


def prepare(directory: Path, reps: int) -> Path:
    exports, warehouse = directory / "exports", directory / "warehouse.duckdb"
    say(f"{reps} reps: generate, ingest, transform, train, score ...")
    repradar("generate", "--out", str(exports), "--reps", str(reps), "--as-of", "2026-10-31")
    repradar("ingest", "--source", str(exports), "--warehouse", str(warehouse))
    for step in ("transform", "train", "score"):
        repradar(step, "--warehouse", str(warehouse))
    return warehouse


def measure(reps: int) -> list[str]:
    with tempfile.TemporaryDirectory() as scratch:
        warehouse = prepare(Path(scratch), reps)
        report_s, _ = repradar("report", "--warehouse", str(warehouse))
        first_s, first = repradar("alerts", "send", "--warehouse", str(warehouse), "--cap", "1000")
        again_s, again = repradar("alerts", "send", "--warehouse", str(warehouse), "--cap", "1000")
        reports = len(list((warehouse.parent / "reports" / "leadership").glob("*.pdf")))
    return [
        f"| {reps:,} | `repradar report` (HTML + PDF) | {report_s:.1f} | {reports} PDF |",
        f"| {reps:,} | `repradar alerts send`, first run | {first_s:.1f} | {new(first)} alerts |",
        f"| {reps:,} | `repradar alerts send`, again | {again_s:.1f} | {new(again)} new |",
    ]


def new(output: str) -> str:
    """How many new alerts `repradar alerts send` says it recorded."""
    return output.split(" new alerts")[0].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, nargs="+", default=[150, 1000])
    sizes = parser.parse_args().reps
    lines = ["| reps | step | wall s | output |", "| ---: | --- | ---: | --- |"]
    for reps in sizes:
        lines += measure(reps)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
