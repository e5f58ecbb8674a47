"""What `repradar train`, `repradar score`, their flows and the demo print: aggregates only,
never a name."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from models_ml.score import Scores
from models_ml.train import TrainResult

RISK_BY_TEAM_COLUMNS = ["team", "reps", "high_risk_reps", "expected_exits_3m", "revenue_at_risk"]


def backtest_lines(result: TrainResult) -> list[str]:
    """One line per estimator kind (pooled backtest), then the choice and the account model."""
    backtest = result.backtest
    lines = [f"risk of leaving within {result.horizon_months} months (the horizon shown):"]
    shown = backtest.shown(backtest.metrics)
    pooled = shown[shown["origin"] == "pooled"]
    origins = shown["origin"].nunique() - 1
    for row in pooled.itertuples():
        mark = "*" if row.kind == result.attrition_kind else " "
        lines.append(
            f"{mark} {row.kind:<17} ROC AUC {row.roc_auc:.3f} ({row.roc_auc_low:.3f}-"
            f"{row.roc_auc_high:.3f})  avg precision {row.average_precision:.3f}  Brier "
            f"{row.brier:.4f} (base rate {row.brier_base_rate:.4f})  top 10%: "
            f"{row.precision_top10:.0%} leave, {row.lift_top10:.1f}x base "
            f"({row.lift_top10_low:.1f}-{row.lift_top10_high:.1f}x)  calibration error "
            f"{row.calibration_error:.3f} ({row.calibration_error_low:.3f}-"
            f"{row.calibration_error_high:.3f})"
        )
    lines.append(
        f"  ({origins} rolling origins, {int(pooled['rows'].iloc[0]):,} test rep-months, "
        f"{int(pooled['positives'].iloc[0])} exits; 95% intervals by resampling reps; "
        "* = chosen)"
    )
    everything = backtest.metrics
    chosen = everything[
        (everything["origin"] == "pooled") & (everything["kind"] == result.attrition_kind)
    ].sort_values("horizon_months")
    lines.append(
        f"{result.attrition_kind} at every horizon (one hazard model): "
        + "; ".join(
            f"{int(row.horizon_months)} month{'s' if row.horizon_months > 1 else ''} AUC "
            f"{row.roc_auc:.3f} ({row.roc_auc_low:.3f}-"
            f"{row.roc_auc_high:.3f}), calibration error {row.calibration_error:.3f}"
            for row in chosen.itertuples()
        )
    )
    if result.backtest.difference is not None:
        chosen, other, point, low, high = result.backtest.difference
        lines.append(
            f"  {chosen} - {other}: ROC AUC {point:+.3f} (95% interval {low:+.3f} to {high:+.3f})"
        )
    if result.backtest.warning:
        lines.append(f"WARNING: {result.backtest.warning}")
    account = result.account_metrics
    if "roc_auc" in account:
        lines.append(
            f"account loss ({result.account_method}): held-out ROC AUC "
            f"{account['roc_auc']:.3f} on {int(account['rows'])} handovers; mean predicted "
            f"{account['mean_predicted']:.1%} vs observed {account['observed_rate']:.1%}"
        )
    else:
        lines.append(f"account loss: {result.account_method} (too few handovers to test)")
    flagged = result.fairness[result.fairness["flagged"]]
    proxies = result.proxies[result.proxies["flagged"]]
    lines.append(
        f"fairness: {len(flagged)} group(s) below 0.8 of the highest selection rate, "
        f"{len(proxies)} proxy feature(s); see the model card"
    )
    return lines


def risk_by_team(warehouse: Path, limit: int = 8) -> pd.DataFrame:
    """The teams with the most revenue at risk (suppressed teams last), then the total."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute(
            """SELECT team, reps, high_risk_reps, expected_exits_3m, revenue_at_risk,
                is_company_total
            FROM marts.mart_risk_by_team
            ORDER BY is_company_total, revenue_at_risk DESC NULLS LAST, team"""
        ).df()
    teams = frame[~frame["is_company_total"]].head(limit)
    total = frame[frame["is_company_total"]]
    return pd.concat([teams, total], ignore_index=True)[RISK_BY_TEAM_COLUMNS]


def format_risk_by_team(frame: pd.DataFrame) -> list[str]:
    def cell(value: object, column: str) -> str:
        if pd.isna(value):
            return "(suppressed)" if column == "reps" else "-"
        if column == "expected_exits_3m":
            return f"{value:.1f}"
        if column == "revenue_at_risk":
            return f"{value:,.0f}"
        return str(value)

    header = f"{'team':<22}{'reps':>15}{'high risk':>11}{'exp. exits':>12}{'revenue at risk':>17}"
    lines = [header]
    for row in frame.itertuples(index=False):
        values = row._asdict()
        lines.append(
            f"{str(values['team'])[:21]:<22}{cell(values['reps'], 'reps'):>15}"
            f"{cell(values['high_risk_reps'], 'high'):>11}"
            f"{cell(values['expected_exits_3m'], 'expected_exits_3m'):>12}"
            f"{cell(values['revenue_at_risk'], 'revenue_at_risk'):>17}"
        )
    return lines


def score_lines(result: Scores) -> list[str]:
    bands = result.band_counts()
    lines = [
        f"scored {len(result.reps)} reps as of {result.month_end:%Y-%m-%d}: "
        f"{bands['High']} High, {bands['Medium']} Medium, {bands['Low']} Low "
        f"(run {result.score_run_id}, model {result.model_run_id})",
        f"expected exits in {_shown_horizon(result)} months "
        f"{result.reps['probability'].sum():.1f}; in 12 months "
        f"{result.reps['probability_12m'].sum():.1f}; revenue at risk "
        f"{result.reps['revenue_at_risk'].sum():,.0f} over {len(result.accounts):,} accounts",
    ]
    drifted = result.drift.loc[result.drift["drifted"], "feature"].tolist()
    lines.append(
        f"drift: {', '.join(drifted)} (PSI >= 0.25; retrain or check the data)"
        if drifted
        else "drift: no feature has drifted from the training window (PSI < 0.25)"
    )
    return lines


def _shown_horizon(result: Scores) -> int:
    """The horizon the scores' `probability` is for (3 months when no rep was scored)."""
    return int(result.reps["horizon_months"].iloc[0]) if len(result.reps) else 3
