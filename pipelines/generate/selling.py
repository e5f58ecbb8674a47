"""Selling: reps open opportunities each month, and the month's bookings and quotas settle.

`create_opportunities` gives each rep a Poisson number of new deals (by segment, level,
ramp and engagement), on an account from the rep's book or, the more the book falls short
of a full one, on a new account. The whole life of a deal is sampled when it is created:
it enters Lead on its creation day, then at each open stage spends a gamma-distributed
number of days and either advances or is lost; advancing out of Negotiation wins it.
Advance probabilities depend on the segment and the owner's latent skill; time in stage
depends on the segment. A few deals skip Contacted or Needs Analysis. Deals that would
close in the last month of a quarter are often pushed to its last days (quarter-end
bunching). `settle_month` books the month's wins and sets quotas from the bookings an
average rep is expected to make.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pipelines.contract import OPEN_STAGES

from . import params as P
from .activities import engagement_factor, log_deal_activities
from .org import books, open_accounts, pick_from_books
from .store import NO_ONE

if TYPE_CHECKING:
    from .simulation import Company

N_OPEN_STAGES = len(OPEN_STAGES)
NOT_ENTERED = np.iinfo(np.int32).min  # sentinel day for a stage never entered
MONTHS_PER_QUARTER = len(P.QUOTA_MONTH_WEIGHTS)


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
    shape = P.STAGE_DAYS_GAMMA_SHAPE
    durations = np.ceil(rng.gamma(shape, mean_days / shape, size=(n, N_OPEN_STAGES)))
    durations = durations.astype(np.int64)
    advance_p = P.sigmoid(P.ADVANCE_LOGIT[segment] + P.SKILL_ADVANCE_EFFECT * skill[:, None])
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
    early = close_day - previous_end <= P.QUARTER_PULL_WINDOW_DAYS
    target_end = np.where(early, previous_end, quarter_end)
    late_or_early = (quarter_end - close_day < P.QUARTER_PUSH_WINDOW_DAYS) | early
    move = won & late_or_early & (rng.random(n) < P.QUARTER_END_PUSH_PROBABILITY)
    moved = target_end - rng.integers(0, P.QUARTER_END_SPREAD_DAYS, size=n)
    return np.where(move & (moved >= last_entry), moved, close_day)


def sample_amounts(
    rng: np.random.Generator, segment: np.ndarray, account_size: np.ndarray
) -> np.ndarray:
    raw = P.MEDIAN_AMOUNT[segment] * account_size * rng.lognormal(0.0, P.AMOUNT_SIGMA, len(segment))
    return np.round(raw, P.AMOUNT_DECIMALS)


def sample_lead_sources(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(len(P.LEAD_SOURCES), size=n, p=P.LEAD_SOURCE_SHARE)


def expected_win_probability(segment: int) -> float:
    """Win probability of a deal by an average-skill rep, skips included."""
    p = P.sigmoid(P.ADVANCE_LOGIT[segment])
    full = float(np.prod(p))
    skip_each = P.STAGE_SKIP_PROBABILITY / 2
    return (1 - P.STAGE_SKIP_PROBABILITY) * full + skip_each * (full / p[1] + full / p[2])


def expected_monthly_bookings(segment: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Expected bookings of a ramped average-skill rep; the basis of quotas."""
    win = np.array([expected_win_probability(s) for s in range(len(P.MEDIAN_AMOUNT))])
    mean_amount = P.MEDIAN_AMOUNT * np.exp(P.AMOUNT_SIGMA**2 / 2)
    return P.OPPS_PER_MONTH[segment] * P.LEVEL_OUTPUT[level] * win[segment] * mean_amount[segment]


# ------------------------------------------------------------ the monthly process
def ramp(company: Company, people: np.ndarray, month: int) -> np.ndarray:
    """Share of full output (and quota) in each person's first months."""
    since_hire = company.months_since(company.people["hire_day"][people], month)
    months_in = np.floor(since_hire).astype(int)
    return np.where(months_in < len(P.RAMP), P.RAMP[np.clip(months_in, 0, len(P.RAMP) - 1)], 1.0)


def create_opportunities(company: Company, rng: np.random.Generator, month: int) -> None:
    """The month's new deals, on existing accounts or new ones, with their whole life."""
    cal, p = company.cal, company.people
    first, last = cal.start(month), min(cal.end(month), company.as_of_day)
    reps = company.reps_employed_between(first, last)
    active_from = np.maximum(first, p["hire_day"][reps])
    active_to = np.minimum(last, p["term_day"][reps])
    share = (active_to - active_from + 1) / (cal.end(month) - first + 1)
    segment = company.segment_of(reps)
    rate = (
        P.OPPS_PER_MONTH[segment]
        * P.LEVEL_OUTPUT[p["level"][reps]]
        * share
        * ramp(company, reps, month)
        * engagement_factor(company, reps)
    )
    count = rng.poisson(rate)
    owner = np.repeat(reps, count)
    created = rng.integers(np.repeat(active_from, count), np.repeat(active_to, count) + 1)
    month_books = books(company, first)
    book_size = month_books[2][owner]
    target = P.BOOK_SIZE[company.segment_of(owner)]
    p_new = np.clip(
        P.NEW_ACCOUNT_MIN_PROBABILITY + P.NEW_ACCOUNT_PER_BOOK_GAP * (1 - book_size / target),
        P.NEW_ACCOUNT_MIN_PROBABILITY,
        P.NEW_ACCOUNT_MAX_PROBABILITY,
    )
    account = np.where(
        rng.random(len(owner)) < p_new, NO_ONE, pick_from_books(rng, owner, month_books)
    )
    new = account == NO_ONE
    account[new] = open_accounts(company, rng, owner[new], created[new], created[new])
    _add_opportunities(company, rng, account, owner, created)


def _add_opportunities(
    company: Company,
    rng: np.random.Generator,
    account: np.ndarray,
    owner: np.ndarray,
    created: np.ndarray,
) -> None:
    segment = company.accounts["segment"][account]
    life = sample_lifecycles(rng, created, segment, company.people["skill"][owner])
    rows = company.opps.append(
        account=account,
        owner=owner,
        created=created,
        close=life.close_day,
        won=life.won,
        amount=sample_amounts(rng, segment, company.accounts["size"][account]),
        lead_source=sample_lead_sources(rng, len(owner)),
        **{f"entered_{k}": life.entered[:, k] for k in range(N_OPEN_STAGES)},
    )
    stages = (life.entered != NOT_ENTERED).sum(axis=1)
    log_deal_activities(company, rng, rows, stages, segment)


def settle_month(company: Company, month: int) -> None:
    """The month's won bookings by owner, and the quota of every rep employed in it."""
    cal, o, p = company.cal, company.opps, company.people
    first, last = cal.start(month), cal.end(month)
    closing = o["won"] & (o["close"] >= first) & (o["close"] <= last)
    company.bookings[month] = np.bincount(
        o["owner"][closing], weights=o["amount"][closing], minlength=p.size
    )
    reps = company.reps_employed_between(first, min(last, company.as_of_day))
    month_of_quarter = (cal.month_of_year(month) - 1) % MONTHS_PER_QUARTER
    weight = P.QUOTA_MONTH_WEIGHTS[month_of_quarter] * MONTHS_PER_QUARTER
    quota = (
        P.QUOTA_HEADROOM
        * expected_monthly_bookings(company.segment_of(reps), p["level"][reps])
        * weight
        * ramp(company, reps, month)
    )
    quota = np.round(quota, P.MONEY_DECIMALS)
    company.quotas.add(person=reps, month=month, amount=quota)
    by_person = np.zeros(p.size)
    by_person[reps] = quota
    company.quota_by_month[month] = by_person
