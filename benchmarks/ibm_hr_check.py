"""Public-dataset checks (issues #5, #19): AttritionRiskModel on two public HR tables.

Run: .venv/bin/python benchmarks/ibm_hr_check.py [--path CSV] [--folds 5] [--seed 0]
Stratified k-fold CV (rows shuffled with the seed; protected and constant/identifier
columns excluded) of AttritionRiskModel of each kind at its self-tuning defaults, the old
fixed C=0.01, and a plain logistic regression baseline on the same folds, on the IBM HR
table (--path) and on Babushkin's turnover table (benchmarks/data/turnover_babushkin).
Prints a markdown table per table; exits 1 if the best AttritionRiskModel row misses ROC
AUC 0.82 on IBM or the default logistic model is below the baseline (by more than 0.001)
on either table, 0 otherwise; the IBM part is skipped when that dataset is absent. Not
part of `make test` (tests/test_models_ibm.py and tests/test_models_public_tables.py run
the same checks).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from common import say  # noqa: E402

from models_ml.ibm_hr import AUC_BAR, DATASET, VARIANTS, cross_validate_ibm_hr  # noqa: E402
from models_ml.public_tables import (  # noqa: E402
    best_model,
    cross_validate,
    default_against_baseline,
    load_turnover,
)


def markdown(frame: pd.DataFrame) -> str:
    """The frame as a GitHub-flavoured markdown table, floats to 4 decimals."""
    lines = ["| " + " | ".join(frame.columns) + " |", "| --- |" + " ---: |" * (frame.shape[1] - 1)]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DATASET)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    failed = False
    if args.path.exists():
        say(f"IBM HR: {args.folds}-fold stratified CV, seed {args.seed}, {args.path} ...")
        started = time.perf_counter()
        frame = cross_validate_ibm_hr(args.path, folds=args.folds, seed=args.seed)
        say(f"done in {time.perf_counter() - started:.1f} s")
        print("IBM HR attrition (1,470 employees):\n")
        print(markdown(frame))
        best = best_model(frame)
        margin = default_against_baseline(frame)
        print(
            f"\nBest AttritionRiskModel: {best['estimator']}, ROC AUC "
            f"{best['roc_auc_mean']:.4f} (bar {AUC_BAR}); default logistic - baseline: "
            f"{margin:+.4f}\n"
        )
        failed |= best["roc_auc_mean"] < AUC_BAR or margin < -0.001
    else:
        print(f"IBM HR skipped: dataset not found at {args.path}\n")
    say(f"turnover: {args.folds}-fold stratified CV, seed {args.seed} ...")
    X, y = load_turnover()
    frame = cross_validate(X, y, folds=args.folds, seed=args.seed, variants=VARIANTS)
    print("Babushkin employee turnover (1,129 employees):\n")
    print(markdown(frame))
    margin = default_against_baseline(frame)
    print(f"\ndefault logistic - baseline: {margin:+.4f}")
    failed |= margin < -0.001
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
