"""What a mapping costs: `repradar ingest` of the same company as canonical files and as
a Salesforce export read through the shipped `salesforce` mapping, and of the Maven CRM
sample through `maven_crm` (when ../shared/datasets is there).

For each size: generate a company (seed 1, as-of 2026-10-31), write it in Salesforce's
shape with the round-trip converter of the tests (tests/vendor_crm_exports.py; setup, not
timed), then time each ingest into a fresh warehouse as a user runs it, in its own
process (imports included), median of N rounds. Prints a markdown table for
benchmarks/README.md.

    .venv/bin/python benchmarks/mapping_speed.py [--reps 150 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import say

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.vendor_crm_exports import to_salesforce  # noqa: E402

REPRADAR = str(Path(sys.executable).parent / "repradar")
MAVEN = ROOT.parent / "shared" / "datasets" / "maven_crm_sales_opportunities"


def timed_ingest(source: Path, work: Path, *mapping: str) -> float:
    """Wall seconds of one `repradar ingest` into a fresh warehouse."""
    warehouse = work / f"w-{time.monotonic_ns()}.duckdb"
    started = time.perf_counter()
    subprocess.run(
        [REPRADAR, "ingest", "--source", str(source), "--warehouse", str(warehouse), *mapping],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def rows_read(source: Path) -> int:
    return sum(max(sum(1 for _ in p.open("rb")) - 1, 0) for p in source.glob("*.csv"))


def measure(label: str, source: Path, work: Path, repeat: int, *mapping: str) -> str:
    seconds = statistics.median(timed_ingest(source, work, *mapping) for _ in range(repeat))
    say(f"{label}: {seconds:.1f} s")
    return f"| {label} | {rows_read(source):,} | {seconds:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, nargs="+", default=[150, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = ["| source | CSV rows | ingest s |", "| --- | ---: | ---: |"]
    with tempfile.TemporaryDirectory(prefix="repradar-bench-mapping-") as tmp:
        work = Path(tmp)
        for reps in args.reps:
            canonical, salesforce = work / f"canonical-{reps}", work / f"salesforce-{reps}"
            say(f"{reps} reps: generate and convert ...")
            subprocess.run(
                [
                    REPRADAR,
                    "generate",
                    "--out",
                    str(canonical),
                    "--reps",
                    str(reps),
                    "--seed",
                    "1",
                    "--as-of",
                    "2026-10-31",
                ],
                capture_output=True,
                check=True,
            )
            to_salesforce(canonical, salesforce)
            rows.append(measure(f"{reps} reps, canonical files", canonical, work, args.repeat))
            rows.append(
                measure(
                    f"{reps} reps, Salesforce export + `salesforce` mapping",
                    salesforce,
                    work,
                    args.repeat,
                    "--mapping",
                    "salesforce",
                )
            )
        if MAVEN.is_dir():
            rows.append(
                measure(
                    "Maven sample + `maven_crm`", MAVEN, work, args.repeat, "--mapping", "maven_crm"
                )
            )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
