"""`repradar train`: backtest, choose, fit, audit and store both models.

1. Rolling-origin backtest of every attrition estimator kind; the best pooled ROC AUC wins.
2. The chosen kind is fitted on every snapshot whose label window has fully passed.
3. Risk bands are set from the training base rate (Medium >= 1.5x, High >= 3x).
4. Fairness: selection and error rates by gender and age band on the backtest's
   out-of-sample predictions at the High cut-off; features that proxy a protected
   attribute.
5. The account-loss model is tested on the latest 30% of past handovers, then fitted on all.
6. Models (skops) and the model card go to `models/<run id>/` next to the warehouse,
   complete on disk before the metrics, fairness results and the run go to the `ml`
   schema, so a recorded run always has its files.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from models_ml.backtest import (
    BacktestResult,
    complete_months,
    horizon_origins,
    label_horizon_months,
    labelled,
    run_backtest,
    too_little_history,
)
from models_ml.card import render_model_card
from models_ml.estimators import AccountLossModel
from models_ml.fairness import age_band, explain_gaps, fairness_report, proxy_correlations
from models_ml.features import (
    ACCOUNT_FEATURES,
    ACCOUNT_LABEL,
    FEATURES,
    HORIZONS,
    LABEL,
    load_handovers,
    load_snapshots,
)
from models_ml.group_thresholds import group_thresholds, mitigation_effect
from models_ml.horizons import HorizonRiskModel, horizon_labels
from models_ml.metrics import score_metrics
from models_ml.store import model_bytes, remove_partial_directories, write_model_directory
from models_ml.tables import append
from pipelines.errors import RepradarError
from pipelines.settings import fairness_mitigation
from pipelines.warehouse import (
    checkpoint_committed,
    connect_for_writing,
    disk_full,
    empty_raw_tables,
    is_disk_full,
    new_run_id,
    refuse_if_writing,
    writer_lock,
)

NO_HR_EMPLOYEES = "no HR employees loaded; the attrition model needs hr_employees with terminations"

Progress = Callable[[str], None]
MEDIUM_BAND_FACTOR = 1.5
HIGH_BAND_FACTOR = 3.0
ACCOUNT_TEST_SHARE = 0.3
MODELS_DIRECTORY = "models"  # next to the warehouse file
# A group with fewer backtest rep-months than this (about 8 people over the 12 test months)
# is reported but not judged: its rates swing with one person.
FAIRNESS_MIN_GROUP_ROWS = 100
# Room a run's rows in the ml schema take in the write-ahead log and the file (a few
# thousand rows of metrics): what a full disk message says recording needs.
RECORD_ROOM = 4 * 1024 * 1024


class TrainingError(RepradarError):
    """Training cannot start or cannot learn (no marts, a model that will not fit)."""


class TrainingSkipped(Exception):
    """The data holds nothing to learn from yet (no HR employees, no reps, no exits with a
    full outcome, too little history): the step is skipped, not failed; says why."""


@dataclass
class TrainResult:
    run_id: str
    trained_at: dt.datetime
    warehouse: Path
    model_dir: Path
    train_from: dt.date
    train_to: dt.date
    training_rows: int
    training_exits: int
    base_rate: float
    backtest: BacktestResult
    attrition_kind: str
    band_medium: float
    band_high: float
    account_method: str
    account_metrics: dict[str, float]
    fairness: pd.DataFrame
    proxies: pd.DataFrame
    mitigation: str  # REPRADAR_FAIRNESS_MITIGATION at training: none, gender or age_band
    mitigation_effect: pd.DataFrame
    group_cut_offs: pd.DataFrame
    horizon_months: int
    horizons: pd.DataFrame  # per horizon: known rows, exits, base rate, band cut-offs
    seconds: float

    @property
    def card_path(self) -> Path:
        return self.model_dir / "model_card.md"


def _quiet(_: str) -> None:
    return None


def training_rows(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Labelled snapshots of the months whose whole label window has passed."""
    complete = set(complete_months(snapshots))
    rows = labelled(snapshots)
    return rows[rows["month_end"].isin(complete)]


def training_gap(warehouse: Path, snapshots: pd.DataFrame) -> str | None:
    """Why the attrition model cannot be trained on these snapshots, in words; None when
    it can. Checked before any fitting, so a skip costs nothing."""
    if snapshots.empty:
        if "hr_employees" in empty_raw_tables(warehouse):
            return NO_HR_EMPLOYEES
        return (
            "no rep-month snapshots; the attrition model needs HR employees who carry a "
            "quota or own deals"
        )
    horizon = label_horizon_months(snapshots)
    rows = training_rows(snapshots)
    if rows.empty or rows[LABEL].nunique() < 2:
        return (
            f"not enough outcomes to learn from yet: {len(rows):,} rep-months with a full "
            f"{horizon}-month outcome, {int(rows[LABEL].sum())} of them voluntary exits (the "
            "attrition model needs both exits and stays)"
        )
    if horizon not in HORIZONS:
        return (
            f"the dbt var attrition_horizon_months is {horizon}; the risk is computed for "
            f"{', '.join(map(str, HORIZONS))} months, so it must be one of them"
        )
    origins = horizon_origins(snapshots)[horizon]
    if not origins:
        return too_little_history(horizon)
    first_window = horizon_labels(snapshots[snapshots["month_end"] <= origins[0].train_to], (1,))
    if first_window[1].dropna().nunique() < 2:
        return (
            f"no voluntary exits up to {origins[0].train_to:%Y-%m} to train the first "
            "backtest window on; the attrition model needs more history"
        )
    return None


def untrainable_reason(warehouse: Path) -> str | None:
    """`training_gap` of the warehouse's snapshots; None when it has none to read."""
    try:
        snapshots = load_snapshots(warehouse)
    except duckdb.Error:
        return None
    return training_gap(warehouse, snapshots)


def protected_attributes(warehouse: Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Gender and age band per row, from restricted.dim_people (audit use only)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        people = con.execute(
            "SELECT employee_key, gender, birth_year FROM restricted.dim_people"
        ).df()
    joined = rows[["employee_key", "month_end"]].merge(people, on="employee_key", how="left")
    return pd.DataFrame(
        {
            "gender": joined["gender"].fillna("unknown").to_numpy(),
            "age_band": age_band(joined["birth_year"], joined["month_end"]).to_numpy(),
            "birth_year": joined["birth_year"].astype("float64").to_numpy(),
        }
    )


MITIGATION_ATTRIBUTES = ("gender", "age_band")


@dataclass
class FairnessAudit:
    """Group rates (with each gap's verdict), proxy features, the measured effect of
    per-group cut-offs for each attribute, and the cut-offs in force (empty unless the
    mitigation setting names an attribute)."""

    rates: pd.DataFrame
    proxies: pd.DataFrame
    mitigation_effect: pd.DataFrame
    thresholds: pd.DataFrame


def audit_fairness(
    warehouse: Path,
    backtest: BacktestResult,
    rows: pd.DataFrame,
    threshold: float,
    mitigation: str = "none",
) -> FairnessAudit:
    """Group rates of the chosen kind's out-of-sample predictions at the horizon shown,
    whether each gap follows the group's exit rate, proxy features, and per-group cut-offs
    measured out of sample: fitted on the earlier backtest origins, measured on the later
    ones."""
    predictions = backtest.shown(backtest.predictions)
    predictions = predictions[predictions["kind"] == backtest.chosen_kind].reset_index(drop=True)
    protected = protected_attributes(warehouse, predictions)
    y = predictions[LABEL].astype(int).to_numpy()
    scores = predictions["score"].to_numpy()
    rates = fairness_report(
        y,
        scores,
        protected[["gender", "age_band"]],
        threshold=threshold,
        min_group_size=FAIRNESS_MIN_GROUP_ROWS,
    )
    gaps = explain_gaps(rates)[["attribute", "group", "verdict", "explanation"]]
    rates = rates.merge(gaps, on=["attribute", "group"], how="left")
    origins = sorted(predictions["origin"].unique())
    earlier = predictions["origin"].isin(origins[: max(len(origins) // 2, 1)]).to_numpy()
    effects, in_force = [], []
    for attribute in MITIGATION_ATTRIBUTES:
        groups = protected[attribute].astype(str)
        fitted = group_thresholds(
            y[earlier],
            scores[earlier],
            groups[earlier].reset_index(drop=True),
            threshold=threshold,
            min_group_size=FAIRNESS_MIN_GROUP_ROWS // 2,
        )
        if (~earlier).any():
            effect = mitigation_effect(
                y[~earlier],
                scores[~earlier],
                groups[~earlier].reset_index(drop=True),
                threshold=threshold,
                min_group_size=FAIRNESS_MIN_GROUP_ROWS // 2,
                thresholds=fitted,
            )
            effects.append(effect.assign(attribute=attribute))
        if attribute == mitigation:
            every = group_thresholds(
                y, scores, groups, threshold=threshold, min_group_size=FAIRNESS_MIN_GROUP_ROWS
            )
            in_force.append(
                pd.DataFrame(
                    {"attribute": attribute, "group": list(every), "cut_off": list(every.values())}
                )
            )
    proxies = proxy_correlations(
        rows[FEATURES].reset_index(drop=True),
        protected_attributes(warehouse, rows)[["gender", "birth_year"]],
    )
    return FairnessAudit(
        rates=rates,
        proxies=proxies,
        mitigation_effect=pd.concat(effects, ignore_index=True) if effects else pd.DataFrame(),
        thresholds=(
            pd.concat(in_force, ignore_index=True)
            if in_force
            else pd.DataFrame(columns=["attribute", "group", "cut_off"])
        ),
    )


def horizon_table(labels: pd.DataFrame) -> pd.DataFrame:
    """Per horizon: the training rows whose outcome is known, the exits among them, the
    base rate, and the band cut-offs (1.5x and 3x the base rate)."""
    rows = []
    for months in labels.columns:
        known = labels[months].dropna().astype(int)
        rate = float(known.mean()) if len(known) else float("nan")
        rows.append(
            {
                "horizon_months": int(months),
                "training_rows": len(known),
                "training_exits": int(known.sum()),
                "base_rate": rate,
                "band_medium": MEDIUM_BAND_FACTOR * rate,
                "band_high": HIGH_BAND_FACTOR * rate,
            }
        )
    return pd.DataFrame(rows)


def train_account_model(handovers: pd.DataFrame) -> tuple[AccountLossModel, dict[str, float]]:
    """Test on the latest 30% of handovers (by departure), then fit on all of them."""
    metrics: dict[str, float] = {"handovers": len(handovers)}
    cut = int(len(handovers) * (1 - ACCOUNT_TEST_SHARE))
    train, test = handovers.iloc[:cut], handovers.iloc[cut:]
    if len(test) and test[ACCOUNT_LABEL].nunique() == 2:
        held_out = AccountLossModel(classes=(0, 1)).fit(
            train[ACCOUNT_FEATURES], train[ACCOUNT_LABEL]
        )
        scores = held_out.predict_proba(test[ACCOUNT_FEATURES])[:, 1]
        base_rate = float(train[ACCOUNT_LABEL].mean()) if len(train) else 0.15
        metrics.update(score_metrics(test[ACCOUNT_LABEL].to_numpy(), scores, base_rate=base_rate))
        metrics["held_out_method"] = held_out.method_
        metrics["mean_predicted"] = float(scores.mean())
    model = AccountLossModel(classes=(0, 1)).fit(
        handovers[ACCOUNT_FEATURES], handovers[ACCOUNT_LABEL]
    )
    return model, metrics


def _as_dates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def _record(warehouse: Path, result: TrainResult) -> None:
    run = result.run_id
    relative = f"{MODELS_DIRECTORY}/{run}/"  # to the warehouse's directory: it can move
    metrics = result.backtest.metrics.assign(
        run_id=run, model="attrition", chosen=lambda m: m["kind"] == result.attrition_kind
    )
    account = pd.DataFrame([result.account_metrics]).assign(
        run_id=run, model="account_loss", kind=result.account_method, origin="held-out", chosen=True
    )
    backtests = pd.concat([metrics, account], ignore_index=True)
    backtests = _as_dates(backtests, ["train_from", "train_to", "test_from", "test_to"])
    model_run = pd.DataFrame(
        [
            {
                "model_run_id": run,
                "trained_at": result.trained_at,
                "attrition_kind": result.attrition_kind,
                "attrition_path": relative + "attrition.skops",
                "account_method": result.account_method,
                "account_path": relative + "account_loss.skops",
                "card_path": relative + "model_card.md",
                "train_from": result.train_from,
                "train_to": result.train_to,
                "horizon_months": result.horizon_months,
                "training_rows": result.training_rows,
                "training_exits": result.training_exits,
                "base_rate": result.base_rate,
                "band_medium": result.band_medium,
                "band_high": result.band_high,
                "features": ",".join(FEATURES),
                **_difference_columns(result.backtest),
                "uncertainty_warning": result.backtest.warning,
                "fairness_mitigation": result.mitigation,
            }
        ]
    )
    con = connect_for_writing(warehouse)
    try:
        con.execute("BEGIN TRANSACTION")
        append(con, "backtests", backtests)
        append(
            con,
            "backtest_calibration",
            result.backtest.calibration.assign(run_id=run, model="attrition"),
        )
        append(con, "model_horizons", result.horizons.assign(run_id=run))
        append(con, "fairness", result.fairness.assign(run_id=run))
        append(con, "proxy_correlations", result.proxies.assign(run_id=run))
        if len(result.mitigation_effect):
            append(con, "fairness_mitigation", result.mitigation_effect.assign(run_id=run))
        if len(result.group_cut_offs):
            append(con, "group_cut_offs", result.group_cut_offs.assign(run_id=run))
        append(con, "model_runs", model_run)
        con.execute("COMMIT")
        checkpoint_committed(con)  # a full disk here leaves the run in the WAL: it stands
    finally:
        con.close()


def _difference_columns(backtest: BacktestResult) -> dict[str, float | None]:
    if backtest.difference is None:
        return {"auc_difference": None, "auc_difference_low": None, "auc_difference_high": None}
    _, _, point, low, high = backtest.difference
    return {"auc_difference": point, "auc_difference_low": low, "auc_difference_high": high}


def _record_or_remove(warehouse: Path, result: TrainResult) -> None:
    """Record the run whose directory is in place; remove the directory when it cannot
    be recorded, so a failed training leaves neither a run nor a model behind."""
    try:
        _record(warehouse, result)
    except BaseException as error:
        shutil.rmtree(result.model_dir, ignore_errors=True)
        if is_disk_full(error):
            raise disk_full(
                warehouse.parent, RECORD_ROOM, f"recording training run {result.run_id}"
            ) from error
        raise


def train(
    warehouse: Path,
    *,
    random_state: int = 0,
    progress: Progress = _quiet,
) -> TrainResult:
    """Backtest, fit and audit both models on `warehouse`, store them, record the run."""
    clock = time.perf_counter()
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    mitigation = fairness_mitigation()
    refuse_if_writing(warehouse)
    try:
        snapshots = load_snapshots(warehouse)
        handovers = load_handovers(warehouse)
    except duckdb.Error as error:
        raise TrainingError(
            f"{warehouse} has no model tables ({str(error).splitlines()[0]}); run "
            "`repradar transform` first"
        ) from error
    gap = training_gap(warehouse, snapshots)
    if gap is not None:
        raise TrainingSkipped(gap)
    rows = training_rows(snapshots)
    horizon = label_horizon_months(snapshots)
    progress(f"backtesting on {len(rows):,} rep-months ({int(rows[LABEL].sum())} exits) ...")
    try:
        backtest = run_backtest(snapshots, horizon_months=horizon, random_state=random_state)
    except ValueError as error:
        raise TrainingError(str(error)) from error
    kind = backtest.chosen_kind
    progress(
        f"fitting the {kind} hazard model (risk over {', '.join(map(str, HORIZONS))} months) ..."
    )
    ordered = snapshots.sort_values(["month_end", "employee_key"], kind="stable")
    ordered = ordered.reset_index(drop=True)
    labels = horizon_labels(ordered)
    attrition = HorizonRiskModel(kind=kind, shown_months=horizon, random_state=random_state)
    attrition.fit(
        ordered[FEATURES], labels, groups=ordered["employee_key"], periods=ordered["month_end"]
    )
    horizons = horizon_table(labels)
    shown = horizons.set_index("horizon_months").loc[horizon]
    base_rate = float(shown["base_rate"])
    band_medium, band_high = float(shown["band_medium"]), float(shown["band_high"])
    progress("auditing fairness ...")
    audit = audit_fairness(warehouse, backtest, rows, band_high, mitigation)
    progress(f"fitting the account-loss model on {len(handovers):,} past handovers ...")
    account_model, account_metrics = train_account_model(handovers)
    run_id = new_run_id()
    model_dir = warehouse.parent / MODELS_DIRECTORY / run_id
    result = TrainResult(
        run_id=run_id,
        trained_at=started,
        warehouse=warehouse,
        model_dir=model_dir,
        train_from=rows["month_end"].min().date(),
        train_to=rows["month_end"].max().date(),
        training_rows=len(rows),
        training_exits=int(rows[LABEL].sum()),
        base_rate=base_rate,
        backtest=backtest,
        attrition_kind=kind,
        band_medium=band_medium,
        band_high=band_high,
        account_method=account_model.method_,
        account_metrics=account_metrics,
        fairness=audit.rates,
        proxies=audit.proxies,
        mitigation=mitigation,
        mitigation_effect=audit.mitigation_effect,
        group_cut_offs=audit.thresholds,
        horizon_months=horizon,
        horizons=horizons,
        seconds=0.0,
    )
    files = {
        "attrition.skops": model_bytes(attrition),
        "account_loss.skops": model_bytes(account_model),
        "model_card.md": render_model_card(result).encode("utf-8"),
    }
    with writer_lock(warehouse):
        remove_partial_directories(model_dir.parent)
        write_model_directory(model_dir, files)
        _record_or_remove(warehouse, result)
    result.seconds = time.perf_counter() - clock
    progress(f"stored models and model card in {model_dir}")
    return result
