"""The org and hiring: teams, managers and reps, their accounts and account teams.

`build_org` creates the company as it stands on the day the simulation starts: teams of
about eight reps per segment and region, one manager each, reps whose tenure, level,
last promotion and pay look like an established team's, and each rep's book of accounts.
`hire` backfills vacancies; `open_accounts` adds accounts (with their first owner and
perhaps an account team), both at the start and whenever a deal brings in a new logo;
`books` and `pick_from_books` find the accounts a rep owns on a day.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import params as P
from .calendar import DAYS_PER_YEAR, EPOCH
from .names import INDUSTRIES, LOCATIONS, REGIONS, company_names, person_names
from .store import LONG_AGO, NEVER, NO_ONE

if TYPE_CHECKING:
    from .simulation import Company

SEGMENT_LABELS = ("SMB", "Mid-Market", "Enterprise")
# Live accounts grouped by owner: (accounts sorted by owner, offsets, counts).
Books = tuple[np.ndarray, np.ndarray, np.ndarray]


def add_people(
    company: Company,
    rng: np.random.Generator,
    team: np.ndarray,
    level: np.ndarray,
    hire_day: np.ndarray,
    is_manager: bool,
    month: int,
) -> np.ndarray:
    """New people on `team` with drawn names, traits and pay at their band; their rows."""
    n = len(team)
    names, gender = person_names(rng, n)
    base_sat = rng.normal(*P.BASE_SATISFACTION, n)
    region = company.teams["region"][team]
    location = np.array([rng.choice(LOCATIONS[REGIONS[r]]) for r in region], dtype=object)
    hire_age = np.clip(rng.normal(*P.HIRE_AGE, n), *P.HIRE_AGE_RANGE)
    hire_year = (hire_day / DAYS_PER_YEAR + EPOCH.year).astype(int)
    rows = company.people.append(
        team=team,
        level=level,
        is_manager=np.full(n, is_manager),
        hire_day=hire_day,
        term_day=np.full(n, NEVER),
        term_type=np.zeros(n),
        term_reason=np.full(n, None),
        manager=company.teams["manager"][team] if not is_manager else np.full(n, NO_ONE),
        skill=rng.normal(0, 1, n),
        discipline=np.clip(rng.beta(*P.LOGGING_DISCIPLINE_BETA, n), P.LOGGING_DISCIPLINE_MIN, 1.0),
        base_sat=base_sat,
        sat=np.clip(base_sat + rng.normal(*P.INITIAL_SATISFACTION_OFFSET, n), *P.SCORE_SCALE),
        salary=np.zeros(n),
        band_mid=np.zeros(n),
        promo_day=hire_day,
        manager_change_day=np.full(n, LONG_AGO),
        last_rating=np.zeros(n),
        last_hazard=np.zeros(n),
        name=names.astype(object),
        gender=gender.astype(object),
        birth_year=(hire_year - hire_age).astype(int),
        location=location,
    )
    mid = company.band_mid(rows, max(month, 0))
    company.people["band_mid"][rows] = mid
    company.people["salary"][rows] = mid * np.exp(rng.normal(*P.HIRE_PAY_POSITION, n))
    return rows


def build_org(company: Company, rng: np.random.Generator) -> None:
    """The teams, managers, reps and books of accounts on the simulation's first day."""
    cal = company.cal
    n_teams = max(1, round(company.target_reps / P.REPS_PER_TEAM))
    n_segments = len(P.SEGMENT_SHARE_OF_TEAMS)
    seg_counts = np.floor(P.SEGMENT_SHARE_OF_TEAMS * n_teams).astype(int)
    if n_teams >= n_segments:
        seg_counts = np.maximum(seg_counts, 1)
    seg_counts[0] += n_teams - seg_counts.sum()
    segments = rng.permutation(np.repeat(np.arange(n_segments), seg_counts))
    regions = np.arange(n_teams) % len(REGIONS)
    names = []
    for seg, reg in zip(segments, regions, strict=True):
        label = f"{SEGMENT_LABELS[seg]} {REGIONS[reg]}"
        names.append(f"{label} {sum(n.startswith(label) for n in names) + 1}")
    teams = company.teams.append(
        segment=segments,
        region=regions,
        manager=np.full(n_teams, NO_ONE),
        name=np.array(names, object),
    )
    company.team_voluntary_exit_days = [[] for _ in range(n_teams)]

    start = cal.start(-cal.seed_months)
    manager_hire = start - rng.integers(*P.MANAGER_TENURE_DAYS, n_teams)
    managers = add_people(
        company, rng, teams, np.full(n_teams, P.MANAGER_LEVEL), manager_hire, True, 0
    )
    company.teams["manager"][teams] = managers
    company.log_job_change(managers, manager_hire, "hire")

    target = company.target_reps
    sizes = np.full(n_teams, target // n_teams)
    sizes[: target % n_teams] += 1
    team_of_rep = np.repeat(teams, sizes)
    drawn_tenure = rng.exponential(P.REP_TENURE_MEAN_DAYS, len(team_of_rep))
    tenure_days = np.minimum(drawn_tenure, P.REP_TENURE_MAX_DAYS).astype(int) + 1
    hire_day = start - tenure_days
    years = tenure_days / DAYS_PER_YEAR
    level2, level3, level4 = P.LEVEL_TENURE_YEARS
    level = 1 + (years > level2) + (years > level3) + (years > level4)
    level = np.maximum(1, level - (rng.random(len(level)) < P.LEVEL_LAG_PROBABILITY))
    level = level.astype(np.int8)
    reps = add_people(company, rng, team_of_rep, level, hire_day, False, 0)
    people = company.people
    promoted = level > 1
    since_promo = rng.integers(0, np.minimum(tenure_days, P.MAX_DAYS_SINCE_PROMOTION) + 1)
    people["promo_day"][reps] = np.where(promoted, start - since_promo, hire_day)
    people["manager_change_day"][reps] = start - rng.integers(
        0, P.MAX_DAYS_SINCE_MANAGER_CHANGE, len(reps)
    )
    people["salary"][reps] *= np.exp(rng.normal(*P.STARTING_PAY_DRIFT, len(reps)))
    everyone = np.concatenate([managers, reps])
    company.log_job_change(reps, hire_day, "hire")
    promoted_reps = reps[promoted]
    company.log_job_change(promoted_reps, people["promo_day"][promoted_reps], "promotion")
    company.log_compensation(everyone, start)

    spread = rng.uniform(*P.STARTING_BOOK_SPREAD, len(reps))
    book = (P.BOOK_SIZE[company.segment_of(reps)] * spread).astype(int)
    owners = np.repeat(reps, book)
    created = start - rng.integers(*P.STARTING_ACCOUNT_AGE_DAYS, len(owners))
    open_accounts(company, rng, owners, created, np.maximum(created, people["hire_day"][owners]))


def hire(company: Company, rng: np.random.Generator, team: np.ndarray, month: int) -> None:
    """Backfills: one new rep on each given team, hired on a random day of `month`."""
    last_day = min(company.cal.end(month), company.as_of_day)
    hire_day = rng.integers(company.cal.start(month), last_day + 1, len(team))
    level = np.where(rng.random(len(team)) < P.NEW_HIRE_LEVEL1_SHARE, 1, 2).astype(np.int8)
    rows = add_people(company, rng, team, level, hire_day, False, month)
    company.log_job_change(rows, hire_day, "hire")
    company.log_compensation(rows, hire_day)


def open_accounts(
    company: Company,
    rng: np.random.Generator,
    owners: np.ndarray,
    created: np.ndarray,
    owner_since: np.ndarray,
) -> np.ndarray:
    """New accounts owned by `owners` from `owner_since`, with account teams; their rows."""
    n = len(owners)
    segment = company.segment_of(owners)
    is_key = rng.random(n) < P.KEY_ACCOUNT_SHARE[segment]
    key_uplift = P.KEY_ACCOUNT_SIZE_FACTOR - 1
    size_norm = np.exp(P.ACCOUNT_SIZE_SIGMA**2 / 2) * (
        1 + key_uplift * P.KEY_ACCOUNT_SHARE[segment]
    )
    size = (
        rng.lognormal(0, P.ACCOUNT_SIZE_SIGMA, n)
        * np.where(is_key, P.KEY_ACCOUNT_SIZE_FACTOR, 1.0)
        / size_norm
    )
    start_row = company.owner_history.size
    rows = company.accounts.append(
        owner=owners,
        segment=segment,
        region=company.teams["region"][company.people["team"][owners]],
        industry=rng.integers(0, len(INDUSTRIES), n),
        created_day=created,
        is_key=is_key,
        size=size,
        churn_day=np.full(n, NEVER),
        owner_row=np.arange(start_row, start_row + n),
        name=company_names(rng, n).astype(object),
    )
    company.owner_history.append(
        account=rows, owner=owners, valid_from=owner_since, valid_to=np.full(n, NEVER)
    )
    _form_account_teams(company, rng, rows, owner_since)
    return rows


def _form_account_teams(
    company: Company, rng: np.random.Generator, accounts: np.ndarray, start: np.ndarray
) -> None:
    """Some accounts get a second rep from the owner's team, and some the team's manager."""
    owner = company.accounts["owner"][accounts]
    segment = company.accounts["segment"][accounts]
    has_team = rng.random(len(accounts)) < P.ACCOUNT_TEAM_SHARE[segment]
    accounts, owner, start = accounts[has_team], owner[has_team], start[has_team]
    if not len(accounts):
        return
    team = company.people["team"][owner]
    partner = random_teammates(company, rng, team, exclude=owner, day=int(start.max()))
    ok = partner != NO_ONE
    partner_start = np.maximum(start[ok], company.people["hire_day"][partner[ok]])
    company.account_team.append(
        account=accounts[ok],
        person=partner[ok],
        role=np.zeros(ok.sum()),
        start=partner_start,
        end=np.full(ok.sum(), NEVER),
    )
    with_manager = rng.random(len(accounts)) < P.ACCOUNT_TEAM_MANAGER_SHARE
    company.account_team.append(
        account=accounts[with_manager],
        person=company.teams["manager"][team[with_manager]],
        role=np.ones(with_manager.sum()),
        start=start[with_manager],
        end=np.full(with_manager.sum(), NEVER),
    )


def random_teammates(
    company: Company, rng: np.random.Generator, team: np.ndarray, exclude: np.ndarray, day: int
) -> np.ndarray:
    """A random active rep on each given team other than `exclude` (NO_ONE if none)."""
    people = company.people
    reps = company.active_reps(day)
    reps = reps[people["term_day"][reps] == NEVER]
    if not len(reps):
        return np.full(len(team), NO_ONE)
    reps = reps[np.argsort(people["team"][reps], kind="stable")]
    counts = np.bincount(people["team"][reps], minlength=company.teams.size)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    n = np.maximum(counts[team], 1)
    slot = (rng.random(len(team)) * n).astype(int)
    chosen = reps[np.minimum(offsets[team] + slot, len(reps) - 1)]
    clash = chosen == exclude
    chosen[clash] = reps[np.minimum(offsets[team] + (slot + 1) % n, len(reps) - 1)][clash]
    on_team = people["team"][chosen] == team
    return np.where(on_team & (chosen != exclude), chosen, NO_ONE)


def books(company: Company, day: int) -> Books:
    """The accounts live after `day`, grouped by owner (see `Books`)."""
    accounts = company.accounts
    live = np.nonzero(accounts["churn_day"] > day)[0]
    live = live[np.argsort(accounts["owner"][live], kind="stable")]
    counts = np.bincount(accounts["owner"][live], minlength=company.people.size)
    return live, np.concatenate([[0], np.cumsum(counts)]), counts


def pick_from_books(rng: np.random.Generator, owners: np.ndarray, books: Books) -> np.ndarray:
    """A random live account from each owner's book (NO_ONE for an empty book)."""
    live, offsets, counts = books
    n = counts[owners]
    pick = offsets[owners] + (rng.random(len(owners)) * np.maximum(n, 1)).astype(int)
    return np.where(n > 0, live[np.minimum(pick, len(live) - 1)], NO_ONE)
