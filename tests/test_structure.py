"""The shape of the code base that keeps it quick to start and easy to change: a light
command line, one settings module, one warehouse layer, models that do not build marts,
no monolith."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

from pipelines import settings
from tests.conftest import REPO

HEAVY = ("sklearn", "matplotlib", "reportlab", "skops", "pyspark", "great_expectations")
HEAVY += ("dbt", "prefect")
PRODUCT_CODE = ("pipelines", "models_ml", "notebooks")


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (inside functions too)."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
    return modules


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    probe = (
        "import json, sys, pipelines.cli; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", probe], cwd=REPO)))
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_every_subcommand_help_loads_no_heavy_library() -> None:
    probe = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from pipelines.cli import app\n"
        "commands = ['generate', 'demo', 'ingest', 'transform', 'docs', 'train', 'score',\n"
        "    'report', 'run', 'serve', 'alerts send', 'alerts list', 'alerts ack',\n"
        "    'mapping list', 'mapping show', 'mapping check']\n"
        "for command in commands:\n"
        "    assert CliRunner().invoke(app, [*command.split(), '--help']).exit_code == 0\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", probe], cwd=REPO)))
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_models_import_nothing_from_the_transform_step() -> None:
    offenders = {
        path.name: sorted(m for m in imported_modules(path) if m.startswith("pipelines.transform"))
        for path in python_files("models_ml")
    }
    assert not {name: found for name, found in offenders.items() if found}


def test_no_step_imports_the_warehouse_helpers_from_another_step() -> None:
    """Steps reach the warehouse through `pipelines.warehouse`, never through ingest."""
    offenders = [
        path.relative_to(REPO).as_posix()
        for path in python_files(*PRODUCT_CODE, "tests", "benchmarks")
        if not path.is_relative_to(REPO / "pipelines" / "ingest")
        and "pipelines.ingest.raw_tables" in imported_modules(path)
    ]
    assert not offenders


def test_no_product_module_is_over_600_lines() -> None:
    long = {
        path.relative_to(REPO).as_posix(): lines
        for path in python_files(*PRODUCT_CODE)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not long


def test_only_the_settings_module_reads_the_environment() -> None:
    """dbt_invoke sets and restores dbt's variables around a call (it reads whatever it
    overwrites); the CLI sets Prefect's telemetry default; the notebook stands alone."""
    allowed = {"pipelines/settings.py", "pipelines/transform/dbt_invoke.py"}
    allowed |= {"pipelines/cli/__init__.py", "notebooks/analyst_starter.py"}
    readers = {
        path.relative_to(REPO).as_posix()
        for path in python_files(*PRODUCT_CODE)
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text(encoding="utf-8"))
    }
    assert readers <= allowed, readers - allowed


def test_every_variable_the_project_reads_is_a_documented_setting() -> None:
    names = {setting.name for setting in settings.SETTINGS}
    configs = [REPO / "prefect.yaml", *(REPO / "dbt_project").glob("*.yml")]
    sources = [*python_files(*PRODUCT_CODE), *configs]
    used = {
        name
        for path in sources
        for name in re.findall(r"REPRADAR_[A-Z0-9_]+", path.read_text(encoding="utf-8"))
    }
    assert used <= names, used - names


def test_the_readme_settings_table_lists_every_setting_with_its_default() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    for setting in settings.SETTINGS:
        [row] = [line for line in table.splitlines() if line.startswith(f"| `{setting.name}`")]
        if setting.default:
            assert f"`{setting.default}`" in row, setting.name
