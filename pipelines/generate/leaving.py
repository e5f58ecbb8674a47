"""Leaving: each month every rep faces a voluntary exit hazard and a small dismissal risk.

The hazard is a logistic function of named drivers (`exit_drivers`): quota shortfall, pay
below the band, a stalled career, a recent manager change, low satisfaction, teammates who
left and being new. Whoever leaves goes on a random day of the next month, with a stated
reason and perhaps an exit interview; dismissals mostly hit long-tenured low performers.
Every departure ends the leaver's account-team seats, opens a backfill and hands the
leaver's accounts and open deals over (see `handovers`). The hazard and its drivers are
kept as ground truth for every rep and month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import params as P
from .handovers import hand_over_accounts, redirect_pending_handovers
from .store import NEVER, TERM_INVOLUNTARY, TERM_VOLUNTARY

if TYPE_CHECKING:
    from .simulation import Company

WOULD_RETURN_DRIVER_INDEX = [P.DRIVERS.index(name) for name in P.WOULD_RETURN_DRIVERS]


def exit_drivers(company: Company, reps: np.ndarray, month: int) -> np.ndarray:
    """Logit contribution of each named driver (columns in P.DRIVERS order)."""
    p = company.people
    tenure = company.months_since(p["hire_day"][reps], month)
    attainment = company.attainment(reps, month, P.ATTAINMENT_WINDOW_MONTHS)
    shortfall = np.clip(1 - attainment, 0, 1) * (tenure >= P.ATTAINMENT_PRESSURE_AFTER_MONTHS)
    pay_below = np.clip(1 - p["salary"][reps] / p["band_mid"][reps], 0, None)
    since_promotion = company.months_since(p["promo_day"][reps], month)
    stalled = np.clip(since_promotion - P.PROMOTION_STALL_MONTHS, 0, P.PROMOTION_STALL_CAP_MONTHS)
    since_manager_change = company.months_since(p["manager_change_day"][reps], month)
    manager_changed = since_manager_change < P.MANAGER_CHANGE_MONTHS
    disengaged = np.clip(P.ENGAGEMENT_PIVOT - p["sat"][reps], 0, None)
    peers = np.minimum(company.teammate_exits(reps, month, P.PEER_EXIT_MONTHS), P.PEER_EXITS_CAP)
    return np.column_stack(
        [
            P.HAZARD_ATTAINMENT * shortfall,
            P.HAZARD_PAY * pay_below,
            P.HAZARD_PROMOTION * stalled,
            P.HAZARD_MANAGER_CHANGE * manager_changed,
            P.HAZARD_ENGAGEMENT * disengaged,
            P.HAZARD_PEERS * peers,
            P.HAZARD_NEW_HIRE * (tenure < P.NEW_HIRE_MONTHS),
        ]
    )


def decide_exits(company: Company, rng: np.random.Generator, month: int) -> None:
    """This month's hazards (kept as truth) decide who resigns or is dismissed next month."""
    p, cal = company.people, company.cal
    reps = company.active_reps(cal.end(month))
    reps = reps[p["term_day"][reps] == NEVER]
    drivers = exit_drivers(company, reps, month)
    hazard = P.sigmoid(P.HAZARD_INTERCEPT + drivers.sum(axis=1))
    p["last_hazard"][reps] = hazard
    dominant = drivers.argmax(axis=1)
    leaves = rng.random(len(reps)) < hazard

    att6 = company.attainment(reps, month, P.REVIEW_WINDOW_MONTHS)
    tenure = company.months_since(p["hire_day"][reps], month)
    low_performer = (
        (att6 < P.DISMISSAL_ATTAINMENT)
        & (p["last_rating"][reps] <= P.DISMISSAL_MAX_RATING)
        & (tenure >= P.DISMISSAL_MIN_TENURE_MONTHS)
    )
    fired_p = P.DISMISSAL_BASE + P.DISMISSAL_LOW_PERFORMER * low_performer
    fired = ~leaves & (rng.random(len(reps)) < fired_p)

    company.rep_month_truth.add(
        person=reps,
        month=month,
        hazard=hazard,
        dominant=dominant,
        **{f"driver_{name}": drivers[:, k] for k, name in enumerate(P.DRIVERS)},
        satisfaction=p["sat"][reps],
        attainment_3m=company.attainment(reps, month, P.ATTAINMENT_WINDOW_MONTHS),
    )
    if month + 1 >= cal.months:
        return
    term_day = cal.random_days(rng, month + 1, len(reps))
    in_time = term_day <= company.as_of_day
    voluntary = leaves & in_time
    involuntary = fired & in_time
    _resign(company, rng, reps[voluntary], term_day[voluntary], drivers[voluntary], month)
    _dismiss(company, rng, reps[involuntary], term_day[involuntary], att6[involuntary], month)


def _resign(
    company: Company,
    rng: np.random.Generator,
    reps: np.ndarray,
    day: np.ndarray,
    drivers: np.ndarray,
    month: int,
) -> None:
    """Voluntary exits: the stated reason is the strongest driver (or an unrelated one)."""
    p = company.people
    order = np.argsort(-drivers, axis=1)
    stated = np.array([P.EXIT_REASONS[P.DRIVERS[k]] for k in order[:, 0]], dtype=object)
    other = rng.random(len(reps)) < P.OTHER_EXIT_REASON_PROBABILITY
    stated[other] = rng.choice(P.OTHER_EXIT_REASONS, size=int(other.sum()))
    p["term_day"][reps], p["term_type"][reps], p["term_reason"][reps] = (
        day,
        TERM_VOLUNTARY,
        stated,
    )
    for team, d in zip(p["team"][reps], day, strict=True):
        company.team_voluntary_exit_days[team].append(int(d))
    interviewed = rng.random(len(reps)) < P.EXIT_INTERVIEW_RATE
    second = np.array([P.EXIT_REASONS[P.DRIVERS[k]] for k in order[:, 1]], dtype=object)
    second_strong = drivers[np.arange(len(reps)), order[:, 1]] > P.SECONDARY_REASON_MIN_LOGIT
    return_p = np.where(
        np.isin(order[:, 0], WOULD_RETURN_DRIVER_INDEX), *P.WOULD_RETURN_PROBABILITY
    )
    would_return = rng.random(len(reps)) < return_p
    company.exit_interviews.add(
        person=reps[interviewed],
        day=day[interviewed] - rng.integers(0, P.EXIT_INTERVIEW_DAYS, interviewed.sum()),
        primary=stated[interviewed],
        secondary=np.where(second_strong & ~other, second, None)[interviewed],
        would_return=would_return[interviewed],
    )
    _depart(company, rng, reps, day, voluntary=True, month=month)


def _dismiss(
    company: Company,
    rng: np.random.Generator,
    reps: np.ndarray,
    day: np.ndarray,
    att6: np.ndarray,
    month: int,
) -> None:
    """Involuntary exits, recorded as performance or restructuring."""
    p = company.people
    p["term_day"][reps], p["term_type"][reps] = day, TERM_INVOLUNTARY
    performance, restructuring = P.INVOLUNTARY_REASONS
    low = att6 < P.PERFORMANCE_DISMISSAL_ATTAINMENT
    p["term_reason"][reps] = np.where(low, performance, restructuring)
    _depart(company, rng, reps, day, voluntary=False, month=month)


def _depart(
    company: Company,
    rng: np.random.Generator,
    reps: np.ndarray,
    day: np.ndarray,
    voluntary: bool,
    month: int,
) -> None:
    """Termination record, backfill, account handovers and the leavers' open deals."""
    if not len(reps):
        return
    p, t = company.people, company.account_team
    company.log_job_change(reps, day, "termination")
    backfill_months = month + 1 + rng.geometric(1 / P.BACKFILL_MEAN_MONTHS, len(reps))
    company.pending_hires.extend(
        zip(backfill_months.tolist(), p["team"][reps].tolist(), strict=True)
    )
    ends = np.isin(t["person"], reps) & (t["end"] == NEVER)
    t["end"][ends] = p["term_day"][t["person"][ends]]
    redirect_pending_handovers(company, rng, reps)
    hand_over_accounts(company, rng, reps, voluntary)
