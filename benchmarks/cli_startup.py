"""How long `repradar --help` and `repradar COMMAND --help` take: median wall time of 5
runs of the installed entry point each, timed by /usr/bin/time (as issue #15 asks).

Usage: .venv/bin/python benchmarks/cli_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

REPRADAR = str(Path(sys.executable).parent / "repradar")
COMMANDS = ("--help", "ingest --help", "transform --help", "alerts send --help")


def wall_seconds(args: list[str]) -> float:
    """One run's elapsed seconds as /usr/bin/time reports them."""
    finished = subprocess.run(
        ["/usr/bin/time", "-f", "%e", REPRADAR, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(finished.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print("| command | median s | runs (s) |")
    print("| --- | ---: | --- |")
    for command in COMMANDS:
        times = [wall_seconds(command.split()) for _ in range(runs)]
        shown = ", ".join(f"{t:.2f}" for t in times)
        print(f"| `repradar {command}` | {statistics.median(times):.2f} | {shown} |")


if __name__ == "__main__":
    main()
