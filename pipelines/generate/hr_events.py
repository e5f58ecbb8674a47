"""HR events: the pay round, reorgs, reviews and promotions, manager changes, latent
satisfaction and the engagement surveys that sample it.

January brings the pay round (band midpoints move with the market, raises follow the last
rating) and a small reorg (a few reps move to another team of the same segment). June and
December bring reviews, rated from six-month attainment and skill, and some promotions.
Any month a team's manager may leave; the successor starts the next day and every rep on
the team gets a new manager. Every month latent satisfaction drifts back to each rep's
base level minus the month's stressors, and quarterly surveys read it with noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import params as P
from .org import add_people
from .store import NEVER, TERM_VOLUNTARY

if TYPE_CHECKING:
    from .simulation import Company


def pay_round(company: Company, rng: np.random.Generator, month: int) -> None:
    """January: band midpoints move with the market; raises follow the last rating."""
    p, day = company.people, company.cal.start(month)
    everyone = np.nonzero((p["hire_day"] <= day) & (p["term_day"] >= day))[0]
    rating = p["last_rating"][everyone].astype(float)
    rating = np.where(rating == 0, P.MIDDLE_RATING, rating)
    raise_pct = np.clip(
        P.RAISE_BASE
        + P.RAISE_PER_RATING_POINT * (rating - P.MIDDLE_RATING)
        + rng.normal(0, P.RAISE_NOISE, len(everyone)),
        0.0,
        P.RAISE_MAX,
    )
    p["salary"][everyone] *= 1 + raise_pct
    p["band_mid"][everyone] = company.band_mid(everyone, month)
    company.log_compensation(everyone, day)


def reorg(company: Company, rng: np.random.Generator, month: int) -> None:
    """January: a few reps move to another team of the same segment."""
    p, teams, account_team = company.people, company.teams, company.account_team
    day = company.cal.start(month)
    reps = company.active_reps(day)
    reps = reps[(p["term_day"][reps] == NEVER) & (rng.random(len(reps)) < P.REORG_TRANSFER_SHARE)]
    for rep in reps:
        segment = teams["segment"][p["team"][rep]]
        options = np.nonzero(
            (teams["segment"] == segment) & (np.arange(teams.size) != p["team"][rep])
        )[0]
        if not len(options):
            continue
        team = rng.choice(options)
        p["team"][rep], p["manager"][rep] = team, teams["manager"][team]
        p["manager_change_day"][rep] = day
        company.log_job_change(np.array([rep]), day, "transfer")
        leaving = (account_team["person"] == rep) & (account_team["end"] == NEVER)
        account_team["end"][leaving] = day


def review(company: Company, rng: np.random.Generator, month: int) -> None:
    """June and December: ratings driven by six-month attainment; some promotions."""
    p, cal = company.people, company.cal
    day = cal.end(month) - P.REVIEW_DAYS_BEFORE_MONTH_END
    if day > company.as_of_day:
        return
    reps = company.active_reps(day)
    reps = reps[company.months_since(p["hire_day"][reps], month) >= P.REVIEW_MIN_TENURE_MONTHS]
    att6 = company.attainment(reps, month, P.REVIEW_WINDOW_MONTHS)
    score = (
        P.MIDDLE_RATING
        + P.RATING_PER_ATTAINMENT
        * (np.minimum(att6, P.RATING_ATTAINMENT_CAP) - P.RATING_PAR_ATTAINMENT)
        + P.RATING_SKILL * p["skill"][reps]
    )
    noisy = np.round(score + rng.normal(0, P.RATING_NOISE, len(reps)))
    rating = np.clip(noisy, *P.SCORE_SCALE).astype(int)
    p["last_rating"][reps] = rating
    company.reviews.add(person=reps, day=day, rating=rating)

    effective = cal.end(month) + 1
    if effective > company.as_of_day:
        return
    months_since_promo = company.months_since(p["promo_day"][reps], month)
    promote = reps[
        (rating >= P.PROMOTION_MIN_RATING)
        & (months_since_promo >= P.PROMOTION_MIN_MONTHS)
        & (p["level"][reps] < P.TOP_REP_LEVEL)
        & (rng.random(len(reps)) < P.PROMOTION_PROBABILITY)
    ]
    p["level"][promote] += 1
    p["promo_day"][promote] = effective
    p["band_mid"][promote] = company.band_mid(promote, month)
    p["salary"][promote] = np.maximum(
        p["salary"][promote] * P.PROMOTION_RAISE,
        p["band_mid"][promote] * rng.uniform(*P.PROMOTION_BAND_POSITION, len(promote)),
    )
    company.log_job_change(promote, effective, "promotion")
    company.log_compensation(promote, effective)


def replace_departing_managers(company: Company, rng: np.random.Generator, month: int) -> None:
    """Some managers leave; the successor starts the next day and takes over the team."""
    p, cal, teams, account_team = company.people, company.cal, company.teams, company.account_team
    last = min(cal.end(month), company.as_of_day) - 1  # the successor starts next day
    if last < cal.start(month):
        return
    leaving_teams = np.nonzero(rng.random(teams.size) < P.MANAGER_MONTHLY_EXIT)[0]
    for team in leaving_teams:
        old = teams["manager"][team]
        leave_day = int(rng.integers(cal.start(month), last + 1))
        p["term_day"][old] = leave_day
        p["term_type"][old] = TERM_VOLUNTARY
        p["term_reason"][old] = P.MANAGER_EXIT_REASON
        company.log_job_change(np.array([old]), leave_day, "termination")
        start = leave_day + 1
        new = add_people(
            company,
            rng,
            np.array([team]),
            np.array([P.MANAGER_LEVEL]),
            np.array([start]),
            True,
            month,
        )
        company.log_job_change(new, start, "hire")
        company.log_compensation(new, start)
        teams["manager"][team] = new[0]
        members = company.active_reps(start)
        members = members[p["team"][members] == team]
        p["manager"][members] = new[0]
        p["manager_change_day"][members] = start
        company.log_job_change(members, start, "manager_change")
        gone = (account_team["person"] == old) & (account_team["end"] == NEVER)
        account_team["end"][gone] = leave_day


def update_satisfaction(company: Company, rng: np.random.Generator, month: int) -> None:
    """Latent satisfaction returns towards its base level, minus the month's stressors."""
    p = company.people
    reps = company.active_reps(company.cal.end(month))
    shortfall = np.clip(1 - company.attainment(reps, month, P.ATTAINMENT_WINDOW_MONTHS), 0, 1)
    pay_below = np.clip(1 - p["salary"][reps] / p["band_mid"][reps], 0, None)
    since_manager_change = company.months_since(p["manager_change_day"][reps], month)
    new_manager = since_manager_change < P.NEW_MANAGER_STRESS_MONTHS
    peers = company.teammate_exits(reps, month, window_months=P.PEER_EXIT_STRESS_MONTHS)
    since_promotion = company.months_since(p["promo_day"][reps], month)
    stalled = np.clip(since_promotion - P.PROMOTION_STALL_MONTHS, 0, None)
    stress = (
        P.STRESS_ATTAINMENT * shortfall
        + P.STRESS_PAY * pay_below
        + P.STRESS_NEW_MANAGER * new_manager
        + P.STRESS_PEERS * peers
        + P.STRESS_STALLED * stalled
        + P.STRESS_SHOCK * (rng.random(len(reps)) < P.SHOCK_PROBABILITY)
    )
    sat = p["sat"][reps]
    sat = (
        sat
        + P.SATISFACTION_REVERSION * (p["base_sat"][reps] - sat)
        - stress
        + rng.normal(0, P.SATISFACTION_NOISE, len(reps))
    )
    p["sat"][reps] = np.clip(sat, *P.SCORE_SCALE)


def _score(x: np.ndarray) -> np.ndarray:
    """A survey answer on the 1-5 scale."""
    return np.clip(np.round(x), *P.SCORE_SCALE).astype(int)


def survey(company: Company, rng: np.random.Generator, month: int) -> None:
    """Quarterly: most reps answer engagement, satisfaction and intent-to-stay items."""
    p = company.people
    day = company.cal.end(month) - P.SURVEY_CLOSE_DAYS_BEFORE_MONTH_END
    if day > company.as_of_day:
        return
    reps = company.active_reps(day)
    reps = reps[rng.random(len(reps)) < P.SURVEY_RESPONSE_RATE]
    sat, n = p["sat"][reps], len(reps)
    company.surveys.add(
        person=reps,
        day=day - rng.integers(0, P.SURVEY_ANSWER_DAYS, n),
        engagement=_score(sat + rng.normal(0, P.ENGAGEMENT_ANSWER_NOISE, n)),
        satisfaction=_score(
            sat - P.SATISFACTION_ANSWER_OFFSET + rng.normal(0, P.SATISFACTION_ANSWER_NOISE, n)
        ),
        intent=_score(
            P.INTENT_BASE
            - P.INTENT_PER_HAZARD * p["last_hazard"][reps]
            + P.INTENT_SATISFACTION * (sat - P.INTENT_SATISFACTION_PIVOT)
            + rng.normal(0, P.INTENT_ANSWER_NOISE, n)
        ),
    )
