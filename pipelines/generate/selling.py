"""Selling: the life of an opportunity, sampled stage by stage when it is created.

A deal enters Lead on its creation day, then at each open stage spends a gamma-distributed
number of days and either advances or is lost. Advancing out of Negotiation wins it.
Advance probabilities depend on the segment and the owner's latent skill; time in stage
depends on the segment. A few deals skip Contacted or Needs Analysis. Deals that would
close in the last month of a quarter are often pushed to its last days (quarter-end
bunching).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.contract import OPEN_STAGES

from . import params as P

N_OPEN_STAGES = len(OPEN_STAGES)
NOT_ENTERED = np.iinfo(np.int32).min  # sentinel day for a stage never entered
LEAD_SOURCES = np.array(["Inbound", "Outbound", "Partner", "Event", "Referral"])
LEAD_SOURCE_SHARE = np.array([0.34, 0.30, 0.14, 0.10, 0.12])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Lifecycles:
    """Sampled life of n deals: stage entry days (n x 5), close day, won flag."""

    entered: np.ndarray
    close_day: np.ndarray
    won: np.ndarray


def quarter_end_day(day: np.ndarray) -> np.ndarray:
    """Last day of the calendar quarter that contains each day."""
    dates = np.asarray(day, dtype="int64").astype("datetime64[D]")
    month = dates.astype("datetime64[M]").astype("int64")  # months since 1970-01
    next_quarter = (month // 3 + 1) * 3
    return (
        np.asarray(next_quarter).astype("datetime64[M]").astype("datetime64[D]").astype("int64") - 1
    )


def sample_lifecycles(
    rng: np.random.Generator, created: np.ndarray, segment: np.ndarray, skill: np.ndarray
) -> Lifecycles:
    n = len(created)
    mean_days = P.DAYS_PER_STAGE[segment][:, None]
    durations = np.ceil(rng.gamma(2.0, mean_days / 2.0, size=(n, N_OPEN_STAGES))).astype(np.int64)
    advance_p = _sigmoid(P.ADVANCE_LOGIT[segment] + P.SKILL_ADVANCE_EFFECT * skill[:, None])
    advances = rng.random((n, N_OPEN_STAGES)) < advance_p

    skipped = np.full(n, -1)
    skips = rng.random(n) < P.STAGE_SKIP_PROBABILITY
    skipped[skips] = rng.integers(1, 3, size=int(skips.sum()))  # Contacted or Needs Analysis
    rows = np.nonzero(skips)[0]
    durations[rows, skipped[rows]] = 0
    advances[rows, skipped[rows]] = True

    failed_anywhere = ~advances.all(axis=1)
    last_stage = np.where(failed_anywhere, np.argmin(advances, axis=1), N_OPEN_STAGES - 1)
    starts = created[:, None] + np.concatenate(
        [np.zeros((n, 1), dtype=np.int64), np.cumsum(durations, axis=1)[:, :-1]], axis=1
    )
    stage_index = np.arange(N_OPEN_STAGES)[None, :]
    entered = np.where(stage_index <= last_stage[:, None], starts, NOT_ENTERED)
    entered[rows, skipped[rows]] = np.where(
        skipped[rows] <= last_stage[rows], NOT_ENTERED, entered[rows, skipped[rows]]
    )
    close_day = starts[np.arange(n), last_stage] + durations[np.arange(n), last_stage]
    won = ~failed_anywhere

    close_day = _bunch_at_quarter_end(rng, close_day, won, entered.max(axis=1))
    return Lifecycles(entered=entered.astype(np.int32), close_day=close_day, won=won)


def _bunch_at_quarter_end(
    rng: np.random.Generator, close_day: np.ndarray, won: np.ndarray, last_entry: np.ndarray
) -> np.ndarray:
    """Reps push wins due late in a quarter to its last days, and pull in early ones."""
    n = len(close_day)
    quarter_end = quarter_end_day(close_day)
    previous_end = quarter_end_day(quarter_end - 95)  # quarters are 90-92 days long
    target_end = np.where(close_day - previous_end <= 21, previous_end, quarter_end)
    late_or_early = (quarter_end - close_day < 28) | (close_day - previous_end <= 21)
    move = won & late_or_early & (rng.random(n) < P.QUARTER_END_PUSH_PROBABILITY)
    moved = target_end - rng.integers(0, 5, size=n)
    return np.where(move & (moved >= last_entry), moved, close_day)


def sample_amounts(
    rng: np.random.Generator, segment: np.ndarray, account_size: np.ndarray
) -> np.ndarray:
    raw = P.MEDIAN_AMOUNT[segment] * account_size * rng.lognormal(0.0, P.AMOUNT_SIGMA, len(segment))
    return np.round(raw, -1)


def sample_lead_sources(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(len(LEAD_SOURCES), size=n, p=LEAD_SOURCE_SHARE)


def expected_win_probability(segment: int) -> float:
    """Win probability of a deal by an average-skill rep, skips included."""
    p = _sigmoid(P.ADVANCE_LOGIT[segment])
    full = float(np.prod(p))
    skip_each = P.STAGE_SKIP_PROBABILITY / 2
    return (1 - P.STAGE_SKIP_PROBABILITY) * full + skip_each * (full / p[1] + full / p[2])


def expected_monthly_bookings(segment: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Expected bookings of a ramped average-skill rep; the basis of quotas."""
    win = np.array([expected_win_probability(s) for s in range(3)])
    mean_amount = P.MEDIAN_AMOUNT * np.exp(P.AMOUNT_SIGMA**2 / 2)
    return P.OPPS_PER_MONTH[segment] * P.LEVEL_OUTPUT[level] * win[segment] * mean_amount[segment]
