"""The pipeline's steps, and the one function that runs them in order.

`run_steps` is the sequence: ingest -> transform -> train when due -> score (with the risk
marts) -> the leadership report (when asked) -> HR alerts. `repradar demo` runs it with
`Steps` (each step in this process); the `daily` flow runs it with the Prefect steps of
`pipelines.flows.operations` (each step a task or a subflow), so the two cannot drift.

A step whose input is rejected or whose build fails stops the sequence (`StepFailed`),
and every store keeps its last good state. A step with nothing to work on for lack of data
(no HR exports, no exits to learn from yet) is `Skipped`, with the reason, and the
sequence goes on.

Heavy libraries (dbt, scikit-learn, ReportLab, ...) are imported inside the steps that need
them, so importing this module costs nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.errors import RepradarError

if TYPE_CHECKING:
    from models_ml.score import Scores
    from models_ml.train import TrainResult
    from pipelines.alerts.channels import Channel
    from pipelines.alerts.run import DeliveryResult
    from pipelines.ingest.load import IngestResult
    from pipelines.report.build import ReportResult
    from pipelines.transform.build import TransformResult

Progress = Callable[[str], None]
RETRAIN_AFTER_DAYS = 30


def _quiet(_message: str) -> None:
    return None


@dataclass(frozen=True)
class Skipped:
    """A step that had nothing to work on for lack of data: a success, with the reason."""

    step: str
    reason: str

    def __str__(self) -> str:
        return f"{self.step} skipped: {self.reason}"


@dataclass(frozen=True)
class Kept:
    """Training was not due: the latest model is younger than the retraining age."""

    trained_days_ago: int

    def __str__(self) -> str:
        return f"model trained {self.trained_days_ago} days ago; kept"


@dataclass
class ScoreResult:
    """A scoring and the build of the risk marts over it: both landed, or neither."""

    scores: Scores
    build: TransformResult

    @property
    def success(self) -> bool:
        return self.build.success


class StepFailed(RepradarError):
    """A step rejected its input or failed its build; later steps did not run and every
    store keeps its last good state. Carries the step's result."""

    def __init__(self, step: str, result: Any, exit_code: int, reason: str) -> None:
        self.step = step
        self.result = result
        self.exit_code = exit_code
        self.reason = reason
        super().__init__(f"{step} failed: {reason}")

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        """Unpickled (a Prefect result read back) from its parts, not its message."""
        return (type(self), (self.step, self.result, self.exit_code, self.reason))


def step_note(outcome: object) -> str:
    """What a training step did, in words (the daily flow logs it)."""
    from models_ml.train import TrainResult

    if isinstance(outcome, TrainResult):
        return f"trained {outcome.run_id} ({outcome.attrition_kind})"
    return str(outcome)


def train_if_due(
    warehouse: Path, retrain_after_days: int, progress: Progress = _quiet
) -> TrainResult | Kept:
    """Train when no usable model exists (none trained, or the latest run's files are
    missing or incomplete) or the latest is older than `retrain_after_days`. Raises
    `TrainingSkipped` when there is nothing to learn from."""
    from models_ml.score import ScoringError, latest_model_run, unusable_model_run
    from models_ml.train import train

    try:
        run = latest_model_run(warehouse)
    except ScoringError:  # no model yet
        return train(warehouse, progress=progress)
    unusable = unusable_model_run(warehouse, run)
    if unusable is not None:
        progress(f"{unusable}; retraining")
        return train(warehouse, progress=progress)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    age = now - run["trained_at"].to_pydatetime()
    if age < dt.timedelta(days=retrain_after_days):
        return Kept(age.days)
    return train(warehouse, progress=progress)


def score_and_build(warehouse: Path, progress: Progress = _quiet) -> ScoreResult:
    """Score the latest month, then build the risk marts over the scores on a copy of the
    warehouse that replaces it only if every model and test passed; the model card's drift
    section is rewritten once they landed."""
    from models_ml.score import record_drift, score, write_scores
    from pipelines.transform.build import RISK_SCORES_TAG, build_duckdb

    scores = score(warehouse, progress=progress)
    progress("writing scores and building the risk marts ...")
    build = build_duckdb(
        warehouse,
        progress=progress,
        prepare=lambda copy: write_scores(copy, scores),
        select=[f"tag:{RISK_SCORES_TAG}"],
    )
    if build.success:
        warning = record_drift(scores)
        if warning is not None:
            progress(warning)
    return ScoreResult(scores=scores, build=build)


@dataclass
class PipelineRequest:
    """What one run of the sequence works on."""

    source: Path
    warehouse: Path
    mapping: str | None = None  # a mapping file, or a shipped mapping's name
    reports: Path | None = None  # validation reports; default reports/validation/ beside
    retrain_after_days: int = RETRAIN_AFTER_DAYS
    report: bool = False  # also write the leadership report
    channels: list[Channel] | None = None  # HR alert channels; None: as configured


@dataclass
class PipelineRun:
    """What each step of one run returned."""

    ingest: IngestResult
    transform: TransformResult
    train: TrainResult | Kept | Skipped
    score: ScoreResult | Skipped
    alerts: DeliveryResult
    report: ReportResult | None = None
    notes: list[str] = field(default_factory=list)  # what was left empty or skipped, why


class Steps:
    """Each step run in this process, reporting progress to `progress`."""

    def __init__(self, progress: Progress = _quiet) -> None:
        self.progress = progress

    def ingest(self, request: PipelineRequest) -> IngestResult:
        from pipelines.ingest import IngestRequest, ingest
        from pipelines.ingest.options import IngestOptions, read_mapping

        options = read_mapping(request.mapping) if request.mapping else IngestOptions()
        reports = request.reports or request.warehouse.parent / "reports" / "validation"
        return ingest(
            IngestRequest(
                source=request.source,
                warehouse=request.warehouse,
                reports=reports,
                options=options,
            ),
            progress=self.progress,
        )

    def transform(self, warehouse: Path) -> TransformResult:
        from pipelines.transform.build import build_duckdb

        return build_duckdb(warehouse, progress=self.progress)

    def train(self, warehouse: Path, retrain_after_days: int) -> TrainResult | Kept | Skipped:
        from models_ml.train import TrainingSkipped

        try:
            return train_if_due(warehouse, retrain_after_days, progress=self.progress)
        except TrainingSkipped as skipped:
            return Skipped("train", str(skipped))

    def score(self, warehouse: Path) -> ScoreResult | Skipped:
        from models_ml.score import ScoringSkipped

        try:
            return score_and_build(warehouse, progress=self.progress)
        except ScoringSkipped as skipped:
            return Skipped("score", str(skipped))

    def report(self, warehouse: Path) -> ReportResult:
        from pipelines.report.build import build_report

        return build_report(warehouse, progress=self.progress)

    def alerts(self, warehouse: Path, channels: list[Channel] | None) -> DeliveryResult:
        from pipelines.alerts.run import send_alerts

        return send_alerts(warehouse, channels=channels, progress=self.progress)


OnStep = Callable[[str, Any], None]


def _ignore(_step: str, _result: Any) -> None:
    return None


def run_steps(request: PipelineRequest, steps: Steps, on_step: OnStep = _ignore) -> PipelineRun:
    """Run every step in order; `on_step(name, result)` after each (the demo prints).

    Raises `StepFailed` when the load is rejected, the marts or the risk marts do not
    build: the steps after it do not run, and the warehouse keeps its last good state.
    """
    from pipelines.transform.gaps import data_gaps

    warehouse = request.warehouse
    loaded = steps.ingest(request)
    on_step("ingest", loaded)
    if loaded.rejections:
        reason = "; ".join(str(rejection) for rejection in loaded.rejections)
        raise StepFailed("ingest", loaded, loaded.exit_code, reason)
    built = steps.transform(warehouse)
    on_step("transform", built)
    if not built.success:
        raise StepFailed("transform", built, built.exit_code, "; ".join(built.problems()))
    gaps = data_gaps(warehouse)
    trained = steps.train(warehouse, request.retrain_after_days)
    on_step("train", trained)
    scored = steps.score(warehouse)
    on_step("score", scored)
    if isinstance(scored, ScoreResult) and not scored.success:
        problems = "; ".join(scored.build.problems()) or "risk mart build failed"
        raise StepFailed("score", scored, scored.build.exit_code, problems)
    report = steps.report(warehouse) if request.report else None
    if report is not None:
        on_step("report", report)
    alerts = steps.alerts(warehouse, request.channels)
    on_step("alerts", alerts)
    notes = [f"partial data: {gap}" for gap in gaps]
    notes += [str(step) for step in (trained, scored) if isinstance(step, Skipped)]
    return PipelineRun(
        ingest=loaded,
        transform=built,
        train=trained,
        score=scored,
        alerts=alerts,
        report=report,
        notes=notes,
    )
