"""`repradar score`: risk for every rep of the latest month, and what would leave with them.

- ml.rep_attrition_scores: P(voluntary exit within 1, 3, 6 and 12 months); `probability`,
  the band and the change are at the horizon shown (the model run's), since the last
  scoring, and exposure = P(leave) x sum over the rep's accounts of P(lost | owner leaves)
  x trailing-12-month revenue.
- ml.rep_risk_drivers: the top 3 features raising each rep's risk, in plain words.
- ml.account_loss_scores: P(lost | owner leaves) for every live account.
- ml.feature_drift: PSI of each feature, the scoring month against the training window.
`score` computes them; `write_scores` writes them into a warehouse file. The caller
builds the risk marts over them (`pipelines.steps.score_and_build`: on a copy of the
warehouse that replaces it only if every dbt model and test passed), so the tables and
the marts land together.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from models_ml.card import with_drift_section
from models_ml.drift import DRIFT_COLUMNS, drift_markdown, feature_drift
from models_ml.drivers import describe, is_warning_sign
from models_ml.estimators import AccountLossModel
from models_ml.features import (
    ACCOUNT_FEATURES,
    FEATURES,
    HORIZONS,
    load_live_accounts,
    load_snapshots,
)
from models_ml.horizons import HorizonRiskModel, risk_column
from models_ml.store import load_model, model_files_problem
from models_ml.tables import append, table_exists
from models_ml.train import NO_HR_EMPLOYEES, protected_attributes, untrainable_reason
from pipelines.errors import RepradarError
from pipelines.partial_files import partial_path, remove_left_over_partials
from pipelines.warehouse import connect_for_writing, empty_raw_tables, new_run_id

Progress = Callable[[str], None]
TOP_DRIVERS = 3


class ScoringError(RepradarError):
    """Scoring cannot start (no trained model, its files missing, no snapshots)."""


class ScoringSkipped(Exception):
    """Nothing to score for lack of data (no HR employees, no model because training had
    nothing to learn from): the step is skipped, not failed; says why."""


@dataclass
class Scores:
    """One scoring: per rep, per driver, per account, per feature, and the `ml` tables
    they are written as (`write_scores`)."""

    score_run_id: str
    model_run_id: str
    month_end: dt.date
    reps: pd.DataFrame
    drivers: pd.DataFrame
    accounts: pd.DataFrame
    drift: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    card_path: Path  # the model card, whose drift section `record_drift` rewrites
    seconds: float

    def band_counts(self) -> dict[str, int]:
        counts = self.reps["band"].value_counts()
        return {band: int(counts.get(band, 0)) for band in ("High", "Medium", "Low")}


def _quiet(_: str) -> None:
    return None


def latest_model_run(warehouse: Path) -> pd.Series:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not table_exists(con, "model_runs"):
            raise ScoringError(f"{warehouse} has no trained model; run `repradar train` first")
        runs = con.execute("SELECT * FROM ml.model_runs ORDER BY trained_at DESC LIMIT 1").df()
    return runs.iloc[0]


def model_run_files(warehouse: Path, run: pd.Series) -> list[Path]:
    """The files a model run points at: both models and the model card."""
    return [
        warehouse.parent / run[column] for column in ("attrition_path", "account_path", "card_path")
    ]


def unusable_model_run(warehouse: Path, run: pd.Series) -> str | None:
    """Why the files of `run` cannot be scored with (one missing or incomplete), in
    words; None when they are all there."""
    problem = model_files_problem(model_run_files(warehouse, run))
    if problem is None:
        return None
    return f"the files of model run {run['model_run_id']} are not usable: {problem}"


def _model_run_or_skip(warehouse: Path) -> pd.Series:
    """The latest model run; a skip instead of "train first" when training itself has
    nothing to learn from."""
    try:
        return latest_model_run(warehouse)
    except ScoringError:
        reason = untrainable_reason(warehouse)
        if reason is None:
            raise
        raise ScoringSkipped(f"no trained model: {reason}") from None


def _no_snapshots(warehouse: Path) -> Exception:
    if "hr_employees" in empty_raw_tables(warehouse):
        return ScoringSkipped(f"no reps to score: {NO_HR_EMPLOYEES}")
    return ScoringError(f"{warehouse} has no rep-month snapshots; run `repradar transform`")


def previous_scores(warehouse: Path) -> pd.DataFrame:
    """Each rep's score from the last scoring run, if any."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not table_exists(con, "rep_attrition_scores"):
            return pd.DataFrame(columns=["employee_key", "previous_probability", "previous_band"])
        return con.execute(
            """SELECT employee_key, probability AS previous_probability, band AS previous_band
            FROM ml.rep_attrition_scores
            WHERE score_run_id = (SELECT score_run_id FROM ml.score_runs
                                  ORDER BY scored_at DESC LIMIT 1)"""
        ).df()


def band_of(probability: np.ndarray, medium: float, high: float) -> np.ndarray:
    """Low / Medium / High from the cut-offs stored with the model run."""
    return np.select([probability >= high, probability >= medium], ["High", "Medium"], "Low")


BAND_ORDER = {"Low": 0, "Medium": 1, "High": 2}


def band_change(previous: pd.Series, current: pd.Series) -> pd.Series:
    """new (no earlier score), up, down or same."""
    before = previous.map(BAND_ORDER)
    after = current.map(BAND_ORDER)
    change = np.select(
        [before.isna(), after > before, after < before], ["new", "up", "down"], "same"
    )
    return pd.Series(change, index=current.index)


def high_cut_offs(warehouse: Path, month: pd.DataFrame, run: pd.Series) -> np.ndarray | float:
    """The High cut-off of each rep of `month`: their group's when the model run was
    trained with a fairness mitigation (REPRADAR_FAIRNESS_MITIGATION), else the run's one
    cut-off. Groups come from restricted.dim_people and are used for nothing else."""
    attribute = run.get("fairness_mitigation")
    if attribute is None or pd.isna(attribute) or attribute == "none":
        return float(run["band_high"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cut_offs = con.execute(
            'SELECT "group", cut_off FROM ml.group_cut_offs WHERE run_id = ? AND attribute = ?',
            [run["model_run_id"], attribute],
        ).df()
    groups = protected_attributes(warehouse, month.reset_index(drop=True))[attribute].astype(str)
    by_group = dict(zip(cut_offs["group"], cut_offs["cut_off"], strict=True))
    return groups.map(by_group).fillna(float(run["band_high"])).to_numpy(dtype=float)


def score_reps(
    model: HorizonRiskModel,
    month: pd.DataFrame,
    run: pd.Series,
    previous: pd.DataFrame,
    high: np.ndarray | float | None = None,
) -> pd.DataFrame:
    """Risk at every horizon; `probability`, band and change at the horizon shown. `high`
    is the High cut-off of each rep (default: the run's one cut-off)."""
    risks = model.predict_risk(month[FEATURES])
    shown = int(run["horizon_months"])
    probability = risks[risk_column(shown)].to_numpy()
    scores = month[["employee_key", "team", "month_end"]].assign(
        probability=probability,
        band=band_of(probability, run["band_medium"], run["band_high"] if high is None else high),
        horizon_months=shown,
        **{f"probability_{m}m": risks[risk_column(m)].to_numpy() for m in HORIZONS},
    )
    scores = scores.merge(previous, on="employee_key", how="left").astype(
        {"previous_probability": "float64", "previous_band": "string"}
    )
    scores["probability_change"] = scores["probability"] - scores["previous_probability"]
    scores["band_change"] = band_change(scores["previous_band"], scores["band"])
    return scores


def risk_drivers(model: HorizonRiskModel, month: pd.DataFrame) -> pd.DataFrame:
    """The top features raising each rep's risk, in words: positive contributions whose
    value is on the worrying side of typical (see `drivers.WARNING_DIRECTION`)."""
    month = month.reset_index(drop=True)
    ranked = model.explain(month[FEATURES], top=len(FEATURES))
    warning = np.array(
        [
            is_warning_sign(feature, value, model.reference_[feature])
            for feature, value in zip(ranked["feature"], ranked["value"], strict=True)
        ],
        dtype=bool,
    )
    top = ranked[(ranked["contribution"] > 0) & warning].copy()
    top["rank"] = top.groupby("row").cumcount() + 1
    top = top[top["rank"] <= TOP_DRIVERS]
    return pd.DataFrame(
        {
            "employee_key": month.loc[top["row"], "employee_key"].to_numpy(),
            "month_end": month.loc[top["row"], "month_end"].to_numpy(),
            "rank": top["rank"].to_numpy(),
            "feature": top["feature"].to_numpy(),
            "value": pd.to_numeric(top["value"], errors="coerce").to_numpy(),
            "contribution": top["contribution"].to_numpy(),
            "driver": [
                describe(feature, month.loc[row])
                for feature, row in zip(top["feature"], top["row"], strict=True)
            ],
        }
    )


def score_accounts(
    model: AccountLossModel, accounts: pd.DataFrame, reps: pd.DataFrame
) -> pd.DataFrame:
    """P(lost | owner leaves) per live account, and its exposure given the owner's risk."""
    loss = model.predict_proba(accounts[ACCOUNT_FEATURES])[:, 1] if len(accounts) else np.empty(0)
    owner_risk = accounts["employee_key"].map(reps.set_index("employee_key")["probability"])
    revenue = accounts["revenue_12m"].fillna(0.0)
    return accounts[
        [
            "account_id",
            "employee_key",
            "team",
            "segment",
            "is_key_account",
            "is_single_threaded",
            "documentation_completeness",
            "revenue_12m",
        ]
    ].assign(
        is_key_account=accounts["is_key_account"].astype("boolean"),
        is_single_threaded=accounts["is_single_threaded"].astype("boolean"),
        loss_probability=loss,
        method=model.method_,
        revenue_lost_if_owner_leaves=loss * revenue,
        exposure=owner_risk.fillna(0.0) * loss * revenue,
    )


def add_exposure(reps: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """Per rep: accounts, book revenue, revenue lost if they leave, and revenue at risk."""
    books = accounts.groupby("employee_key").agg(
        accounts=("account_id", "size"),
        book_revenue_12m=("revenue_12m", "sum"),
        revenue_lost_if_leaves=("revenue_lost_if_owner_leaves", "sum"),
    )
    reps = reps.merge(books, on="employee_key", how="left")
    reps["accounts"] = reps["accounts"].fillna(0).astype("int64")
    reps[["book_revenue_12m", "revenue_lost_if_leaves"]] = reps[
        ["book_revenue_12m", "revenue_lost_if_leaves"]
    ].fillna(0.0)
    reps["revenue_at_risk"] = reps["probability"] * reps["revenue_lost_if_leaves"]
    return reps


def _dates(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.assign(**{column: pd.to_datetime(frame[column]).dt.date})


def write_scores(warehouse: Path, scores: Scores) -> None:
    """Append the scoring's `ml` tables to a warehouse file, in one transaction (the
    caller holds the writer lock, or writes into a copy of its own)."""
    con = connect_for_writing(warehouse)
    try:
        con.execute("BEGIN TRANSACTION")
        for name, frame in scores.tables.items():
            append(con, name, frame)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def record_drift(scores: Scores) -> str | None:
    """Rewrite the drift section of the scored model's card (once the scores landed).
    Returns a warning when the card cannot be rewritten (a full disk): the scores stand,
    and the card keeps its previous drift section."""
    card = scores.card_path
    if not card.exists():
        return None
    remove_left_over_partials(card.parent, card.name)
    updated = partial_path(card)
    text = with_drift_section(card.read_text(encoding="utf-8"), drift_markdown(scores.drift))
    try:
        updated.write_text(text, encoding="utf-8")
        updated.replace(card)
    except OSError as error:
        return f"warning: the drift section of {card} was not rewritten ({error})"
    finally:
        updated.unlink(missing_ok=True)
    return None


def score(warehouse: Path, *, progress: Progress = _quiet) -> Scores:
    """Score the latest month with the latest trained models (nothing is written)."""
    clock = time.perf_counter()
    run = _model_run_or_skip(warehouse)
    unusable = unusable_model_run(warehouse, run)
    if unusable is not None:
        raise ScoringError(f"{unusable}; run `repradar train` to train a new model")
    attrition = load_model(warehouse.parent / run["attrition_path"])
    if not isinstance(attrition, HorizonRiskModel):
        raise ScoringError(
            f"model run {run['model_run_id']} was trained by an earlier repradar (one horizon); "
            "run `repradar train` to train a new model"
        )
    account_model = load_model(warehouse.parent / run["account_path"])
    snapshots = load_snapshots(warehouse)
    if snapshots.empty:
        raise _no_snapshots(warehouse)
    month_end = snapshots["month_end"].max()
    month = snapshots[snapshots["month_end"] == month_end]
    progress(f"scoring {len(month)} reps as of {month_end:%Y-%m-%d} ...")
    high = high_cut_offs(warehouse, month, run)
    reps = score_reps(attrition, month, run, previous_scores(warehouse), high)
    drivers = risk_drivers(attrition, month)
    accounts = score_accounts(account_model, load_live_accounts(warehouse), reps)
    reps = add_exposure(reps, accounts)
    window = snapshots[
        (snapshots["month_end"] >= pd.Timestamp(run["train_from"]))
        & (snapshots["month_end"] <= pd.Timestamp(run["train_to"]))
    ]
    drift = (
        feature_drift(window[FEATURES], month[FEATURES], FEATURES)
        if len(window)
        else pd.DataFrame(columns=DRIFT_COLUMNS).astype({"drifted": bool})
    )
    score_run_id = new_run_id()
    scored_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    stamp = {"score_run_id": score_run_id}
    drifted = drift.loc[drift["drifted"], "feature"].tolist()
    tables = {
        "rep_attrition_scores": _dates(reps, "month_end").assign(
            model_run_id=run["model_run_id"], **stamp
        ),
        "rep_risk_drivers": _dates(drivers, "month_end").assign(**stamp),
        "account_loss_scores": accounts.assign(**stamp),
        "feature_drift": drift.assign(month_end=month_end.date(), **stamp),
        "score_runs": pd.DataFrame(
            [
                {
                    "score_run_id": score_run_id,
                    "model_run_id": run["model_run_id"],
                    "scored_month": month_end.date(),
                    "scored_at": scored_at,
                    "reps": len(reps),
                    "accounts": len(accounts),
                    "band_medium": float(run["band_medium"]),
                    "band_high": float(run["band_high"]),
                    "drifted_features": ",".join(drifted) or None,
                    "horizon_months": int(run["horizon_months"]),
                    "fairness_mitigation": run.get("fairness_mitigation") or "none",
                }
            ]
        ),
    }
    return Scores(
        score_run_id=score_run_id,
        model_run_id=str(run["model_run_id"]),
        month_end=month_end.date(),
        reps=reps,
        drivers=drivers,
        accounts=accounts,
        drift=drift,
        tables=tables,
        card_path=warehouse.parent / run["card_path"],
        seconds=time.perf_counter() - clock,
    )
