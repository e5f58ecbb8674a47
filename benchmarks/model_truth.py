"""The attrition model against the generator's truth and a plain baseline (issue #19).

For each size (reps) and seed: generate a company (36 months, as of 2026-10-31), ingest
and transform it through the real CLI, run the backtest (`run_backtest`, every horizon,
the kind chosen as `repradar train` chooses it) and compare, on the same test rows:

- the chosen model's pooled ROC AUC at the horizon shown (3 months), with its 95%
  interval (reps resampled);
- the generator's own monthly exit hazard on those rows (`_truth/rep_months.csv`): the
  AUC of the truth itself, the reference the model should come within 5% of;
- a plain logistic regression (one-hot + scaling, C=1) trained the old way, directly on
  the 3-month label known at each origin, tested on the same rows, and the paired
  bootstrap interval of the difference.

Also the pooled AUC and calibration error of each horizon (1, 3, 6, 12 months).
Run: .venv/bin/python benchmarks/model_truth.py [--seeds 1 2 3 4 5] [--reps 150 1000]
Prints markdown tables for benchmarks/README.md; exits 1 if the average ratio to the true
hazard's AUC is below 0.95 or the model is below the baseline by more than the interval.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import say  # noqa: E402
from benchmarks.model_quality import build_company, employee_ids  # noqa: E402
from models_ml.backtest import run_backtest  # noqa: E402
from models_ml.card import markdown_table  # noqa: E402
from models_ml.features import FEATURES, LABEL, horizon_label, load_snapshots  # noqa: E402
from models_ml.public_tables import baseline_logistic  # noqa: E402
from models_ml.uncertainty import paired_auc_difference  # noqa: E402

SHOWN = 3


def baseline_scores(snapshots: pd.DataFrame, tested: pd.DataFrame) -> pd.Series:
    """The plain logistic regression's score of each tested row: for each origin, trained
    on the rows whose 3-month outcome was known at the first test month."""
    rows = snapshots.assign(label=horizon_label(snapshots, SHOWN))
    scores = []
    for _, part in tested.groupby("origin"):
        test_from = part["month_end"].min()
        known = rows[
            rows["label"].notna() & (rows["month_end"] + pd.offsets.MonthEnd(SHOWN) <= test_from)
        ]
        model = baseline_logistic().fit(known[FEATURES], known["label"].astype(int))
        test = rows.set_index("snapshot_id").loc[part["snapshot_id"], FEATURES]
        scores.append(pd.Series(model.predict_proba(test)[:, 1], index=part.index))
    return pd.concat(scores).reindex(tested.index)


def measure(seed: int, reps: int, months: int) -> tuple[dict, list[dict]]:
    with tempfile.TemporaryDirectory(prefix=f"repradar-bench-truth-{seed}-") as tmp:
        work = Path(tmp)
        warehouse = build_company(seed, reps, months, work)
        snapshots = load_snapshots(warehouse)
        say(f"seed {seed}, {reps} reps: backtest ...")
        started = time.perf_counter()
        result = run_backtest(snapshots, horizon_months=SHOWN)
        seconds = time.perf_counter() - started
        tested = result.shown(result.predictions)
        tested = tested[tested["kind"] == result.chosen_kind].reset_index(drop=True)
        truth = pd.read_csv(
            work / "exports" / "_truth" / "rep_months.csv", parse_dates=["month_end"]
        )
        joined = tested.merge(employee_ids(warehouse), on="employee_key").merge(
            truth[["employee_id", "month_end", "monthly_exit_hazard"]],
            on=["employee_id", "month_end"],
            how="left",
        )
        if joined["monthly_exit_hazard"].isna().any():
            raise SystemExit(f"seed {seed}: test rows without a true hazard")
        y = joined[LABEL].astype(int).to_numpy()
        baseline = baseline_scores(snapshots, tested)
        difference = paired_auc_difference(y, joined["score"], baseline, joined["employee_key"])
        pooled = result.pooled()
        true_auc = roc_auc_score(y, joined["monthly_exit_hazard"])
        row = {
            "reps": reps,
            "seed": seed,
            "chosen": result.chosen_kind,
            "test rep-months": len(y),
            "exits": int(y.sum()),
            "model AUC": pooled["roc_auc"],
            "95% interval": f"{pooled['roc_auc_low']:.3f}-{pooled['roc_auc_high']:.3f}",
            "true hazard AUC": true_auc,
            "ratio": pooled["roc_auc"] / true_auc,
            "baseline AUC": roc_auc_score(y, baseline),
            "model - baseline": difference[0],
            "difference interval": f"{difference[1]:+.3f} to {difference[2]:+.3f}",
            "below baseline beyond interval": difference[2] < 0,
            "warning": "yes" if result.warning else "",
            "backtest s": seconds,
        }
        metrics = result.metrics
        horizons = [
            {
                "reps": reps,
                "seed": seed,
                "months": int(h.horizon_months),
                "exits": int(h.positives),
                "AUC": h.roc_auc,
                "calibration error": h.calibration_error,
                "mean predicted": float(
                    result.predictions.loc[
                        (result.predictions["kind"] == result.chosen_kind)
                        & (result.predictions["horizon_months"] == h.horizon_months),
                        "score",
                    ].mean()
                ),
                "observed rate": h.observed_rate,
            }
            for h in metrics[
                (metrics["origin"] == "pooled") & (metrics["kind"] == result.chosen_kind)
            ].itertuples()
        ]
        return row, horizons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--reps", type=int, nargs="+", default=[150, 1000])
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()
    rows, horizons = [], []
    for reps in args.reps:
        for seed in args.seeds:
            row, by_horizon = measure(seed, reps, args.months)
            rows.append(row)
            horizons += by_horizon
            say(
                f"seed {seed}, {reps} reps: AUC {row['model AUC']:.3f} vs truth "
                f"{row['true hazard AUC']:.3f} (ratio {row['ratio']:.3f}), baseline "
                f"{row['baseline AUC']:.3f}"
            )
    table = pd.DataFrame(rows)
    print(markdown_table(table))
    print()
    summary = table.groupby("reps").agg(
        companies=("seed", "size"),
        mean_ratio=("ratio", "mean"),
        min_ratio=("ratio", "min"),
        mean_model_minus_baseline=("model - baseline", "mean"),
    )
    print(markdown_table(summary.reset_index()))
    print()
    by_horizon = pd.DataFrame(horizons).groupby(["reps", "months"]).mean(numeric_only=True)
    print(markdown_table(by_horizon.drop(columns="seed").reset_index()))
    passed = (
        bool((summary["mean_ratio"] >= 0.95).all())
        and not table["below baseline beyond interval"].any()
    )
    say("targets met" if passed else "a target was missed")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
