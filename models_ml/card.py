"""The model card: a markdown file stored next to the fitted models of a training run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from models_ml.backtest import TOP_K
from models_ml.estimators import PRIOR_LOSS_RATE
from models_ml.fairness import fairness_markdown
from models_ml.features import FEATURES
from models_ml.group_thresholds import mitigation_summary
from pipelines.safe_text import markdown

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


POOLED_COLUMNS = {
    "kind": "estimator",
    "horizon_months": "months",
    "rows": "rows",
    "positives": "exits",
    "roc_auc": "ROC AUC",
    "roc_auc_low": "AUC 95% low",
    "roc_auc_high": "AUC 95% high",
    "lift_top10": "lift top 10%",
    "lift_top10_low": "lift low",
    "lift_top10_high": "lift high",
    "calibration_error": "calibration error",
    "calibration_error_low": "error low",
    "calibration_error_high": "error high",
    "brier": "Brier",
    "brier_base_rate": "Brier (base rate)",
}


def _backtest_section(card: TrainResult) -> list[str]:
    backtest = card.backtest
    metrics = backtest.metrics
    pooled = metrics[metrics["origin"] == "pooled"].sort_values(["kind", "horizon_months"])
    per_origin = backtest.shown(metrics)
    per_origin = per_origin[per_origin["origin"] != "pooled"]
    calibration = backtest.calibration
    chosen = calibration[calibration["kind"] == card.attrition_kind]
    return [
        "## Backtest (rolling origin)",
        "",
        "Risk over 1, 3, 6 and 12 months comes from one monthly hazard model (a voluntary "
        "exit in the next month), each horizon calibrated on its own. Each origin trains on "
        "what was known at its first test month and tests on that month and the next two; "
        "each horizon is tested on the latest origins whose outcomes are complete for it, "
        "and `pooled` joins their test rows. The intervals resample reps. Brier (base rate) "
        "is the score of always forecasting the training exit rate: a useful model is below "
        "it. Lift = precision / the observed exit rate; calibration error = mean |predicted - "
        "observed| over score deciles.",
        "",
        markdown_table(pooled[list(POOLED_COLUMNS)].rename(columns=POOLED_COLUMNS)),
        "",
        f"Per origin, at the horizon shown ({card.horizon_months} months):",
        "",
        markdown_table(per_origin[list(METRIC_COLUMNS)].rename(columns=METRIC_COLUMNS)),
        "",
        f"Chosen: **{card.attrition_kind}** (best pooled ROC AUC at {card.horizon_months} "
        "months; logistic wins ties within 0.005).",
        "",
        "Calibration of the chosen estimator per horizon (pooled test rows, deciles of the score):",
        "",
        markdown_table(
            chosen[["horizon_months", "bin", "rows", "predicted", "observed"]].rename(
                columns={"horizon_months": "months"}
            )
        ),
    ]


def _uncertainty_lines(card: TrainResult) -> list[str]:
    lines = []
    if card.backtest.difference is not None:
        chosen, other, point, low, high = card.backtest.difference
        lines += [
            f"{chosen} against {other} on the same test rows: ROC AUC difference "
            f"{point:+.3f} (95% interval {low:+.3f} to {high:+.3f}).",
            "",
        ]
    if card.backtest.warning:
        lines += [f"**{card.backtest.warning}**", ""]
    return lines


def _after_verdict(explanation: str, verdict: str) -> str:
    """The explanation without the verdict it starts with (shown in bold before it)."""
    for prefix in (verdict, verdict.replace("follows exit rate", "follows the exit rate")):
        if explanation.startswith(prefix):
            return explanation[len(prefix) :]
    return f". {explanation}"


def _gaps_section(card: TrainResult) -> list[str]:
    """Whether each judged group's gap follows its exit rate, and what per-group cut-offs
    would do (measured out of sample) and whether they are on."""
    rates = card.fairness
    judged = rates[rates["verdict"].notna() & ~rates["verdict"].isin(["not judged"])]
    lines = [
        "### Do the gaps follow the groups' exit rates?",
        "",
        "A group selected less often than another is not treated unfairly when fewer of "
        "its people leave and the model catches the same share of its leavers and alerts "
        "the same share of its stayers (true- and false-positive rates within 0.10 of the "
        "reference group's). Otherwise the gap is the model's error.",
        "",
    ]
    lines += [
        f"- {row.attribute} {markdown(row.group)}: **{row.verdict}**"
        + markdown(_after_verdict(str(row.explanation), str(row.verdict)))
        for row in judged.itertuples()
    ] or ["- No group is large enough to judge."]
    lines += ["", "### Mitigation: a High cut-off per group", ""]
    if len(card.mitigation_effect):
        lines += [
            "Measured out of sample (cut-offs fitted on the earlier backtest origins, "
            "applied to the later ones): " + mitigation_summary(card.mitigation_effect),
            "",
        ]
    state = (
        f"**On** for {card.mitigation}: scoring bands each rep with their group's High "
        "cut-off (`REPRADAR_FAIRNESS_MITIGATION`); the group is read from the HR data and "
        "used for nothing else."
        if card.mitigation != "none"
        else "**Off** (`REPRADAR_FAIRNESS_MITIGATION=none`). Setting it to `gender` or "
        "`age_band` makes training fit these cut-offs and scoring use them. Using a protected "
        "attribute in a decision rule is itself regulated in some places: decide with HR "
        "and legal."
    )
    return [*lines, state]


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


def _horizons_section(card: TrainResult) -> list[str]:
    table = card.horizons.rename(
        columns={
            "horizon_months": "months",
            "training_rows": "rep-months known",
            "training_exits": "exits",
            "base_rate": "base rate",
            "band_medium": "Medium from",
            "band_high": "High from",
        }
    )
    return [
        "## Horizons",
        "",
        f"The risk shown in alerts, the report and `probability` is the {card.horizon_months}-"
        "month one (the dbt var `attrition_horizon_months`); the scores and the HR marts keep "
        "all four. Bands at each horizon would be 1.5x and 3x its base rate:",
        "",
        markdown_table(table, digits=4),
    ]


def render_model_card(card: TrainResult) -> str:
    headline = card.backtest.pooled()
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
        "after the month-end (and within 1, 6 and 12 months for the other horizons; the "
        "model itself learns the monthly hazard). "
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
        f"Pooled backtest of the chosen estimator ({int(headline['positives'])} exits in "
        f"{int(headline['rows']):,} test rep-months): ROC AUC {headline['roc_auc']:.3f} (95% "
        f"interval {headline['roc_auc_low']:.3f}-{headline['roc_auc_high']:.3f}); the top 10% "
        f"by risk hold {headline['lift_top10']:.1f}x the base rate of leavers "
        f"({headline['lift_top10_low']:.1f}-{headline['lift_top10_high']:.1f}x); calibration "
        f"error {headline['calibration_error']:.3f} ({headline['calibration_error_low']:.3f}-"
        f"{headline['calibration_error_high']:.3f}); Brier {headline['brier']:.4f} vs "
        f"{headline['brier_base_rate']:.4f} for the base rate. Intervals come from "
        "resampling reps (all their months together) 500 times.",
        "",
        *_uncertainty_lines(card),
        *_horizons_section(card),
        "",
        *_backtest_section(card),
        "",
        *_account_section(card),
        "",
        fairness_markdown(card.fairness, card.proxies),
        "",
        f"Rates are of the backtest's out-of-sample predictions at {card.horizon_months} "
        f"months; selected = probability >= the High cut-off ({card.band_high:.1%}).",
        "",
        *_gaps_section(card),
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
