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
    lines = []
    pooled = result.backtest.metrics[result.backtest.metrics["origin"] == "pooled"]
    origins = result.backtest.metrics["origin"].nunique() - 1
    for row in pooled.itertuples():
        mark = "*" if row.kind == result.attrition_kind else " "
        lines.append(
            f"{mark} {row.kind:<17} ROC AUC {row.roc_auc:.3f}  avg precision "
            f"{row.average_precision:.3f}  Brier {row.brier:.4f} (base rate "
            f"{row.brier_base_rate:.4f})  top 10%: {row.precision_top10:.0%} leave, "
            f"{row.lift_top10:.1f}x base"
        )
    lines.append(
        f"  ({origins} rolling origins, {int(pooled['rows'].iloc[0]):,} test rep-months; "
        f"* = chosen)"
    )
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
        f"expected exits in 3 months {result.reps['probability'].sum():.1f}; revenue at risk "
        f"{result.reps['revenue_at_risk'].sum():,.0f} over {len(result.accounts):,} accounts",
    ]
    drifted = result.drift.loc[result.drift["drifted"], "feature"].tolist()
    lines.append(
        f"drift: {', '.join(drifted)} (PSI >= 0.25; retrain or check the data)"
        if drifted
        else "drift: no feature has drifted from the training window (PSI < 0.25)"
    )
    return lines
