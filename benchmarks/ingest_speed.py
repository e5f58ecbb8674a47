"""Benchmark `repradar ingest` against a bare DuckDB load of the same CSV files.

Run: make bench   (or: .venv/bin/python benchmarks/ingest_speed.py [--workdir DIR]
[--repeat N] [--phases])
Generates the `--reps 5000 --months 36` company (seed 1, as-of 2026-10-31) into the work
directory, or reuses it if it is already there. Then, N rounds of, each in its own
subprocess (so each has its own peak RSS):

- bare: a fresh DuckDB file, `CREATE TABLE t AS SELECT * FROM read_csv('<file>')` per
  file (types auto-detected), timed per table and in total (including closing the file);
- repradar: `pipelines.ingest.ingest()` into a fresh warehouse, per table from the
  load log's started_at/finished_at, in total as the wall time of the call;

and once at the end, the same files again into the same warehouse (skipped by checksum).
Times are medians over the rounds; the ratio is the median of each round's ratio (the two
sides of a round run back to back, so they share the machine's mood). With --phases, or
when the ratio misses the 3x target, N more ingests time every DuckDB statement and the
fingerprinting, sorted into phases. Prints markdown tables for benchmarks/README.md.
Not part of `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import peak_rss_mib, say  # noqa: E402

from pipelines.warehouse import remove_database  # noqa: E402

REPRADAR = str(Path(sys.executable).parent / "repradar")
REPS, MONTHS, SEED, AS_OF = 5000, 36, 1, "2026-10-31"
TARGET_RATIO = 3.0
BIG = "crm_activities"  # the largest table, shown on its own in the phase breakdown


# --- the sides, each run in a subprocess ----------------------------------------------


def side_bare(exports: Path, work: Path) -> dict:
    import duckdb

    from pipelines.ingest.load import LOAD_ORDER

    target = work / "bare.duckdb"
    remove_database(target)
    tables = {}
    started = time.perf_counter()
    con = duckdb.connect(str(target))
    for table in LOAD_ORDER:
        path = exports / f"{table}.csv"
        t0 = time.perf_counter()
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}')")
        seconds = time.perf_counter() - t0
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        tables[table] = {"rows": rows, "seconds": seconds}
    con.close()
    total = time.perf_counter() - started
    return {
        "tables": tables,
        "seconds": total,
        "peak_rss_mib": peak_rss_mib(),
        "db_mib": target.stat().st_size / 2**20,
    }


def _ingest(exports: Path, work: Path, fresh: bool, progress=say):
    from pipelines.ingest import IngestRequest, ingest

    target = work / "repradar.duckdb"
    if fresh:
        remove_database(target)
    request = IngestRequest(source=exports, warehouse=target, reports=work / "reports")
    started = time.perf_counter()
    result = ingest(request, progress=progress)
    total = time.perf_counter() - started
    return result, total, target


def side_repradar(exports: Path, work: Path, fresh: bool) -> dict:
    result, total, target = _ingest(exports, work, fresh)
    return {
        "status": result.status,
        "tables": {
            f.table: {
                "rows": f.rows_read,
                "quarantined": f.rows_quarantined,
                "status": f.status,
                "seconds": (f.finished_at - f.started_at).total_seconds(),
            }
            for f in result.files
        },
        "seconds": total,
        "peak_rss_mib": peak_rss_mib(),
        "db_mib": target.stat().st_size / 2**20,
    }


# --- phases: every statement of one ingest, timed ------------------------------------

PHASES = [  # (phase, regex on the statement), first match wins
    ("stage: read_csv into a text table", r"CREATE TEMP TABLE stg_\w+ AS SELECT \* FROM read_csv"),
    ("stage: rejects, describe, count", r"_rejects|_scan\b|^DESCRIBE|min\(rowid\)"),
    ("validate: parse + row rules (CTAS)", r"CREATE TEMP TABLE \w+_checked AS"),
    ("validate: duplicate keys", r"_dupes"),
    ("validate: normalised-value notes", r" -> "),
    ("validate: references (UPDATE)", r"NOT IN \(SELECT k FROM|FROM \(SELECT 1 FROM raw\."),
    ("validate: summarise failures", r"unnest\(list_concat|WHERE len\(_errors\) > 0$"),
    ("quarantine INSERT", r"INSERT INTO quarantine\."),
    ("upsert: count new/changed/same", r"count_if\("),
    ("upsert: DELETE changed", r"^DELETE FROM raw\."),
    ("upsert: INSERT INTO raw", r"INSERT INTO raw\."),
    ("drop staging tables", r"^DROP TABLE"),
    ("COMMIT", r"^COMMIT"),
]
FINGERPRINT = "fingerprint: sha256 + UTF-8 check (Python)"
REST = "rest: Python, connect, load log, report, close"


class _TimedConnection:
    """A DuckDB connection whose execute/executemany add their time to `phases`, under
    the phase of the statement and the table being loaded (`current[0]`)."""

    def __init__(self, con, phases: dict, current: list[str]):
        self._con, self._phases, self._current = con, phases, current

    def _timed(self, method, sql, *args, **kwargs):
        text = " ".join(str(sql).split())
        phase = next((name for name, rx in PHASES if re.search(rx, text)), "other statements")
        t0 = time.perf_counter()
        try:
            getattr(self._con, method)(sql, *args, **kwargs)
        finally:
            self._phases[phase][self._current[0]] += time.perf_counter() - t0
        return self

    def execute(self, sql, *args, **kwargs):
        return self._timed("execute", sql, *args, **kwargs)

    def executemany(self, sql, *args, **kwargs):
        return self._timed("executemany", sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


def side_phases(exports: Path, work: Path) -> dict:
    from pipelines import warehouse
    from pipelines.ingest import read

    phases: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    current = ["-"]
    connect, fingerprint = warehouse.exclusive_connection, read.fingerprint

    @contextlib.contextmanager
    def timed_connection(path):
        with connect(path) as con:
            yield _TimedConnection(con, phases, current)

    def timed_fingerprint(source, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fingerprint(source, *args, **kwargs)
        finally:
            phases[FINGERPRINT][source.table] += time.perf_counter() - t0

    def progress(message: str) -> None:
        if message.endswith(": validating ..."):
            current[0] = message.strip().split(".")[0]
        else:
            current[0] = "-"

    warehouse.exclusive_connection, read.fingerprint = timed_connection, timed_fingerprint
    _, total, _ = _ingest(exports, work, fresh=True, progress=progress)
    measured = sum(sum(by_table.values()) for by_table in phases.values())
    phases[REST]["-"] = total - measured
    return {
        "phases": {
            name: {"all": sum(by_table.values()), BIG: by_table.get(BIG, 0.0)}
            for name, by_table in phases.items()
        },
        "seconds": total,
        "peak_rss_mib": peak_rss_mib(),
    }


# --- the driver -----------------------------------------------------------------------


def _child(side: str, exports: Path, work: Path) -> dict:
    args = [sys.executable, __file__, "--side", side, "--exports", str(exports)]
    args += ["--workdir", str(work)]
    done = subprocess.run(args, check=True, stdout=subprocess.PIPE)
    return json.loads(done.stdout)


def _company(work: Path) -> Path:
    exports = work / "exports"
    if (exports / "_truth" / "summary.json").is_file():
        say(f"reusing {exports}")
        return exports
    say(f"generating the {REPS}-rep, {MONTHS}-month company into {exports} ...")
    size = ["--reps", str(REPS), "--months", str(MONTHS), "--seed", str(SEED), "--as-of", AS_OF]
    subprocess.run(
        [REPRADAR, "generate", "--out", str(exports), *size], check=True, capture_output=True
    )
    return exports


def _warm(exports: Path) -> None:
    """Read every file once so neither side pays for a cold page cache."""
    for path in exports.glob("*.csv"):
        with path.open("rb") as handle:
            while handle.read(8 * 2**20):
                pass


def _machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def _median_table(runs: list[dict], table: str) -> float:
    return statistics.median(r["tables"][table]["seconds"] for r in runs)


def _print_tables(bares: list[dict], ours: list[dict], again: dict) -> None:
    ratios = [o["seconds"] / b["seconds"] for b, o in zip(bares, ours, strict=True)]
    print(f"Medians of {len(ours)} rounds; ratio = repradar s / bare s.")
    print()
    print("| table | rows | bare s | repradar s | repradar rows/s | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for table in bares[0]["tables"]:
        bare, mine = _median_table(bares, table), _median_table(ours, table)
        rows = ours[0]["tables"][table]["rows"]
        print(
            f"| {table} | {rows:,} | {bare:.2f} | {mine:.2f} | {rows / mine:,.0f} | "
            f"{mine / bare:.1f}x |"
        )
    rows = sum(r["rows"] for r in ours[0]["tables"].values())
    bare_s = statistics.median(b["seconds"] for b in bares)
    ours_s = statistics.median(o["seconds"] for o in ours)
    print(
        f"| **total** (wall, whole call) | {rows:,} | {bare_s:.1f} | {ours_s:.1f} | "
        f"{rows / ours_s:,.0f} | **{statistics.median(ratios):.1f}x** |"
    )
    print()
    print(
        "Rounds (bare s / repradar s = ratio): "
        + ", ".join(
            f"{b['seconds']:.1f} / {o['seconds']:.1f} = {r:.1f}x"
            for b, o, r in zip(bares, ours, ratios, strict=True)
        )
    )
    print()
    print("| run | wall s | peak RSS MiB | DuckDB file MiB | outcome |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(
        f"| bare CTAS from read_csv | {bare_s:.1f} | "
        f"{max(b['peak_rss_mib'] for b in bares):,.0f} | {bares[0]['db_mib']:,.0f} | "
        f"{len(bares[0]['tables'])} tables, {sum(t['rows'] for t in bares[0]['tables'].values()):,}"
        " rows |"
    )
    quarantined = sum(r["quarantined"] for r in ours[0]["tables"].values())
    print(
        f"| repradar ingest | {ours_s:.1f} | {max(o['peak_rss_mib'] for o in ours):,.0f} | "
        f"{ours[0]['db_mib']:,.0f} | {ours[0]['status']}, {quarantined:,} quarantined |"
    )
    statuses = "/".join(sorted({r["status"] for r in again["tables"].values()}))
    print(
        f"| repradar ingest again (same files) | {again['seconds']:.1f} | "
        f"{again['peak_rss_mib']:,.0f} | {again['db_mib']:,.0f} | "
        f"{again['status']}; every file {statuses} |"
    )


def _print_phases(runs: list[dict]) -> None:
    names = {name for run in runs for name in run["phases"]}

    def median(name: str, column: str) -> float:
        return statistics.median(run["phases"].get(name, {}).get(column, 0.0) for run in runs)

    rows = sorted(((median(n, "all"), median(n, BIG), n) for n in names), reverse=True)
    total = sum(all_s for all_s, _, _ in rows)
    wall = statistics.median(run["seconds"] for run in runs)
    print()
    print(f"Phases: medians of {len(runs)} instrumented ingests (wall {wall:.1f} s).")
    print()
    print(f"| phase | all tables s | share | of which {BIG} s |")
    print("| --- | ---: | ---: | ---: |")
    for all_s, big_s, name in rows:
        if all_s >= 0.05:
            print(f"| {name} | {all_s:.1f} | {all_s / total:.0%} | {big_s:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default_work = Path(tempfile.gettempdir()) / f"repradar-bench-ingest-{REPS}x{MONTHS}"
    parser.add_argument("--workdir", type=Path, default=default_work)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--phases", action="store_true", help="also time each ingest phase")
    parser.add_argument("--side", choices=["bare", "repradar", "again", "phases"])
    parser.add_argument("--exports", type=Path)
    args = parser.parse_args()
    if args.side:
        exports, work = args.exports, args.workdir
        out = {
            "bare": lambda: side_bare(exports, work),
            "repradar": lambda: side_repradar(exports, work, fresh=True),
            "again": lambda: side_repradar(exports, work, fresh=False),
            "phases": lambda: side_phases(exports, work),
        }[args.side]()
        print(json.dumps(out))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    with (args.workdir / ".lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"another benchmark is using {args.workdir}; waiting for it to finish ...")
            fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once would spoil each other's times
        _run(args)


def _run(args: argparse.Namespace) -> None:
    exports = _company(args.workdir)
    _warm(exports)
    say(_machine())
    bares, ours = [], []
    for round_ in range(1, args.repeat + 1):
        say(f"round {round_}/{args.repeat}: bare DuckDB load ...")
        bares.append(_child("bare", exports, args.workdir))
        say(f"round {round_}/{args.repeat}: repradar ingest ...")
        ours.append(_child("repradar", exports, args.workdir))
        say(f"  {bares[-1]['seconds']:.1f} s vs {ours[-1]['seconds']:.1f} s")
    say("repradar ingest again, same files ...")
    again = _child("again", exports, args.workdir)
    _print_tables(bares, ours, again)
    ratio = statistics.median(o["seconds"] / b["seconds"] for b, o in zip(bares, ours, strict=True))
    if args.phases or ratio > TARGET_RATIO:
        runs = []
        for round_ in range(1, args.repeat + 1):
            say(f"phases {round_}/{args.repeat}: instrumented repradar ingest ...")
            runs.append(_child("phases", exports, args.workdir))
        _print_phases(runs)


if __name__ == "__main__":
    main()
