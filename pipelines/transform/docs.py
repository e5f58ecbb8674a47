"""`repradar docs`: the dbt docs catalog as one self-contained HTML page."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines import settings
from pipelines.transform.build import TransformError, check_raw_data, work_directory
from pipelines.transform.dbt_invoke import invoke
from pipelines.warehouse import writer_lock


def generate_docs(warehouse: Path, out: Path) -> Path:
    """Run `dbt docs generate --static` against the built warehouse; return the page."""
    check_raw_data(warehouse)
    work = work_directory(warehouse)
    with writer_lock(warehouse):
        outcome = invoke(
            ["docs", "generate", "--static"],
            target="duckdb",
            work_dir=work,
            environment={settings.WAREHOUSE.name: str(warehouse.resolve())},
        )
    if not outcome.success:
        raise TransformError(f"dbt docs generate failed: {outcome.error}")
    out.mkdir(parents=True, exist_ok=True)
    built = work / "target"
    shutil.copyfile(built / "static_index.html", out / "index.html")
    for artefact in ("manifest.json", "catalog.json"):
        shutil.copyfile(built / artefact, out / artefact)
    return out / "index.html"
