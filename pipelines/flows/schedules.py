"""`repradar serve`: the deployments of prefect.yaml, served from this process.

prefect.yaml stays the one place where deployments, parameters and cron schedules are
declared; this module reads it and hands the same definitions to `prefect.serve`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pipelines.errors import RepradarError

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

Progress = Callable[[str], None]


class DeploymentsError(RepradarError):
    """prefect.yaml is missing or declares something `serve` cannot run."""


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str  # path/to/file.py:flow_function
    parameters: dict[str, Any]
    schedules: list[dict[str, str]]  # {"cron": ..., "timezone": ...}
    description: str | None = None


def read_deployments(prefect_yaml: Path) -> list[DeploymentSpec]:
    if not prefect_yaml.is_file():
        raise DeploymentsError(f"{prefect_yaml} not found")
    declared = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8")) or {}
    specs = []
    for entry in declared.get("deployments") or []:
        missing = {"name", "entrypoint"} - set(entry)
        if missing:
            raise DeploymentsError(f"{prefect_yaml}: a deployment lacks {sorted(missing)}")
        specs.append(
            DeploymentSpec(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                parameters=entry.get("parameters") or {},
                schedules=entry.get("schedules") or [],
                description=entry.get("description"),
            )
        )
    return specs


def load_flow(entrypoint: str) -> Flow:
    """The flow object an entrypoint `path/to/module.py:function` names (an installed
    module of this project)."""
    file_part, _, function = entrypoint.partition(":")
    try:
        module = importlib.import_module(".".join(Path(file_part).with_suffix("").parts))
        return getattr(module, function)
    except (ImportError, AttributeError) as error:
        raise DeploymentsError(f"{entrypoint}: no flow {function!r} ({error})") from error


def runner_deployments(prefect_yaml: Path) -> list[RunnerDeployment]:
    """prefect.yaml's deployments as `RunnerDeployment`s with their cron schedules."""
    from prefect.schedules import Cron

    deployments = []
    for spec in read_deployments(prefect_yaml):
        flow = load_flow(spec.entrypoint)
        schedules = [Cron(s["cron"], timezone=s.get("timezone", "UTC")) for s in spec.schedules]
        deployments.append(
            flow.to_deployment(
                name=spec.name,
                parameters=spec.parameters,
                schedules=schedules,
                description=spec.description,
            )
        )
    return deployments


def serve_deployments(prefect_yaml: Path, progress: Progress | None = None) -> None:
    """Serve every deployment of prefect.yaml until interrupted (blocks)."""
    from prefect import serve

    deployments = runner_deployments(prefect_yaml)
    if progress:
        for spec in read_deployments(prefect_yaml):  # a small file, read again for the names
            crons = ", ".join(f"{s['cron']} {s.get('timezone', 'UTC')}" for s in spec.schedules)
            progress(f"serving {spec.name} ({spec.entrypoint}) on {crons or 'no schedule'}")
    serve(*deployments)
