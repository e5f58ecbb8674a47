"""prefect.yaml: the deployments load, and their cron schedules register against a real
local Prefect server, both through `prefect deploy --all` and through `repradar serve`."""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL

from pipelines.flows.schedules import load_flow, read_deployments
from tests.conftest import REPO, REPRADAR

PREFECT_YAML = REPO / "prefect.yaml"
EXPECTED = {
    "daily/daily": ("0 6 * * *", {"source", "warehouse"}),
    "alerts/alerts": ("15 * * * *", {"warehouse"}),
    "weekly_report/weekly_report": ("0 7 * * 1", {"warehouse"}),
}
pytestmark = pytest.mark.slow


def test_every_deployment_names_a_flow_and_only_its_parameters() -> None:
    specs = read_deployments(PREFECT_YAML)
    assert {s.name for s in specs} == {"daily", "alerts", "weekly_report"}
    for spec in specs:
        flow = load_flow(spec.entrypoint)
        accepted = set(inspect.signature(flow.fn).parameters)
        assert set(spec.parameters) <= accepted, spec.name
        assert [s["cron"] for s in spec.schedules], spec.name


def client_environment(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    environment.update(
        PREFECT_API_URL=PREFECT_API_URL.value(),
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_CLI_PROMPT="false",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        REPRADAR_HOME=str(REPO),
    )
    return environment


def read_registered(names: list[str]) -> dict[str, object]:
    found = {}
    with get_client(sync_client=True) as client:
        for name in names:
            with contextlib.suppress(ObjectNotFound):
                found[name] = client.read_deployment_by_name(name)
    return found


def delete_registered() -> None:
    with get_client(sync_client=True) as client:
        for deployment in read_registered(list(EXPECTED)).values():
            client.delete_deployment(deployment.id)


def assert_schedules_as_declared(found: dict[str, object]) -> None:
    assert set(found) == set(EXPECTED)
    for name, (cron, parameters) in EXPECTED.items():
        deployment = found[name]
        [schedule] = deployment.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, "UTC")
        assert schedule.active
        assert set(deployment.parameters) == parameters


def test_prefect_deploy_registers_the_cron_schedules(prefect_server, tmp_path: Path) -> None:
    delete_registered()
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool("repradar-process")
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name="repradar-process", type="process"))
    prefect = str(Path(sys.executable).parent / "prefect")
    finished = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all"],
        cwd=REPO,
        env=client_environment(tmp_path),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=180,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    found = read_registered(list(EXPECTED))
    assert_schedules_as_declared(found)
    assert all(d.work_pool_name == "repradar-process" for d in found.values())
    [step] = found["daily/daily"].pull_steps
    assert step["prefect.deployments.steps.set_working_directory"]["directory"] in (
        str(REPO),
        "{{ $REPRADAR_HOME }}",
    )


def test_repradar_serve_registers_the_same_schedules(prefect_server, tmp_path: Path) -> None:
    delete_registered()
    server = subprocess.Popen(
        [REPRADAR, "serve"],
        cwd=REPO,
        env=client_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        found: dict[str, object] = {}
        while time.monotonic() < deadline and len(found) < len(EXPECTED):
            assert server.poll() is None, server.stdout.read()
            time.sleep(1)
            found = read_registered(list(EXPECTED))
        assert_schedules_as_declared(found)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=180)  # a loaded CI machine stops Prefect's runner slowly
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
