"""The scheduled flows: `report`, `alerts`, `daily` (the step sequence of
`pipelines.steps.run_steps`, each step a Prefect task or subflow) and `weekly_report`
(report -> leadership list). Their deployments and cron schedules are declared in
prefect.yaml.

Artifacts carry aggregates only: counts of alerts, never names.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.states import State

from models_ml.train import TrainResult
from pipelines.alerts.channels import Channel
from pipelines.alerts.run import DeliveryResult, send_alerts, send_report, utc_now
from pipelines.errors import WarehouseBusy
from pipelines.file_modes import keep_files_private
from pipelines.flows.ingest import ingest_flow
from pipelines.flows.models import score_task
from pipelines.flows.transform import transform_flow
from pipelines.ingest.load import IngestResult
from pipelines.report import ReportResult, build_report
from pipelines.report.build import report_delivery
from pipelines.steps import (
    RETRAIN_AFTER_DAYS,
    Kept,
    PipelineRequest,
    PipelineRun,
    ScoreResult,
    Skipped,
    Steps,
    run_steps,
    step_note,
)
from pipelines.transform.build import TransformResult
from pipelines.warehouse import resolve_warehouse


def warehouse_was_busy(_task: object, _task_run: object, state: State) -> bool:
    """Whether a failed task run failed because another run held the warehouse: only
    then is it worth waiting and trying again; any other failure is final at once."""
    return isinstance(state.result(raise_on_failure=False), WarehouseBusy)


# A step that finds the warehouse busy (another run holds it) waits and tries again.
BUSY_RETRIES = {
    "retries": 3,
    "retry_delay_seconds": 300,
    "retry_condition_fn": warehouse_was_busy,
}


@task(name="build-report", **BUSY_RETRIES)
def build_report_task(warehouse: Path, out: Path | None) -> ReportResult:
    return build_report(warehouse, out, progress=get_run_logger().info)


@task(name="send-alerts", **BUSY_RETRIES)
def send_alerts_task(
    warehouse: Path,
    cap: int | None = None,
    channels: list[Channel] | None = None,
    resend_unknown: bool = False,
) -> DeliveryResult:
    return send_alerts(
        warehouse,
        cap=cap,
        channels=channels,
        progress=get_run_logger().info,
        resend_unknown=resend_unknown,
    )


@task(name="deliver-report", **BUSY_RETRIES)
def deliver_report_task(warehouse: Path, report: ReportResult) -> DeliveryResult:
    return send_report(warehouse, report_delivery(report, utc_now()))


@task(name="train-if-due")
def train_if_due_task(warehouse: Path, retrain_after_days: int) -> TrainResult | Kept | Skipped:
    outcome = Steps(get_run_logger().info).train(warehouse, retrain_after_days)
    get_run_logger().info(step_note(outcome))
    return outcome


class PrefectSteps(Steps):
    """The steps of `run_steps` as Prefect subflows (ingest, transform: each publishes its
    summary artifact and fails on a rejected load or a failed build) and tasks."""

    def ingest(self, request: PipelineRequest) -> IngestResult:
        return ingest_flow(
            source=str(request.source),
            warehouse=str(request.warehouse),
            mapping=request.mapping,
            reports=str(request.reports) if request.reports else None,
        )

    def transform(self, warehouse: Path) -> TransformResult:
        return transform_flow(warehouse=str(warehouse))

    def train(self, warehouse: Path, retrain_after_days: int) -> TrainResult | Kept | Skipped:
        return train_if_due_task(warehouse, retrain_after_days)

    def score(self, warehouse: Path) -> ScoreResult | Skipped:
        return score_task(warehouse)

    def report(self, warehouse: Path) -> ReportResult:
        return build_report_task(warehouse, None)

    def alerts(self, warehouse: Path, channels: list[Channel] | None) -> DeliveryResult:
        return send_alerts_task(warehouse, channels=channels)


def _report_artifact(report: ReportResult) -> None:
    create_markdown_artifact(
        key="leadership-report",
        markdown=report.markdown + f"\n\nHTML: `{report.html}`  \nPDF: `{report.pdf}`",
        description=f"leadership report, data as of {report.data.as_of}",
    )


def _alerts_artifact(result: DeliveryResult, key: str, notes: list[str] | None = None) -> None:
    lines = [*(notes or []), *result.lines()]
    create_markdown_artifact(
        key=key,
        markdown="\n".join(["# alerts", "", *[f"- {line}" for line in lines]]),
        description="alert delivery (counts only)",
    )


@flow(name="report")
def report_flow(warehouse: str | None = None, out: str | None = None) -> ReportResult:
    """Write the leadership report (HTML and PDF) from the analyst database."""
    keep_files_private()
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    report = build_report_task(path, Path(out) if out else None)
    _report_artifact(report)
    return report


@flow(name="alerts")
def alerts_flow(
    warehouse: str | None = None, cap: int | None = None, resend_unknown: bool = False
) -> DeliveryResult:
    """Record new HR alerts and deliver the due ones, failed ones included once their
    backoff has passed (at most `cap` a day; default $REPRADAR_ALERT_DAILY_CAP or 20).
    `resend_unknown`: send again what a stopped run left unknown (checked by a person)."""
    keep_files_private()
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    result = send_alerts_task(path, cap, resend_unknown=resend_unknown)
    _alerts_artifact(result, "alerts-summary")
    return result


@flow(name="daily")
def daily_flow(
    source: str,
    warehouse: str | None = None,
    mapping: str | None = None,
    retrain_after_days: int = RETRAIN_AFTER_DAYS,
) -> PipelineRun:
    """Ingest the day's exports, rebuild the marts, (re)train when due, score, alert.

    Each step runs only if the one before succeeded; a rejected load or a failed build
    fails the run and leaves the last good marts and scores in place. Training and
    scoring are skipped, and the run still succeeds, when the data holds nothing for them
    (no HR exports, no exits to learn from yet); the result says what was skipped and why.
    """
    keep_files_private()
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    request = PipelineRequest(
        source=Path(source),
        warehouse=path,
        mapping=mapping,
        retrain_after_days=retrain_after_days,
    )
    run = run_steps(request, PrefectSteps())
    _alerts_artifact(run.alerts, "daily-alerts", run.notes)
    return run


@flow(name="weekly_report")
def weekly_report(warehouse: str | None = None, out: str | None = None) -> DeliveryResult:
    """Write the leadership report and deliver it to the leadership list (e-mail with the
    PDF attached, a chat message with the summary, or the file outbox)."""
    keep_files_private()
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    report = build_report_task(path, Path(out) if out else None)
    _report_artifact(report)
    result = deliver_report_task(path, report)
    _alerts_artifact(result, "report-delivery")
    return result
