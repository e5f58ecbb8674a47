"""Activities: the calls, emails, meetings and visits reps log in the CRM.

Work is done whether or not it is logged; what survives in the CRM depends on the rep's
latent logging discipline. Each deal gets a first touch on the day it is opened and more
touches the further it goes; each month, owners keep up their accounts and account-team
members work the accounts they are on. The activity type depends on the segment, the time
of day falls within working hours, and sloppier reps log later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import params as P
from .calendar import SECONDS_PER_DAY, SECONDS_PER_HOUR
from .org import books, pick_from_books
from .store import NO_ONE

if TYPE_CHECKING:
    from .simulation import Company


def engagement_factor(company: Company, people: np.ndarray) -> np.ndarray:
    """Engaged reps open more deals and log more work."""
    ratio = company.people["sat"][people] / P.ENGAGEMENT_OUTPUT_PIVOT
    return np.clip(ratio, *P.ENGAGEMENT_OUTPUT_RANGE)


def log_deal_activities(
    company: Company,
    rng: np.random.Generator,
    opps: np.ndarray,
    stages: np.ndarray,
    segment: np.ndarray,
) -> None:
    """Activities while a deal is worked (`stages`: how many open stages it entered);
    only what the owner's discipline logs survives."""
    o = company.opps
    owner = o["owner"][opps]
    discipline = company.people["discipline"][owner]
    # the first touch on the day the deal is opened, logged or not
    first_logged = rng.random(len(opps)) < discipline
    _log_activities(
        company,
        rng,
        o["account"][opps][first_logged],
        opps[first_logged],
        owner[first_logged],
        o["created"][opps][first_logged],
        segment[first_logged],
    )
    later = rng.poisson(
        (P.DEAL_ACTIVITIES_BASE + P.DEAL_ACTIVITIES_PER_STAGE * stages) * discipline
    )
    idx = np.repeat(np.arange(len(opps)), later)
    span = np.maximum(o["close"][opps][idx] - o["created"][opps][idx], 1)
    day = o["created"][opps][idx] + (rng.random(len(idx)) * span).astype(np.int64)
    _log_activities(company, rng, o["account"][opps][idx], opps[idx], owner[idx], day, segment[idx])


def _log_activities(
    company: Company,
    rng: np.random.Generator,
    account: np.ndarray,
    opp: np.ndarray,
    owner: np.ndarray,
    day: np.ndarray,
    segment: np.ndarray,
) -> None:
    """Log activities done on `day`: a type, a time of day and a logging delay each."""
    n = len(owner)
    if not n:
        return
    type_p = P.ACTIVITY_TYPE_SHARE[segment]
    kind = (rng.random(n)[:, None] > np.cumsum(type_p, axis=1)).sum(axis=1)
    opens, closes = P.WORKING_HOURS
    time_of_day = rng.integers(opens * SECONDS_PER_HOUR, closes * SECONDS_PER_HOUR, n)
    occurred = day * SECONDS_PER_DAY + time_of_day
    discipline = company.people["discipline"][owner]
    lag_days = rng.exponential(
        P.LOGGING_LAG_MIN_DAYS + P.LOGGING_LAG_DAYS * (1.0 - discipline) ** 2
    )
    logged = occurred + (lag_days * SECONDS_PER_DAY).astype(np.int64) + P.LOGGING_LAG_MIN_SECONDS
    company.activities.add(
        account=account, opp=opp, owner=owner, kind=kind, occurred=occurred, logged=logged
    )


def log_account_activities(company: Company, rng: np.random.Generator, month: int) -> None:
    """The month's account upkeep by owners, then the work of account-team members."""
    cal, p, accounts = company.cal, company.people, company.accounts
    first, last = cal.start(month), min(cal.end(month), company.as_of_day)
    reps = company.reps_employed_between(first, last)
    rate = P.ACCOUNT_ACTIVITIES_PER_MONTH * p["discipline"][reps] * engagement_factor(company, reps)
    count = rng.poisson(rate)
    owner = np.repeat(reps, count)
    account = pick_from_books(rng, owner, books(company, first))
    has = account != NO_ONE
    owner, account = owner[has], account[has]
    start = np.maximum(first, p["hire_day"][owner])
    end = np.minimum(last, p["term_day"][owner])
    day = rng.integers(start, np.maximum(end, start) + 1)
    no_deal = np.full(len(owner), NO_ONE)
    _log_activities(company, rng, account, no_deal, owner, day, accounts["segment"][account])

    t = company.account_team
    live = (t["start"] <= last) & (t["end"] > last)
    live &= accounts["churn_day"][t["account"]] > last
    members = np.nonzero(live)[0]
    count = rng.poisson(P.TEAM_ACTIVITIES_PER_MONTH * p["discipline"][t["person"][members]])
    rows = np.repeat(members, count)
    account, person = t["account"][rows], t["person"][rows]
    day = rng.integers(np.maximum(first, t["start"][rows]), last + 1)
    no_deal = np.full(len(rows), NO_ONE)
    _log_activities(company, rng, account, no_deal, person, day, accounts["segment"][account])
