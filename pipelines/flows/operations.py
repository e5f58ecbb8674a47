"""The scheduled flows: `report`, `alerts`, `daily` (ingest -> transform -> score ->
alerts) and `weekly_report` (report -> leadership list). Their deployments and cron
schedules are declared in prefect.yaml.

Artifacts carry aggregates only: counts of alerts, never names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from models_ml.score import ScoreResult, ScoringError, ScoringSkipped, latest_model_run, score
from models_ml.train import TrainingSkipped, train
from pipelines.alerts.run import DeliveryResult, send_alerts, send_report, utc_now
from pipelines.flows.ingest import ingest_flow
from pipelines.flows.models import ScoreFailed, Skipped
from pipelines.flows.transform import transform_flow
from pipelines.ingest.warehouse import resolve_warehouse
from pipelines.report import ReportResult, build_report
from pipelines.report.build import report_delivery
from pipelines.transform.gaps import data_gaps

RETRAIN_AFTER_DAYS = 30


# A step that finds the warehouse busy (another run holds it) waits and tries again.
BUSY_RETRIES = {"retries": 3, "retry_delay_seconds": 300}


@dataclass
class DailyResult:
    """What the daily run did: the alert delivery, and in words what it skipped or left
    empty for lack of data (a partial load, no exits to learn from yet)."""

    alerts: DeliveryResult
    notes: list[str] = field(default_factory=list)


@task(name="build-report", **BUSY_RETRIES)
def build_report_task(warehouse: Path, out: Path | None) -> ReportResult:
    return build_report(warehouse, out, progress=get_run_logger().info)


@task(name="send-alerts", **BUSY_RETRIES)
def send_alerts_task(warehouse: Path, cap: int | None = None) -> DeliveryResult:
    return send_alerts(warehouse, cap=cap, progress=get_run_logger().info)


@task(name="deliver-report", **BUSY_RETRIES)
def deliver_report_task(warehouse: Path, report: ReportResult) -> DeliveryResult:
    return send_report(warehouse, report_delivery(report, utc_now()))


def _quiet(_message: str) -> None:
    return None


def train_if_due(
    warehouse: Path, retrain_after_days: int, progress: Callable[[str], None] = _quiet
) -> str:
    """Train when no model exists or the latest is older than `retrain_after_days`; what
    was done, in words. Raises `TrainingSkipped` when there is nothing to learn from."""
    try:
        trained_at = latest_model_run(warehouse)["trained_at"].to_pydatetime()
    except ScoringError:  # no model yet
        trained_at = None
    if trained_at is not None and utc_now() - trained_at < dt.timedelta(days=retrain_after_days):
        return f"model trained {(utc_now() - trained_at).days} days ago; kept"
    result = train(warehouse, progress=progress)
    return f"trained {result.run_id} ({result.attrition_kind})"


@task(name="train-if-due")
def train_if_due_task(warehouse: Path, retrain_after_days: int) -> str | Skipped:
    try:
        return train_if_due(warehouse, retrain_after_days, progress=get_run_logger().info)
    except TrainingSkipped as skipped:
        return Skipped("train", str(skipped))


@task(name="score-reps")
def score_task(warehouse: Path) -> ScoreResult | Skipped:
    try:
        result = score(warehouse, progress=get_run_logger().info)
    except ScoringSkipped as skipped:
        return Skipped("score", str(skipped))
    if not result.success:
        raise ScoreFailed(result)
    return result


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
    """Write the leadership report (HTML and PDF) from the marts."""
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    report = build_report_task(path, Path(out) if out else None)
    _report_artifact(report)
    return report


@flow(name="alerts")
def alerts_flow(warehouse: str | None = None, cap: int | None = None) -> DeliveryResult:
    """Record new HR alerts and deliver the due ones, failed ones included once their
    backoff has passed (at most `cap` a day; default $REPRADAR_ALERT_DAILY_CAP or 20)."""
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    result = send_alerts_task(path, cap)
    _alerts_artifact(result, "alerts-summary")
    return result


@flow(name="daily")
def daily_flow(
    source: str,
    warehouse: str | None = None,
    mapping: str | None = None,
    retrain_after_days: int = RETRAIN_AFTER_DAYS,
) -> DailyResult:
    """Ingest the day's exports, rebuild the marts, (re)train when due, score, alert.

    Each step runs only if the one before succeeded; a rejected load or a failed build
    fails the run and leaves the last good marts and scores in place. Training and
    scoring are skipped, and the run still succeeds, when the data holds nothing for them
    (no HR exports, no exits to learn from yet); the result says what was skipped and why.
    """
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    ingest_flow(source=source, warehouse=str(path), mapping=mapping)
    transform_flow(warehouse=str(path))
    notes = [f"partial data: {gap}" for gap in data_gaps(path)]
    trained = train_if_due_task(path, retrain_after_days)
    get_run_logger().info(str(trained))
    scored = score_task(path)
    notes += [str(step) for step in (trained, scored) if isinstance(step, Skipped)]
    result = send_alerts_task(path)
    _alerts_artifact(result, "daily-alerts", notes)
    return DailyResult(alerts=result, notes=notes)


@flow(name="weekly_report")
def weekly_report(warehouse: str | None = None, out: str | None = None) -> DeliveryResult:
    """Write the leadership report and deliver it to the leadership list (e-mail with the
    PDF attached, a chat message with the summary, or the file outbox)."""
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    report = build_report_task(path, Path(out) if out else None)
    _report_artifact(report)
    result = deliver_report_task(path, report)
    _alerts_artifact(result, "report-delivery")
    return result
