"""The model card: a markdown file stored next to the fitted models of a training run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from models_ml.backtest import TOP_K
from models_ml.estimators import PRIOR_LOSS_RATE
from models_ml.fairness import fairness_markdown
from models_ml.features import FEATURES

if TYPE_CHECKING:
    from models_ml.train import TrainResult

DRIFT_MARKER = "## Drift at the last scoring"
METRIC_COLUMNS = {
    "kind": "estimator",
    "origin": "test from",
    "rows": "rows",
    "positives": "exits",
    "roc_auc": "ROC AUC",
    "average_precision": "avg precision",
    "brier": "Brier",
    "brier_base_rate": "Brier (base rate)",
    "precision_top10": "precision top 10%",
    "lift_top10": "lift top 10%",
    "precision_top_k": f"precision top {TOP_K}/month",
}


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured markdown table (no extra dependency)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.{digits}f}"
        return str(value)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([header, rule, *body])


def _backtest_section(card: TrainResult) -> list[str]:
    metrics = card.backtest.metrics[list(METRIC_COLUMNS)].rename(columns=METRIC_COLUMNS)
    calibration = card.backtest.calibration
    chosen = calibration[calibration["kind"] == card.attrition_kind]
    return [
        "## Backtest (rolling origin)",
        "",
        "Each origin trains on the snapshots whose outcome was known at the origin "
        "and tests on the next 3 months; `pooled` joins every origin's test rows. Brier "
        "(base rate) is the score of always forecasting the training exit rate: a useful "
        "model is below it. Lift = precision / the observed exit rate.",
        "",
        markdown_table(metrics),
        "",
        f"Chosen: **{card.attrition_kind}** (best pooled ROC AUC; logistic wins ties "
        "within 0.005).",
        "",
        "Calibration of the chosen estimator (pooled test rows, deciles of the score):",
        "",
        markdown_table(chosen[["bin", "rows", "predicted", "observed"]]),
    ]


def _account_section(card: TrainResult) -> list[str]:
    m = card.account_metrics
    lines = [
        "## Account-loss model",
        "",
        f"P(an account is lost within 12 months of its owner leaving), from "
        f"{int(m['handovers']):,} past handovers with a final outcome. Method used: "
        f"**{card.account_method}**.",
    ]
    if card.account_method == "prior":
        lines += [
            "",
            f"Too few past handovers to learn from, so the documented prior is used: "
            f"{PRIOR_LOSS_RATE:.0%} (Shi et al. 2017) x 1.5 single-threaded / x 0.6 not, x "
            "1.3 (nothing documented) to 0.7 (all documented).",
        ]
    if "roc_auc" in m:
        lines += [
            "",
            f"Held out (latest 30% of handovers, {int(m['rows'])} accounts, "
            f"{int(m['positives'])} lost): ROC AUC {m['roc_auc']:.3f}, Brier {m['brier']:.3f} "
            f"vs {m['brier_base_rate']:.3f} for the base rate, mean predicted "
            f"{m['mean_predicted']:.1%} vs observed {m['observed_rate']:.1%}.",
        ]
    return lines


def render_model_card(card: TrainResult) -> str:
    pooled = card.backtest.metrics
    pooled = pooled[(pooled["origin"] == "pooled") & (pooled["kind"] == card.attrition_kind)]
    headline = pooled.iloc[0]
    lines = [
        f"# Model card: repradar attrition risk, run {card.run_id}",
        "",
        f"Trained {card.trained_at:%Y-%m-%d %H:%M} UTC.",
        "",
        "## Intended use",
        "",
        "Decision support for HR partners and sales managers: who to talk to first, about "
        "what, and which accounts to protect. **Scores are not decisions**: no one is "
        "rewarded, penalised or managed out because of a score; a person reviews every alert "
        "and records what they did.",
        "",
        "## Data",
        "",
        f"- Rep-month snapshots from {card.train_from:%Y-%m} to "
        f"{card.train_to:%Y-%m}: {card.training_rows:,} rows, {card.training_exits} "
        f"voluntary exits within {card.horizon_months} months (base rate "
        f"{card.base_rate:.1%}).",
        f"- Label: left voluntarily within the {card.horizon_months} whole calendar months "
        "after the month-end. "
        "Involuntary exits and months whose outcome is not yet known are censored (left out), "
        "not counted as stays.",
        "- Features (point in time, as of each month-end): " + ", ".join(FEATURES) + ".",
        "- Never features: gender, birth year or age, names, e-mails, team names.",
        "",
        "## Risk bands",
        "",
        f"Low < {card.band_medium:.1%} <= Medium < {card.band_high:.1%} <= High (1.5x and 3x "
        f"the training base rate of a {card.horizon_months}-month exit).",
        "",
        "## Headline",
        "",
        f"Pooled backtest of the chosen estimator: ROC AUC {headline['roc_auc']:.3f}; the "
        f"top 10% by risk hold {headline['lift_top10']:.1f}x the base rate of leavers; Brier "
        f"{headline['brier']:.4f} vs {headline['brier_base_rate']:.4f} for the base rate.",
        "",
        *_backtest_section(card),
        "",
        *_account_section(card),
        "",
        fairness_markdown(card.fairness, card.proxies),
        "",
        f"Rates are of the backtest's out-of-sample predictions; selected = probability >= "
        f"the High cut-off ({card.band_high:.1%}).",
        "",
        "## Limits",
        "",
        "- A few hundred exits: per-origin metrics move a lot; read the pooled row.",
        "- The model learns from this company's past; a reorganisation, a new pay policy or a "
        "market shock changes what drives exits. Check the drift section and retrain monthly.",
        "- Survey answers are missing for some reps; missing values are imputed and flagged.",
        "- Exits for reasons the data cannot see (relocation, family) are not predictable.",
        "",
        DRIFT_MARKER,
        "",
        "Not scored yet.",
        "",
    ]
    return "\n".join(lines)


def with_drift_section(card_text: str, drift_markdown: str) -> str:
    """The card with its drift section replaced by the latest scoring's."""
    head = card_text.split(DRIFT_MARKER)[0]
    return f"{head}{DRIFT_MARKER}\n\n{drift_markdown.strip()}\n"
