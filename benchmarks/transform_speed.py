"""Benchmark `repradar transform` (dbt build on DuckDB) against the same SQL run directly.

Run: .venv/bin/python benchmarks/transform_speed.py [--reps 5000] [--months 36]
[--rounds 3] [--workdir DIR | --keep] [--exports DIR] [--no-prefect]
Generates a company (seed 1, as-of 2026-10-31) and ingests it into a base warehouse once,
or reuses both when --workdir (or --exports) already holds them; without --workdir the
work goes into a fresh temporary directory, removed at the end unless --keep. Prints the
row counts of the raw tables, then, each round, each step in its own subprocess on a
fresh copy of the base warehouse (so each has its own peak RSS):

- build: `pipelines.transform.build_duckdb()` (writer lock, checkpoint, file copy, dbt
  build of models, data tests and unit tests, run log, swap), with its parts timed;
- run: `dbt run` (models only, no tests) through `pipelines.transform.dbt_invoke.invoke`;
- direct: the SQL that `dbt compile` (run once per invocation) writes to the manifest,
  in ONE DuckDB connection and no dbt: every model in dependency order as
  `CREATE OR REPLACE VIEW|TABLE <relation> AS <compiled_code>` after its materialization,
  then every data test as `SELECT <fail_calc> FROM (<compiled_code>)`. Unit tests are not
  compiled by `dbt compile` (they need the built parents), so they have no direct side;
  their share of the build is shown as the node time dbt reports for them;
- cli / cli --prefect: the whole `repradar transform [--prefect] --warehouse <copy>` in a
  subprocess; the difference is the Prefect overhead a user sees (temporary API server,
  flow and task runs, artifact). PREFECT_HOME is <workdir>/prefect-home (its database is
  migrated once before the first round) and PREFECT_SERVER_ANALYTICS_ENABLED=false;
- flow: `transform_flow()` in-process, after a trivial flow has started the temporary
  server; its overhead is the flow's wall time minus the build_duckdb time inside it.

dbt keeps its target/ (partial parse) per step across rounds, as for a user running
transform again; it is warmed with `dbt parse` before a step's first timed run. Times are
medians over the rounds; a ratio is the median of each round's ratio. Target (issue): dbt
build wall time <= 1.5x the same compiled SQL directly in one DuckDB connection.
Prints markdown tables for benchmarks/README.md. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import graphlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import peak_rss_mib, say  # noqa: E402

from pipelines.warehouse import remove_database  # noqa: E402

REPRADAR = str(Path(sys.executable).parent / "repradar")
SEED, AS_OF = 1, "2026-10-31"
TARGET_RATIO = 1.5
WAREHOUSE = "warehouse.duckdb"  # every copy has this name: the DuckDB catalog is its stem


def _copy_base(work: Path, step: str) -> Path:
    """A fresh copy of the ingested base warehouse at <work>/<step>/warehouse.duckdb."""
    target = work / step / WAREHOUSE
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_database(target)
    shutil.copyfile(work / "base" / WAREHOUSE, target)
    return target


def _prefect_env(work: Path) -> dict[str, str]:
    return {
        "PREFECT_HOME": str(work / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def _dbt_env(warehouse: Path) -> dict[str, str]:
    return {"REPRADAR_WAREHOUSE": str(warehouse.resolve())}


def _warm_parse(dbt_dir: Path, warehouse: Path) -> None:
    """`dbt parse` once for this target/ and profile, so timed runs parse partially."""
    from pipelines.transform.dbt_invoke import invoke

    if not (dbt_dir / "target" / "partial_parse.msgpack").is_file():
        invoke(["parse"], target="duckdb", work_dir=dbt_dir, environment=_dbt_env(warehouse))


def _import_dbt() -> float:
    t0 = time.perf_counter()
    import dbt.cli.main  # noqa: F401  (imported by invoke on first use)

    return time.perf_counter() - t0


def _node_seconds(nodes) -> dict:
    by_kind: dict[str, float] = {}
    for node in nodes:
        by_kind[node.kind] = by_kind.get(node.kind, 0.0) + node.seconds
    return {
        "by_kind": by_kind,
        "counts": {kind: sum(1 for n in nodes if n.kind == kind) for kind in by_kind},
        "models": {n.name: n.seconds for n in nodes if n.kind == "model"},
        "failed": [f"{n.kind} {n.name}: {n.status}" for n in nodes if n.failed],
    }


# --- the steps, each run in a subprocess ----------------------------------------------


def step_build(work: Path) -> dict:
    """build_duckdb() on a fresh copy, its parts timed by wrapping the module's helpers."""
    from pipelines.transform import build

    warehouse = _copy_base(work, "build")
    scratch = warehouse.with_name(f".{warehouse.name}.building")  # what build_duckdb uses
    import_s = _import_dbt()
    _warm_parse(build.work_directory(warehouse), scratch)
    parts: dict[str, float] = {}
    sizes: list[int] = []

    def timed(name, function):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - t0

        return wrapper

    def copyfile(source, destination):
        sizes.append(Path(source).stat().st_size)
        return shutil.copyfile(source, destination)

    build._checkpoint = timed("checkpoint", build._checkpoint)
    build.invoke = timed("dbt build", build.invoke)
    build._log_run = timed("run log", build._log_run)
    build.shutil = types.SimpleNamespace(copyfile=timed("file copy", copyfile))
    started = time.perf_counter()
    result = build.build_duckdb(warehouse)
    seconds = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"dbt build failed: {result.problems()}")
    parts["lock, swap, cleanup"] = seconds - sum(parts.values())
    return {
        "seconds": seconds,
        "parts": parts,
        "copied_mib": sizes[0] / 2**20,
        "built_mib": warehouse.stat().st_size / 2**20,
        "import_dbt_s": import_s,
        "nodes": _node_seconds(result.nodes),
        "peak_rss_mib": peak_rss_mib(),
    }


def step_run(work: Path) -> dict:
    from pipelines.transform.dbt_invoke import invoke

    warehouse = _copy_base(work, "run")
    dbt_dir = warehouse.parent / "dbt"
    _import_dbt()
    _warm_parse(dbt_dir, warehouse)
    started = time.perf_counter()
    outcome = invoke(["run"], target="duckdb", work_dir=dbt_dir, environment=_dbt_env(warehouse))
    seconds = time.perf_counter() - started
    if not outcome.success or outcome.failed_nodes:
        raise SystemExit(f"dbt run failed: {outcome.error or outcome.failed_nodes}")
    return {
        "seconds": seconds,
        "nodes": _node_seconds(outcome.nodes),
        "peak_rss_mib": peak_rss_mib(),
    }


def step_compile(work: Path) -> dict:
    """`dbt compile` against <work>/direct/warehouse.duckdb: the manifest for `direct`."""
    from pipelines.transform.dbt_invoke import invoke

    warehouse = _copy_base(work, "direct")
    started = time.perf_counter()
    outcome = invoke(
        ["compile"],
        target="duckdb",
        work_dir=warehouse.parent / "dbt",
        environment=_dbt_env(warehouse),
    )
    if not outcome.success:
        raise SystemExit(f"dbt compile failed: {outcome.error}")
    return {"seconds": time.perf_counter() - started}


def _direct_plan(manifest: dict) -> tuple[list[dict], list[dict]]:
    """Model nodes of the project in dependency order, and its data test nodes."""
    nodes = manifest["nodes"]
    models = {
        key: node
        for key, node in nodes.items()
        if node["resource_type"] == "model" and node["config"].get("enabled", True)
    }
    graph = {
        key: [parent for parent in node["depends_on"]["nodes"] if parent in models]
        for key, node in models.items()
    }
    ordered = [models[key] for key in graphlib.TopologicalSorter(graph).static_order()]
    tests = [
        node
        for _, node in sorted(nodes.items())
        if node["resource_type"] == "test" and node["config"].get("enabled", True)
    ]
    return ordered, tests


def step_direct(work: Path) -> dict:
    import duckdb

    warehouse = _copy_base(work, "direct")
    manifest = json.loads((warehouse.parent / "dbt" / "target" / "manifest.json").read_text())
    models, tests = _direct_plan(manifest)
    con = duckdb.connect(str(warehouse))
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    for schema in sorted({m["schema"] for m in models}):
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    model_s: dict[str, float] = {}
    errors: list[str] = []
    materialized: dict[str, int] = {}
    for node in models:
        kind = node["config"]["materialized"]
        materialized[kind] = materialized.get(kind, 0) + 1
        if kind == "ephemeral":  # inlined as a CTE into its children's compiled code
            continue
        if node["database"] != catalog:
            errors.append(f"model {node['name']}: compiled for catalog {node['database']}")
        ddl = "VIEW" if kind == "view" else "TABLE"  # table, incremental: a full rebuild
        sql = f"CREATE OR REPLACE {ddl} {node['relation_name']} AS\n{node['compiled_code']}"
        t0 = time.perf_counter()
        try:
            con.execute(sql)
        except duckdb.Error as error:
            errors.append(f"model {node['name']}: {str(error).splitlines()[0]}")
        model_s[node["name"]] = time.perf_counter() - t0
    test_s, failing = 0.0, []
    for node in tests:
        fail_calc = node["config"].get("fail_calc") or "count(*)"
        sql = f"SELECT {fail_calc} FROM (\n{node['compiled_code']}\n) dbt_internal_test"
        t0 = time.perf_counter()
        try:
            failures = con.execute(sql).fetchone()[0]
        except duckdb.Error as error:
            errors.append(f"test {node['name']}: {str(error).splitlines()[0]}")
            failures = 0
        test_s += time.perf_counter() - t0
        if failures:
            failing.append(f"{node['name']}: {failures}")
    t0 = time.perf_counter()
    con.execute("CHECKPOINT")
    con.close()
    checkpoint_s = time.perf_counter() - t0
    return {
        "models_s": sum(model_s.values()),
        "tests_s": test_s,
        "checkpoint_s": checkpoint_s,
        "model_s": model_s,
        "materialized": materialized,
        "tests": len(tests),
        "failing_tests": failing,
        "errors": errors,
        "peak_rss_mib": peak_rss_mib(),
    }


def step_cli(work: Path, prefect: bool) -> dict:
    """The whole CLI in a subprocess; peak RSS is the largest of its processes."""
    warehouse = _copy_base(work, "cli")
    _warm_parse(warehouse.parent / "dbt", warehouse.with_name(f".{warehouse.name}.building"))
    args = [REPRADAR, "transform", "--warehouse", str(warehouse)]
    if prefect:
        args.append("--prefect")
    env = {**os.environ, **_prefect_env(work)}
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    built = next((line for line in done.stdout.splitlines() if line.startswith("built ")), "")
    return {
        "seconds": seconds,
        "built": built,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def step_flow(work: Path) -> dict:
    os.environ.update(_prefect_env(work))
    warehouse = _copy_base(work, "flow")
    from prefect import flow

    from pipelines.flows.transform import transform_flow

    _import_dbt()
    _warm_parse(warehouse.parent / "dbt", warehouse.with_name(f".{warehouse.name}.building"))

    @flow(name="bench-noop")
    def noop() -> None:
        return None

    t0 = time.perf_counter()
    noop()  # starts the temporary Prefect server for this process
    server_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = transform_flow(warehouse=str(warehouse))
    seconds = time.perf_counter() - t0
    return {
        "server_s": server_s,
        "seconds": seconds,
        "build_s": result.seconds,
        "peak_rss_mib": peak_rss_mib(),
    }


def prefect_warmup(work: Path) -> dict:
    """A trivial flow, so the Prefect database under PREFECT_HOME exists and is migrated."""
    os.environ.update(_prefect_env(work))
    from prefect import flow

    @flow(name="bench-warmup")
    def noop() -> None:
        return None

    t0 = time.perf_counter()
    noop()
    return {"seconds": time.perf_counter() - t0}


STEPS = {
    "build": step_build,
    "run": step_run,
    "compile": step_compile,
    "direct": step_direct,
    "cli": lambda work: step_cli(work, prefect=False),
    "cli-prefect": lambda work: step_cli(work, prefect=True),
    "flow": step_flow,
    "prefect-warmup": prefect_warmup,
}


# --- the driver -----------------------------------------------------------------------


def _child(step: str, work: Path) -> dict:
    """Run one step in a subprocess; its stderr (dbt, Prefect logs) goes to logs/<step>.log."""
    args = [sys.executable, __file__, "--step", step, "--workdir", str(work)]
    log = work / "logs" / f"{step}.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as stderr:
        done = subprocess.run(args, stdout=subprocess.PIPE, stderr=stderr, text=True)
    if done.returncode:
        say(log.read_text()[-3000:])
        raise SystemExit(f"step {step} failed (exit {done.returncode}); log: {log}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _company(args: argparse.Namespace, work: Path) -> Path:
    exports = args.exports or work / "exports"
    wanted = {"reps": args.reps, "months": args.months, "seed": args.seed, "as_of": AS_OF}
    summary = exports / "_truth" / "summary.json"
    if summary.is_file():
        found = json.loads(summary.read_text())["parameters"]
        if any(found.get(key) != value for key, value in wanted.items()):
            raise SystemExit(f"{exports} holds another company ({found}); use another --workdir")
        say(f"reusing {exports}")
        return exports
    if args.exports:
        raise SystemExit(f"{exports} has no generated company (_truth/summary.json)")
    say(f"generating the {args.reps}-rep, {args.months}-month company into {exports} ...")
    size = ["--reps", str(args.reps), "--months", str(args.months), "--seed", str(args.seed)]
    t0 = time.perf_counter()
    subprocess.run(
        [REPRADAR, "generate", "--out", str(exports), *size, "--as-of", AS_OF],
        check=True,
        capture_output=True,
    )
    say(f"  generated in {time.perf_counter() - t0:.1f} s")
    return exports


def _base_warehouse(exports: Path, work: Path) -> Path:
    base = work / "base" / WAREHOUSE
    marker = work / "base" / "ingested.json"
    source = json.loads((exports / "_truth" / "summary.json").read_text())["parameters"]
    if base.is_file() and marker.is_file() and json.loads(marker.read_text()) == source:
        say(f"reusing {base}")
        return base
    say(f"ingesting into {base} ...")
    base.parent.mkdir(parents=True, exist_ok=True)
    remove_database(base)
    t0 = time.perf_counter()
    subprocess.run(
        [REPRADAR, "ingest", "--source", str(exports), "--warehouse", str(base)],
        check=True,
        capture_output=True,
    )
    say(f"  ingested in {time.perf_counter() - t0:.1f} s")
    marker.write_text(json.dumps(source))
    return base


def _raw_counts(base: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(base), read_only=True) as con:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'raw' ORDER BY table_name"
            ).fetchall()
        ]
        return {t: con.execute(f'SELECT count(*) FROM raw."{t}"').fetchone()[0] for t in tables}


def _machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}"


def _median(values) -> float:
    return statistics.median(list(values))


def _print_counts(counts: dict[str, int], base: Path) -> None:
    print(f"Raw tables in the base warehouse ({base.stat().st_size / 2**20:,.0f} MiB):")
    print()
    print("| raw table | rows |")
    print("| --- | ---: |")
    for table, rows in counts.items():
        print(f"| {table} | {rows:,} |")
    print(f"| **total** | {sum(counts.values()):,} |")
    print()


def _print_results(rounds: list[dict], args: argparse.Namespace) -> None:
    builds = [r["build"] for r in rounds]
    runs = [r["run"] for r in rounds]
    directs = [r["direct"] for r in rounds]

    def rss(steps: list[dict]) -> str:
        return f"{max(s['peak_rss_mib'] for s in steps):,.0f}"

    def row(step: str, seconds: float, peak: str = "", note: str = "") -> None:
        print(f"| {step} | {seconds:.2f} | {peak} | {note} |")

    first = builds[0]
    kinds = first["nodes"]["counts"]
    direct_n = sum(v for k, v in directs[0]["materialized"].items() if k != "ephemeral")
    mats = ", ".join(f"{n} {k}s" for k, n in sorted(directs[0]["materialized"].items()))
    print(f"Medians of {len(rounds)} round(s); {args.reps} reps, {args.months} months.")
    print()
    print("| step | median s | peak RSS MiB | notes |")
    print("| --- | ---: | ---: | --- |")
    row(
        "dbt build via build_duckdb (total)",
        _median(b["seconds"] for b in builds),
        rss(builds),
        f"{kinds.get('model', 0)} models, {kinds.get('test', 0)} data tests, "
        f"{kinds.get('unit_test', 0)} unit tests",
    )
    for part in first["parts"]:
        note = f"{first['copied_mib']:,.0f} MiB" if part == "file copy" else ""
        row(f"&nbsp;&nbsp;of which {part}", _median(b["parts"][part] for b in builds), "", note)
    row("dbt run via invoke (models only)", _median(r["seconds"] for r in runs), rss(runs))
    models_s = [d["models_s"] for d in directs]
    tests_s = [d["tests_s"] for d in directs]
    row("direct: models, one DuckDB connection", _median(models_s), rss(directs), mats)
    row("direct: data tests", _median(tests_s), "", f"{directs[0]['tests']} tests")
    row(
        "direct: models + data tests",
        _median(m + t for m, t in zip(models_s, tests_s, strict=True)),
        "",
        f"+ {_median(d['checkpoint_s'] for d in directs):.2f} s CHECKPOINT, not counted",
    )
    if "cli" in rounds[0]:
        clis = [r["cli"] for r in rounds]
        prefects = [r["cli-prefect"] for r in rounds]
        flows = [r["flow"] for r in rounds]
        row("`repradar transform` (CLI subprocess)", _median(c["seconds"] for c in clis), rss(clis))
        row(
            "`repradar transform --prefect` (CLI subprocess)",
            _median(c["seconds"] for c in prefects),
            rss(prefects),
            "largest process of the run",
        )
        row(
            "transform_flow() in-process",
            _median(f["seconds"] for f in flows),
            rss(flows),
            "temporary server already up",
        )
        row(
            "temporary Prefect server start + a trivial flow", _median(f["server_s"] for f in flows)
        )
    print()
    node_s = first["nodes"]["by_kind"]
    print(
        "dbt's own node times in the build (sum over nodes, 2 threads; round 1): "
        + ", ".join(f"{kind} {s:.2f} s" for kind, s in sorted(node_s.items()))
        + f". Importing dbt (not in the times above): {first['import_dbt_s']:.1f} s."
    )
    print()

    def ratio(top, bottom) -> list[float]:
        return [t / b for t, b in zip(top, bottom, strict=True)]

    direct_all = [m + t for m, t in zip(models_s, tests_s, strict=True)]
    build_ratio = ratio([b["seconds"] for b in builds], direct_all)
    invoke_ratio = ratio([b["parts"]["dbt build"] for b in builds], direct_all)
    run_ratio = ratio([r["seconds"] for r in runs], models_s)
    print("| ratio | median | rounds | target |")
    print("| --- | ---: | --- | --- |")

    def ratio_row(name: str, values: list[float], target: str = "") -> None:
        rounds_text = ", ".join(f"{v:.1f}x" for v in values)
        print(f"| {name} | **{_median(values):.1f}x** | {rounds_text} | {target} |")

    verdict = "met" if _median(build_ratio) <= TARGET_RATIO else "MISSED"
    ratio_row(
        "dbt build (build_duckdb) / (direct models + tests)", build_ratio, f"<= 1.5x: {verdict}"
    )
    ratio_row("dbt build (dbt invoke only) / (direct models + tests)", invoke_ratio)
    ratio_row("dbt run / direct models", run_ratio)
    if "cli" in rounds[0]:
        overhead = [r["cli-prefect"]["seconds"] - r["cli"]["seconds"] for r in rounds]
        in_process = [r["flow"]["seconds"] - r["flow"]["build_s"] for r in rounds]
        print()
        print("| Prefect overhead | median s | rounds s |")
        print("| --- | ---: | --- |")
        for name, values in (
            ("CLI: `transform --prefect` - `transform`", overhead),
            ("in-process: transform_flow() - its build_duckdb()", in_process),
        ):
            text = ", ".join(f"{v:.1f}" for v in values)
            print(f"| {name} | {_median(values):.1f} | {text} |")
    slow = sorted(directs[0]["model_s"].items(), key=lambda kv: -kv[1])[:5]
    dbt_models = first["nodes"]["models"]
    print()
    print(
        f"Slowest models directly (round 1; of {direct_n}): "
        + ", ".join(f"{name} {s:.2f} s (dbt {dbt_models.get(name, 0):.2f} s)" for name, s in slow)
    )
    problems = directs[0]["errors"] + [f"failing test {t}" for t in directs[0]["failing_tests"]]
    problems += first["nodes"]["failed"]
    if problems:
        print()
        print("Problems: " + "; ".join(problems))


def _run(args: argparse.Namespace, work: Path) -> None:
    exports = _company(args, work)
    base = _base_warehouse(exports, work)
    _print_counts(_raw_counts(base), base)
    say(_machine())
    say("dbt compile (for the direct step) ...")
    say(f"  {_child('compile', work)['seconds']:.1f} s")
    steps = ["build", "run", "direct"]
    if not args.no_prefect:
        steps += ["cli", "cli-prefect", "flow"]
        if not (work / "prefect-home" / "prefect.db").is_file():
            say("Prefect: creating the database under prefect-home ...")
            say(f"  {_child('prefect-warmup', work)['seconds']:.1f} s")
    rounds = []
    for number in range(1, args.rounds + 1):
        results = {}
        for step in steps:
            say(f"round {number}/{args.rounds}: {step} ...")
            results[step] = _child(step, work)
            shown = results[step].get("seconds", results[step].get("models_s"))
            say(f"  {shown:.2f} s")
        rounds.append(results)
    _print_results(rounds, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5000, help="company size (default 5000)")
    parser.add_argument("--months", type=int, default=36, help="months of history (default 36)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"(default {SEED})")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--workdir", type=Path, help="keep and reuse data here (default: a temporary directory)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--exports", type=Path, help="reuse a generated company in this directory")
    parser.add_argument("--no-prefect", action="store_true", help="skip the Prefect steps")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON only
            out = STEPS[args.step](args.workdir.resolve())
        print(json.dumps(out))
        return
    if args.workdir:
        work = args.workdir.resolve()
    else:
        prefix = f"repradar-bench-transform-{args.reps}x{args.months}-"
        work = Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    say(f"work directory: {work}")
    try:
        with (work / ".lock").open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say(f"another benchmark is using {work}; waiting for it to finish ...")
                fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once would spoil the times
            _run(args, work)
    finally:
        if not args.workdir and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif not args.workdir:
            say(f"kept {work} (reuse it with --workdir {work})")


if __name__ == "__main__":
    main()
