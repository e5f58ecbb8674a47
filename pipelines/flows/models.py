"""Prefect flows `train` and `score`, each publishing a markdown artifact (aggregates only).

A failed risk-mart build fails the `score` run (`ScoreFailed`, carrying the result); the
warehouse keeps the previous scores and marts. A step with nothing to work on for lack of
data (no HR exports, no exits to learn from yet) completes and returns `Skipped`.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from models_ml.summary import backtest_lines, format_risk_by_team, risk_by_team, score_lines
from models_ml.train import TrainingSkipped, TrainResult, train
from pipelines.file_modes import keep_files_private
from pipelines.steps import ScoreResult, Skipped, Steps
from pipelines.warehouse import resolve_warehouse


class ScoreFailed(Exception):
    """Scores were computed but the risk marts did not build; nothing was written."""

    def __init__(self, result: ScoreResult) -> None:
        self.result = result
        super().__init__("; ".join(result.build.problems()) or "risk mart build failed")

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        """Unpickled (a Prefect result read back) from its result, not its message."""
        return (type(self), (self.result,))


def skipped_artifact(key: str, skipped: Skipped) -> None:
    """Log the skip and publish it as the step's artifact (the reason names no one)."""
    get_run_logger().info(str(skipped))
    create_markdown_artifact(key=key, markdown=f"# {skipped}", description=str(skipped))


@task(name="train-models")
def train_task(warehouse: Path) -> TrainResult | Skipped:
    try:
        return train(warehouse, progress=get_run_logger().info)
    except TrainingSkipped as skipped:
        return Skipped("train", str(skipped))


@task(name="score-reps")
def score_task(warehouse: Path) -> ScoreResult | Skipped:
    return Steps(get_run_logger().info).score(warehouse)


@flow(name="train")
def train_flow(warehouse: str | None = None) -> TrainResult | Skipped:
    """Backtest, choose, fit and audit the attrition and account-loss models."""
    keep_files_private()
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    result = train_task(path)
    if isinstance(result, Skipped):
        skipped_artifact("train-summary", result)
        return result
    create_markdown_artifact(
        key="train-summary",
        markdown="\n".join(
            [
                f"# train {result.run_id}: {result.attrition_kind}",
                "",
                "```",
                *backtest_lines(result),
                "```",
                "",
                f"Model card: `{result.card_path}`",
            ]
        ),
        description=f"train {result.run_id}",
    )
    return result


def _score_markdown(result: ScoreResult, warehouse: Path) -> str:
    scores = result.scores
    lines = [f"# score {scores.score_run_id}: {'success' if result.success else 'FAILED'}", ""]
    lines += [f"- {line}" for line in score_lines(scores)]
    if result.success:
        lines += ["", "```", *format_risk_by_team(risk_by_team(warehouse)), "```"]
    return "\n".join(lines)


@flow(name="score")
def score_flow(warehouse: str | None = None) -> ScoreResult | Skipped:
    """Score the latest month and build the risk marts."""
    keep_files_private()
    path = resolve_warehouse(Path(warehouse) if warehouse else None)
    result = score_task(path)
    if isinstance(result, Skipped):
        skipped_artifact("score-summary", result)
        return result
    create_markdown_artifact(
        key="score-summary",
        markdown=_score_markdown(result, path),
        description=f"score {result.scores.score_run_id}",
    )
    if not result.success:
        raise ScoreFailed(result)
    return result
