"""`repradar train` and `repradar score`: the attrition and account-loss models."""

from __future__ import annotations

import typer

from pipelines.cli.common import PrefectOption, WarehouseOption, errors_exit, flow_result, say
from pipelines.cli.output import print_scores, print_training, print_transform


def train_command(warehouse: WarehouseOption = None, prefect: PrefectOption = False) -> None:
    """Train the attrition-risk and account-loss models from the marts.

    Runs a rolling-origin backtest of a regularised logistic regression and gradient
    boosting, keeps the better one (pooled ROC AUC), calibrates it, audits fairness by
    gender and age band, and stores the models (skops) and a model card under models/
    next to the warehouse. Metrics go to ml.backtests. With nothing to learn from yet (no
    HR exports, no voluntary exits with a full outcome, too little history) training is
    skipped: it says why and exits 0.
    """
    from models_ml.train import TrainingSkipped, train
    from pipelines.steps import Skipped
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    try:
        with errors_exit():
            if prefect:
                from pipelines.flows.models import train_flow

                result = train_flow(warehouse=str(path))  # a failed run re-raises its error
                if isinstance(result, Skipped):
                    typer.echo(str(result))
                    return
            else:
                result = train(path, progress=say)
    except TrainingSkipped as skipped:  # nothing to learn from: not a failure
        typer.echo(f"train skipped: {skipped}")
        return
    print_training(result)


def score_command(warehouse: WarehouseOption = None, prefect: PrefectOption = False) -> None:
    """Score every rep of the latest month with the latest trained models.

    Writes ml.rep_attrition_scores (probability, band, change), ml.rep_risk_drivers (top
    drivers in words), ml.account_loss_scores and ml.feature_drift, and builds the risk
    marts (marts.mart_risk_by_team; restricted.mart_rep_risk and mart_handover_worklist)
    on a copy of the warehouse that replaces it only if every model and test passed.
    Without HR exports, or without a model because training had nothing to learn from,
    scoring is skipped: it says why and exits 0.
    """
    from pipelines.steps import Skipped, Steps
    from pipelines.warehouse import resolve_warehouse

    path = resolve_warehouse(warehouse)
    with errors_exit():
        if prefect:
            from pipelines.flows.models import ScoreFailed, score_flow

            state = score_flow(warehouse=str(path), return_state=True)
            result = flow_result(state, ScoreFailed)
        else:
            result = Steps(say).score(path)
    if isinstance(result, Skipped):  # nothing to score: not a failure
        typer.echo(str(result))
        return
    if not result.success:
        print_transform(result.build)
        raise typer.Exit(result.build.exit_code)
    print_scores(result.scores, path)
