"""Benchmark `repradar generate`: wall time, peak memory and rows for two company sizes.

Run: make bench   (or: .venv/bin/python benchmarks/generate_speed.py [--sizes 150 5000])
Prints a markdown table for benchmarks/README.md. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPRADAR = str(Path(sys.executable).parent / "repradar")


def run_once(reps: int, months: int, fmt: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "exports"
        args = [
            REPRADAR,
            "generate",
            "--out",
            str(out),
            "--reps",
            str(reps),
            "--months",
            str(months),
            "--seed",
            "1",
            "--as-of",
            "2026-10-31",
            "--format",
            fmt,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        seconds = time.perf_counter() - started
        peak_mib = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
        summary = json.loads((out / "_truth" / "summary.json").read_text())
        size_mib = sum(p.stat().st_size for p in out.glob(f"*.{fmt}")) / 2**20
    return {
        "reps": reps,
        "months": months,
        "format": fmt,
        "seconds": seconds,
        "peak_rss_mib": peak_mib,
        "rows": sum(summary["rows"].values()),
        "activities": summary["rows"]["crm_activities"],
        "size_mib": size_mib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 5000])
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"])
    args = parser.parse_args()
    print("| reps | months | format | wall s | peak RSS MiB | rows | activity rows | files MiB |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for reps in args.sizes:
        for fmt in args.formats:
            r = run_once(reps, args.months, fmt)
            print(
                f"| {r['reps']:,} | {r['months']} | {r['format']} | {r['seconds']:.1f} | "
                f"{r['peak_rss_mib']:,.0f} | {r['rows']:,} | {r['activities']:,} | "
                f"{r['size_mib']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
