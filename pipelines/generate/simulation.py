"""The simulated company, month by month.

Each month: due account handovers take effect, vacancies are backfilled, January brings the
pay round and a small reorg, reps create opportunities (whose whole life is sampled at
creation) and log activities, the month's bookings and quotas settle, June and December
bring reviews and promotions, managers sometimes leave, latent satisfaction moves with the
month's stressors, quarterly surveys sample it, and finally every rep faces a voluntary
exit hazard for the next month built from named drivers (see `exit_drivers`).

Nothing dated after the as-of date changes state: the output is what a company's systems
would show on that day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from . import params as P
from .calendar import Calendar
from .names import INDUSTRIES, LOCATIONS, REGIONS, company_names, person_names
from .selling import (
    NOT_ENTERED,
    expected_monthly_bookings,
    sample_amounts,
    sample_lead_sources,
    sample_lifecycles,
)
from .store import Columns

NEVER = np.iinfo(np.int64).max // 4  # day of an event that has not happened
LONG_AGO = -(10**6)  # day of an event too old to matter (a new hire's "last manager change")
NO_ONE = -1
ACTIVITY_TYPE_SHARE = np.array(
    [  # call, email, meeting, visit
        [0.45, 0.38, 0.13, 0.04],
        [0.38, 0.36, 0.19, 0.07],
        [0.30, 0.32, 0.26, 0.12],
    ]
)
ACCOUNT_ACTIVITIES_PER_MONTH = 12.0
TEAM_ACTIVITIES_PER_MONTH = 1.5
SECONDS_PER_DAY = 86_400
TERM_VOLUNTARY, TERM_INVOLUNTARY = 1, 2


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class EventLog:
    """Append-only columns collected in chunks and joined once at the end."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self._chunks: list[dict[str, np.ndarray]] = []

    def add(self, **columns: np.ndarray | int | float | str | None) -> None:
        if set(columns) != set(self.names):
            raise ValueError(f"expected columns {self.names}, got {tuple(columns)}")
        lengths = {np.size(v) for v in columns.values() if np.ndim(v) > 0}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {lengths}")
        n = lengths.pop() if lengths else 1
        if n:
            self._chunks.append({k: np.broadcast_to(v, n).copy() for k, v in columns.items()})

    def columns(self) -> dict[str, np.ndarray]:
        """Every column joined; empty integer columns when nothing was logged."""
        if not self._chunks:
            return {k: np.zeros(0, dtype=np.int64) for k in self.names}
        return {k: np.concatenate([c[k] for c in self._chunks]) for k in self.names}


class Company:
    """State of the simulated company plus the logs that become its exports."""

    def __init__(self, reps: int, months: int, seed: int, as_of: dt.date) -> None:
        self.rng = np.random.default_rng(seed)
        self.cal = Calendar(as_of, months)
        self.target_reps = reps
        self.people = Columns(
            {
                "team": np.int32,
                "level": np.int8,
                "is_manager": bool,
                "hire_day": np.int64,
                "term_day": np.int64,
                "term_type": np.int8,
                "term_reason": object,
                "manager": np.int32,
                "skill": float,
                "discipline": float,
                "base_sat": float,
                "sat": float,
                "salary": float,
                "band_mid": float,
                "promo_day": np.int64,
                "manager_change_day": np.int64,
                "last_rating": np.int8,
                "last_hazard": float,
                "name": object,
                "gender": object,
                "birth_year": np.int32,
                "location": object,
            },
            capacity=reps * 2,
        )
        self.teams = Columns(
            {"segment": np.int8, "region": np.int8, "manager": np.int32, "name": object}
        )
        self.accounts = Columns(
            {
                "owner": np.int32,
                "segment": np.int8,
                "region": np.int8,
                "industry": np.int8,
                "created_day": np.int64,
                "is_key": bool,
                "size": float,
                "churn_day": np.int64,
                "owner_row": np.int64,
                "name": object,
            },
            capacity=reps * 40,
        )
        self.owner_history = Columns(
            {"account": np.int32, "owner": np.int32, "valid_from": np.int64, "valid_to": np.int64},
            capacity=reps * 40,
        )
        self.account_team = Columns(
            {
                "account": np.int32,
                "person": np.int32,
                "role": np.int8,
                "start": np.int64,
                "end": np.int64,
            },
            capacity=reps * 8,
        )
        self.opps = Columns(
            {
                "account": np.int32,
                "owner": np.int32,
                "created": np.int64,
                "close": np.int64,
                "won": bool,
                "amount": float,
                "lead_source": np.int8,
                **{f"entered_{k}": np.int32 for k in range(5)},
            },
            capacity=reps * 300,
        )
        self.activities = EventLog("account", "opp", "owner", "kind", "occurred", "logged")
        self.job_history = EventLog("person", "day", "change", "level", "team", "manager")
        self.compensation = EventLog("person", "day", "salary", "variable", "band_mid")
        self.reviews = EventLog("person", "day", "rating")
        self.surveys = EventLog("person", "day", "engagement", "satisfaction", "intent")
        self.exit_interviews = EventLog("person", "day", "primary", "secondary", "would_return")
        self.quotas = EventLog("person", "month", "amount")
        self.rep_month_truth = EventLog(
            "person",
            "month",
            "hazard",
            "dominant",
            "satisfaction",
            "attainment_3m",
            *(f"driver_{name}" for name in P.DRIVERS),
        )
        self.handover_truth = EventLog(
            "account",
            "leaver",
            "term_day",
            "handover_day",
            "single_threaded",
            "discipline",
            "planned",
            "delay_days",
            "p_loss",
            "lost",
            "voluntary",
        )
        self.bookings: dict[int, np.ndarray] = {}
        self.quota_by_month: dict[int, np.ndarray] = {}
        self.team_voluntary_exit_days: list[list[int]] = []
        self.pending_handovers = Columns(
            {"account": np.int32, "successor": np.int32, "day": np.int64}, capacity=1024
        )
        self.pending_hires: list[tuple[int, int]] = []  # (month, team)

    # ------------------------------------------------------------------ helpers
    @property
    def as_of_day(self) -> int:
        return self.cal.as_of_day

    def segment_of(self, people: np.ndarray) -> np.ndarray:
        return self.teams["segment"][self.people["team"][people]]

    def active_reps(self, day: int) -> np.ndarray:
        """Account executives employed on `day` (hired on or before, not yet gone)."""
        return self.reps_employed_between(day, day)

    def reps_employed_between(self, first: int, last: int) -> np.ndarray:
        """Account executives employed on at least one day of [first, last]."""
        p = self.people
        return np.nonzero(~p["is_manager"] & (p["hire_day"] <= last) & (p["term_day"] >= first))[0]

    def months_since(self, day: np.ndarray, month: int) -> np.ndarray:
        return (self.cal.end(month) - np.asarray(day)) / 30.44

    def band_mid(self, people: np.ndarray, month: int) -> np.ndarray:
        level = self.people["level"][people].astype(int)
        return P.band_midpoint(level, self.segment_of(people), self.cal.year_offset(month))

    def _log_job_change(self, people: np.ndarray, day: np.ndarray | int, change: str) -> None:
        p = self.people
        self.job_history.add(
            person=people,
            day=day,
            change=change,
            level=p["level"][people],
            team=p["team"][people],
            manager=p["manager"][people],
        )

    def _log_compensation(self, people: np.ndarray, day: np.ndarray | int) -> None:
        p = self.people
        segment = self.segment_of(people)
        self.compensation.add(
            person=people,
            day=day,
            salary=np.round(p["salary"][people], -2),
            variable=np.round(p["salary"][people] * P.VARIABLE_SHARE[segment], -2),
            band_mid=np.round(p["band_mid"][people], -2),
        )

    # --------------------------------------------------------------- the people
    def add_people(
        self,
        team: np.ndarray,
        level: np.ndarray,
        hire_day: np.ndarray,
        is_manager: bool,
        month: int,
    ) -> np.ndarray:
        rng, n = self.rng, len(team)
        names, gender = person_names(rng, n)
        base_sat = rng.normal(3.95, 0.35, n)
        region = self.teams["region"][team]
        location = np.array([rng.choice(LOCATIONS[REGIONS[r]]) for r in region], dtype=object)
        hire_age = np.clip(rng.normal(31, 7, n), 21, 60)
        hire_year = (hire_day / 365.25 + 1970).astype(int)
        rows = self.people.append(
            team=team,
            level=level,
            is_manager=np.full(n, is_manager),
            hire_day=hire_day,
            term_day=np.full(n, NEVER),
            term_type=np.zeros(n),
            term_reason=np.full(n, None),
            manager=self.teams["manager"][team] if not is_manager else np.full(n, NO_ONE),
            skill=rng.normal(0, 1, n),
            discipline=np.clip(rng.beta(4.0, 1.6, n), 0.25, 1.0),
            base_sat=base_sat,
            sat=np.clip(base_sat + rng.normal(-0.1, 0.25, n), 1, 5),
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
        mid = self.band_mid(rows, max(month, 0))
        self.people["band_mid"][rows] = mid
        self.people["salary"][rows] = mid * np.exp(rng.normal(-0.02, 0.07, n))
        return rows

    def build_org(self) -> None:
        rng, cal = self.rng, self.cal
        n_teams = max(1, round(self.target_reps / 8))
        seg_counts = np.floor(P.SEGMENT_SHARE_OF_TEAMS * n_teams).astype(int)
        if n_teams >= 3:
            seg_counts = np.maximum(seg_counts, 1)
        seg_counts[0] += n_teams - seg_counts.sum()
        segments = rng.permutation(np.repeat(np.arange(3), seg_counts))
        regions = np.arange(n_teams) % len(REGIONS)
        names = []
        for seg, reg in zip(segments, regions, strict=True):
            label = f"{('SMB', 'Mid-Market', 'Enterprise')[seg]} {REGIONS[reg]}"
            names.append(f"{label} {sum(n.startswith(label) for n in names) + 1}")
        teams = self.teams.append(
            segment=segments,
            region=regions,
            manager=np.full(n_teams, NO_ONE),
            name=np.array(names, object),
        )
        self.team_voluntary_exit_days = [[] for _ in range(n_teams)]

        start = cal.start(-cal.seed_months)
        manager_hire = start - rng.integers(200, 3000, n_teams)
        managers = self.add_people(teams, np.full(n_teams, 5), manager_hire, True, 0)
        self.teams["manager"][teams] = managers
        self._log_job_change(managers, manager_hire, "hire")

        sizes = np.full(n_teams, self.target_reps // n_teams)
        sizes[: self.target_reps % n_teams] += 1
        team_of_rep = np.repeat(teams, sizes)
        tenure_days = np.minimum(rng.exponential(800, len(team_of_rep)), 3650).astype(int) + 1
        hire_day = start - tenure_days
        years = tenure_days / 365.25
        level = 1 + (years > 1.0) + (years > 3.5) + (years > 6.5)
        level = np.maximum(1, level - (rng.random(len(level)) < 0.3)).astype(np.int8)
        reps = self.add_people(team_of_rep, level, hire_day, False, 0)
        promoted = level > 1
        since_promo = rng.integers(0, np.minimum(tenure_days, 1100) + 1)
        self.people["promo_day"][reps] = np.where(promoted, start - since_promo, hire_day)
        self.people["manager_change_day"][reps] = start - rng.integers(0, 1000, len(reps))
        self.people["salary"][reps] *= np.exp(rng.normal(-0.01, 0.05, len(reps)))
        everyone = np.concatenate([managers, reps])
        self._log_job_change(reps, hire_day, "hire")
        promoted_reps = reps[promoted]
        self._log_job_change(promoted_reps, self.people["promo_day"][promoted_reps], "promotion")
        self._log_compensation(everyone, start)

        book = (P.BOOK_SIZE[self.segment_of(reps)] * rng.uniform(0.7, 1.3, len(reps))).astype(int)
        owners = np.repeat(reps, book)
        created = start - rng.integers(30, 2500, len(owners))
        self.open_accounts(owners, created, np.maximum(created, self.people["hire_day"][owners]))

    def hire(self, team: np.ndarray, month: int) -> None:
        rng = self.rng
        last_day = min(self.cal.end(month), self.as_of_day)
        hire_day = rng.integers(self.cal.start(month), last_day + 1, len(team))
        level = np.where(rng.random(len(team)) < 0.7, 1, 2).astype(np.int8)
        rows = self.add_people(team, level, hire_day, False, month)
        self._log_job_change(rows, hire_day, "hire")
        self._log_compensation(rows, hire_day)

    # ------------------------------------------------------------- the accounts
    def open_accounts(
        self, owners: np.ndarray, created: np.ndarray, owner_since: np.ndarray
    ) -> np.ndarray:
        rng, n = self.rng, len(owners)
        segment = self.segment_of(owners)
        is_key = rng.random(n) < P.KEY_ACCOUNT_SHARE[segment]
        size_norm = np.exp(0.35**2 / 2) * (1 + 0.8 * P.KEY_ACCOUNT_SHARE[segment])
        size = rng.lognormal(0, 0.35, n) * np.where(is_key, 1.8, 1.0) / size_norm
        start_row = self.owner_history.size
        rows = self.accounts.append(
            owner=owners,
            segment=segment,
            region=self.teams["region"][self.people["team"][owners]],
            industry=rng.integers(0, len(INDUSTRIES), n),
            created_day=created,
            is_key=is_key,
            size=size,
            churn_day=np.full(n, NEVER),
            owner_row=np.arange(start_row, start_row + n),
            name=company_names(rng, n).astype(object),
        )
        self.owner_history.append(
            account=rows, owner=owners, valid_from=owner_since, valid_to=np.full(n, NEVER)
        )
        self._form_account_teams(rows, owner_since)
        return rows

    def _form_account_teams(self, accounts: np.ndarray, start: np.ndarray) -> None:
        rng = self.rng
        owner = self.accounts["owner"][accounts]
        has_team = (
            rng.random(len(accounts)) < P.ACCOUNT_TEAM_SHARE[self.accounts["segment"][accounts]]
        )
        accounts, owner, start = accounts[has_team], owner[has_team], start[has_team]
        if not len(accounts):
            return
        team = self.people["team"][owner]
        partner = self._random_teammates(team, exclude=owner, day=int(start.max()))
        ok = partner != NO_ONE
        partner_start = np.maximum(start[ok], self.people["hire_day"][partner[ok]])
        self.account_team.append(
            account=accounts[ok],
            person=partner[ok],
            role=np.zeros(ok.sum()),
            start=partner_start,
            end=np.full(ok.sum(), NEVER),
        )
        with_manager = rng.random(len(accounts)) < 0.5
        self.account_team.append(
            account=accounts[with_manager],
            person=self.teams["manager"][team[with_manager]],
            role=np.ones(with_manager.sum()),
            start=start[with_manager],
            end=np.full(with_manager.sum(), NEVER),
        )

    def _random_teammates(self, team: np.ndarray, exclude: np.ndarray, day: int) -> np.ndarray:
        """A random active rep on each given team other than `exclude` (NO_ONE if none)."""
        reps = self.active_reps(day)
        reps = reps[self.people["term_day"][reps] == NEVER]
        if not len(reps):
            return np.full(len(team), NO_ONE)
        reps = reps[np.argsort(self.people["team"][reps], kind="stable")]
        counts = np.bincount(self.people["team"][reps], minlength=self.teams.size)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        n = np.maximum(counts[team], 1)
        slot = (self.rng.random(len(team)) * n).astype(int)
        chosen = reps[np.minimum(offsets[team] + slot, len(reps) - 1)]
        clash = chosen == exclude
        chosen[clash] = reps[np.minimum(offsets[team] + (slot + 1) % n, len(reps) - 1)][clash]
        on_team = self.people["team"][chosen] == team
        return np.where(on_team & (chosen != exclude), chosen, NO_ONE)

    def _books(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Live accounts grouped by owner: (accounts sorted by owner, offsets, counts)."""
        live = np.nonzero(self.accounts["churn_day"] > day)[0]
        live = live[np.argsort(self.accounts["owner"][live], kind="stable")]
        counts = np.bincount(self.accounts["owner"][live], minlength=self.people.size)
        return live, np.concatenate([[0], np.cumsum(counts)]), counts

    def _pick_from_books(self, owners: np.ndarray, books: tuple) -> np.ndarray:
        live, offsets, counts = books
        n = counts[owners]
        pick = offsets[owners] + (self.rng.random(len(owners)) * np.maximum(n, 1)).astype(int)
        return np.where(n > 0, live[np.minimum(pick, len(live) - 1)], NO_ONE)

    # ------------------------------------------------------------------ selling
    def _ramp(self, people: np.ndarray, month: int) -> np.ndarray:
        months_in = np.floor(self.months_since(self.people["hire_day"][people], month)).astype(int)
        return np.where(months_in < len(P.RAMP), P.RAMP[np.clip(months_in, 0, 2)], 1.0)

    def _engagement_factor(self, people: np.ndarray) -> np.ndarray:
        return np.clip(self.people["sat"][people] / 3.7, 0.55, 1.15)

    def create_opportunities(self, month: int) -> None:
        rng, cal, p = self.rng, self.cal, self.people
        first, last = cal.start(month), min(cal.end(month), self.as_of_day)
        reps = self.reps_employed_between(first, last)
        active_from = np.maximum(first, p["hire_day"][reps])
        active_to = np.minimum(last, p["term_day"][reps])
        share = (active_to - active_from + 1) / (cal.end(month) - first + 1)
        segment = self.segment_of(reps)
        rate = (
            P.OPPS_PER_MONTH[segment]
            * P.LEVEL_OUTPUT[p["level"][reps]]
            * share
            * self._ramp(reps, month)
            * self._engagement_factor(reps)
        )
        count = rng.poisson(rate)
        owner = np.repeat(reps, count)
        created = rng.integers(np.repeat(active_from, count), np.repeat(active_to, count) + 1)
        books = self._books(first)
        book_size = books[2][owner]
        target = P.BOOK_SIZE[self.segment_of(owner)]
        p_new = np.clip(0.03 + 0.8 * (1 - book_size / target), 0.03, 0.9)
        account = np.where(
            rng.random(len(owner)) < p_new, NO_ONE, self._pick_from_books(owner, books)
        )
        new = account == NO_ONE
        account[new] = self.open_accounts(owner[new], created[new], created[new])
        self._add_opportunities(account, owner, created)

    def _add_opportunities(self, account: np.ndarray, owner: np.ndarray, created: np.ndarray):
        rng = self.rng
        segment = self.accounts["segment"][account]
        life = sample_lifecycles(rng, created, segment, self.people["skill"][owner])
        rows = self.opps.append(
            account=account,
            owner=owner,
            created=created,
            close=life.close_day,
            won=life.won,
            amount=sample_amounts(rng, segment, self.accounts["size"][account]),
            lead_source=sample_lead_sources(rng, len(owner)),
            **{f"entered_{k}": life.entered[:, k] for k in range(5)},
        )
        self._log_deal_activities(rows, life.entered, segment)

    def _log_deal_activities(
        self, opps: np.ndarray, entered: np.ndarray, segment: np.ndarray
    ) -> None:
        """Activities while a deal is worked; only what the owner's discipline logs survives."""
        rng, o = self.rng, self.opps
        owner = o["owner"][opps]
        discipline = self.people["discipline"][owner]
        stages = (entered != NOT_ENTERED).sum(axis=1)
        # the first touch on the day the deal is opened, logged or not
        first_logged = rng.random(len(opps)) < discipline
        self._log_activities(
            o["account"][opps][first_logged],
            opps[first_logged],
            owner[first_logged],
            o["created"][opps][first_logged],
            segment[first_logged],
        )
        later = rng.poisson((0.6 + 1.1 * stages) * discipline)
        idx = np.repeat(np.arange(len(opps)), later)
        span = np.maximum(o["close"][opps][idx] - o["created"][opps][idx], 1)
        day = o["created"][opps][idx] + (rng.random(len(idx)) * span).astype(np.int64)
        self._log_activities(o["account"][opps][idx], opps[idx], owner[idx], day, segment[idx])

    def _log_activities(self, account, opp, owner, day, segment) -> None:
        rng, n = self.rng, len(owner)
        if not n:
            return
        type_p = ACTIVITY_TYPE_SHARE[segment]
        kind = (rng.random(n)[:, None] > np.cumsum(type_p, axis=1)).sum(axis=1)
        occurred = day * SECONDS_PER_DAY + rng.integers(8 * 3600, 18 * 3600, n)
        discipline = self.people["discipline"][owner]
        lag_days = rng.exponential(0.2 + 12.0 * (1.0 - discipline) ** 2)
        logged = occurred + (lag_days * SECONDS_PER_DAY).astype(np.int64) + 300
        self.activities.add(
            account=account, opp=opp, owner=owner, kind=kind, occurred=occurred, logged=logged
        )

    def log_account_activities(self, month: int) -> None:
        rng, cal, p = self.rng, self.cal, self.people
        first, last = cal.start(month), min(cal.end(month), self.as_of_day)
        reps = self.reps_employed_between(first, last)
        rate = ACCOUNT_ACTIVITIES_PER_MONTH * p["discipline"][reps] * self._engagement_factor(reps)
        count = rng.poisson(rate)
        owner = np.repeat(reps, count)
        account = self._pick_from_books(owner, self._books(first))
        has = account != NO_ONE
        owner, account = owner[has], account[has]
        start = np.maximum(first, p["hire_day"][owner])
        end = np.minimum(last, p["term_day"][owner])
        day = rng.integers(start, np.maximum(end, start) + 1)
        self._log_activities(
            account, np.full(len(owner), NO_ONE), owner, day, self.accounts["segment"][account]
        )

        t = self.account_team
        live = (t["start"] <= last) & (t["end"] > last)
        live &= self.accounts["churn_day"][t["account"]] > last
        members = np.nonzero(live)[0]
        count = rng.poisson(TEAM_ACTIVITIES_PER_MONTH * p["discipline"][t["person"][members]])
        rows = np.repeat(members, count)
        account, person = t["account"][rows], t["person"][rows]
        day = rng.integers(np.maximum(first, t["start"][rows]), last + 1)
        self._log_activities(
            account, np.full(len(rows), NO_ONE), person, day, self.accounts["segment"][account]
        )

    # --------------------------------------------------- bookings and quotas
    def settle_month(self, month: int) -> None:
        cal, o, p = self.cal, self.opps, self.people
        first, last = cal.start(month), cal.end(month)
        closing = o["won"] & (o["close"] >= first) & (o["close"] <= last)
        self.bookings[month] = np.bincount(
            o["owner"][closing], weights=o["amount"][closing], minlength=p.size
        )
        reps = self.reps_employed_between(first, min(last, self.as_of_day))
        weight = P.QUOTA_MONTH_WEIGHTS[(cal.month_of_year(month) - 1) % 3] * 3
        quota = (
            P.QUOTA_HEADROOM
            * expected_monthly_bookings(self.segment_of(reps), p["level"][reps])
            * weight
            * self._ramp(reps, month)
        )
        quota = np.round(quota, -2)
        self.quotas.add(person=reps, month=month, amount=quota)
        by_person = np.zeros(p.size)
        by_person[reps] = quota
        self.quota_by_month[month] = by_person

    def attainment(self, people: np.ndarray, month: int, window: int) -> np.ndarray:
        """Bookings / quota over the last `window` months (1.0 where no quota yet)."""
        months = [m for m in range(month - window + 1, month + 1) if m in self.bookings]
        size = self.people.size

        def total(series: dict[int, np.ndarray]) -> np.ndarray:
            return sum(np.pad(series[m], (0, size - len(series[m]))) for m in months)

        quota = total(self.quota_by_month)[people]
        booked = total(self.bookings)[people]
        return np.where(quota > 0, booked / np.maximum(quota, 1), 1.0)

    # ----------------------------------------------------------------- HR year
    def pay_round(self, month: int) -> None:
        """January: band midpoints move with the market; raises follow the last rating."""
        rng, p = self.rng, self.people
        everyone = np.nonzero(
            (p["hire_day"] <= self.cal.start(month)) & (p["term_day"] >= self.cal.start(month))
        )[0]
        rating = p["last_rating"][everyone].astype(float)
        rating = np.where(rating == 0, 3, rating)
        raise_pct = np.clip(
            0.022 + 0.016 * (rating - 3) + rng.normal(0, 0.008, len(everyone)), 0.0, 0.09
        )
        p["salary"][everyone] *= 1 + raise_pct
        p["band_mid"][everyone] = self.band_mid(everyone, month)
        self._log_compensation(everyone, self.cal.start(month))

    def reorg(self, month: int) -> None:
        """January: a few reps move to another team of the same segment."""
        rng, p = self.rng, self.people
        day = self.cal.start(month)
        reps = self.active_reps(day)
        reps = reps[
            (p["term_day"][reps] == NEVER) & (rng.random(len(reps)) < P.REORG_TRANSFER_SHARE)
        ]
        for rep in reps:
            segment = self.teams["segment"][p["team"][rep]]
            options = np.nonzero(
                (self.teams["segment"] == segment) & (np.arange(self.teams.size) != p["team"][rep])
            )[0]
            if not len(options):
                continue
            team = rng.choice(options)
            p["team"][rep], p["manager"][rep] = team, self.teams["manager"][team]
            p["manager_change_day"][rep] = day
            self._log_job_change(np.array([rep]), day, "transfer")
            leaving = (self.account_team["person"] == rep) & (self.account_team["end"] == NEVER)
            self.account_team["end"][leaving] = day

    def review(self, month: int) -> None:
        """June and December: ratings driven by six-month attainment; some promotions."""
        rng, p = self.rng, self.people
        day = self.cal.end(month) - 3
        if day > self.as_of_day:
            return
        reps = self.active_reps(day)
        reps = reps[self.months_since(p["hire_day"][reps], month) >= 3]
        att6 = self.attainment(reps, month, 6)
        score = 3 + 2.2 * (np.minimum(att6, 1.6) - 0.9) + 0.3 * p["skill"][reps]
        rating = np.clip(np.round(score + rng.normal(0, 0.5, len(reps))), 1, 5).astype(int)
        p["last_rating"][reps] = rating
        self.reviews.add(person=reps, day=day, rating=rating)

        effective = self.cal.end(month) + 1
        if effective > self.as_of_day:
            return
        months_since_promo = self.months_since(p["promo_day"][reps], month)
        promote = reps[
            (rating >= 4)
            & (months_since_promo >= 12)
            & (p["level"][reps] < 4)
            & (rng.random(len(reps)) < 0.4)
        ]
        p["level"][promote] += 1
        p["promo_day"][promote] = effective
        p["band_mid"][promote] = self.band_mid(promote, month)
        p["salary"][promote] = np.maximum(
            p["salary"][promote] * 1.06,
            p["band_mid"][promote] * rng.uniform(0.92, 0.99, len(promote)),
        )
        self._log_job_change(promote, effective, "promotion")
        self._log_compensation(promote, effective)

    def replace_departing_managers(self, month: int) -> None:
        rng, p = self.rng, self.people
        last = min(self.cal.end(month), self.as_of_day) - 1  # the successor starts next day
        if last < self.cal.start(month):
            return
        teams = np.nonzero(rng.random(self.teams.size) < P.MANAGER_MONTHLY_EXIT)[0]
        for team in teams:
            old = self.teams["manager"][team]
            leave_day = int(rng.integers(self.cal.start(month), last + 1))
            p["term_day"][old] = leave_day
            p["term_type"][old] = TERM_VOLUNTARY
            p["term_reason"][old] = "Career advancement"
            self._log_job_change(np.array([old]), leave_day, "termination")
            new = self.add_people(
                np.array([team]), np.array([5]), np.array([leave_day + 1]), True, month
            )
            self._log_job_change(new, leave_day + 1, "hire")
            self._log_compensation(new, leave_day + 1)
            self.teams["manager"][team] = new[0]
            members = self.active_reps(leave_day + 1)
            members = members[p["team"][members] == team]
            p["manager"][members] = new[0]
            p["manager_change_day"][members] = leave_day + 1
            self._log_job_change(members, leave_day + 1, "manager_change")
            gone = (self.account_team["person"] == old) & (self.account_team["end"] == NEVER)
            self.account_team["end"][gone] = leave_day

    # ------------------------------------------------------------ satisfaction
    def update_satisfaction(self, month: int) -> None:
        rng, p = self.rng, self.people
        reps = self.active_reps(self.cal.end(month))
        shortfall = np.clip(1 - self.attainment(reps, month, 3), 0, 1)
        pay_below = np.clip(1 - p["salary"][reps] / p["band_mid"][reps], 0, None)
        new_manager = self.months_since(p["manager_change_day"][reps], month) < 1
        peers = self._teammate_exits(reps, month, window_months=1)
        stalled = np.clip(self.months_since(p["promo_day"][reps], month) - 18, 0, None)
        stress = (
            0.10 * shortfall
            + 0.6 * pay_below
            + 0.25 * new_manager
            + 0.2 * peers
            + 0.004 * stalled
            + 0.9 * (rng.random(len(reps)) < 0.02)
        )
        sat = p["sat"][reps]
        sat = sat + 0.15 * (p["base_sat"][reps] - sat) - stress + rng.normal(0, 0.12, len(reps))
        p["sat"][reps] = np.clip(sat, 1.0, 5.0)

    def survey(self, month: int) -> None:
        rng, p = self.rng, self.people
        day = self.cal.end(month) - 10
        if day > self.as_of_day:
            return
        reps = self.active_reps(day)
        reps = reps[rng.random(len(reps)) < P.SURVEY_RESPONSE_RATE]
        sat, n = p["sat"][reps], len(reps)

        def score(x: np.ndarray) -> np.ndarray:
            return np.clip(np.round(x), 1, 5).astype(int)

        self.surveys.add(
            person=reps,
            day=day - rng.integers(0, 7, n),
            engagement=score(sat + rng.normal(0, 0.35, n)),
            satisfaction=score(sat - 0.15 + rng.normal(0, 0.5, n)),
            intent=score(
                4.5 - 28 * p["last_hazard"][reps] + 0.2 * (sat - 3.5) + rng.normal(0, 0.5, n)
            ),
        )

    # --------------------------------------------------------------- leaving
    def _teammate_exits(self, reps: np.ndarray, month: int, window_months: int) -> np.ndarray:
        end = self.cal.end(month)
        first = end - int(30.44 * window_months)
        per_team = np.array(
            [sum(first < d <= end for d in days) for days in self.team_voluntary_exit_days]
        )
        return per_team[self.people["team"][reps]]

    def exit_drivers(self, reps: np.ndarray, month: int) -> np.ndarray:
        """Logit contribution of each named driver (columns in P.DRIVERS order)."""
        p = self.people
        tenure = self.months_since(p["hire_day"][reps], month)
        shortfall = np.clip(1 - self.attainment(reps, month, 3), 0, 1) * (tenure >= 3)
        pay_below = np.clip(1 - p["salary"][reps] / p["band_mid"][reps], 0, None)
        stalled = np.clip(self.months_since(p["promo_day"][reps], month) - 18, 0, 60)
        manager_changed = self.months_since(p["manager_change_day"][reps], month) < 6
        disengaged = np.clip(3.6 - p["sat"][reps], 0, None)
        peers = np.minimum(self._teammate_exits(reps, month, 6), 3)
        return np.column_stack(
            [
                P.HAZARD_ATTAINMENT * shortfall,
                P.HAZARD_PAY * pay_below,
                P.HAZARD_PROMOTION * stalled,
                P.HAZARD_MANAGER_CHANGE * manager_changed,
                P.HAZARD_ENGAGEMENT * disengaged,
                P.HAZARD_PEERS * peers,
                P.HAZARD_NEW_HIRE * (tenure < 12),
            ]
        )

    def decide_exits(self, month: int) -> None:
        rng, p, cal = self.rng, self.people, self.cal
        reps = self.active_reps(cal.end(month))
        reps = reps[p["term_day"][reps] == NEVER]
        drivers = self.exit_drivers(reps, month)
        hazard = _sigmoid(P.HAZARD_INTERCEPT + drivers.sum(axis=1))
        p["last_hazard"][reps] = hazard
        dominant = drivers.argmax(axis=1)
        leaves = rng.random(len(reps)) < hazard

        att6 = self.attainment(reps, month, 6)
        tenure = self.months_since(p["hire_day"][reps], month)
        fired_p = 0.002 + 0.05 * ((att6 < 0.4) & (p["last_rating"][reps] <= 2) & (tenure >= 9))
        fired = ~leaves & (rng.random(len(reps)) < fired_p)

        self.rep_month_truth.add(
            person=reps,
            month=month,
            hazard=hazard,
            dominant=dominant,
            **{f"driver_{name}": drivers[:, k] for k, name in enumerate(P.DRIVERS)},
            satisfaction=p["sat"][reps],
            attainment_3m=self.attainment(reps, month, 3),
        )
        if month + 1 >= cal.months:
            return
        term_day = cal.random_days(rng, month + 1, len(reps))
        in_time = term_day <= self.as_of_day
        voluntary = leaves & in_time
        involuntary = fired & in_time
        self._resign(reps[voluntary], term_day[voluntary], drivers[voluntary], month)
        self._dismiss(reps[involuntary], term_day[involuntary], att6[involuntary], month)

    def _resign(self, reps: np.ndarray, day: np.ndarray, drivers: np.ndarray, month: int) -> None:
        rng, p = self.rng, self.people
        order = np.argsort(-drivers, axis=1)
        stated = np.array([P.EXIT_REASONS[P.DRIVERS[k]] for k in order[:, 0]], dtype=object)
        other = rng.random(len(reps)) < 0.12
        stated[other] = rng.choice(P.OTHER_EXIT_REASONS, size=int(other.sum()))
        p["term_day"][reps], p["term_type"][reps], p["term_reason"][reps] = (
            day,
            TERM_VOLUNTARY,
            stated,
        )
        for team, d in zip(p["team"][reps], day, strict=True):
            self.team_voluntary_exit_days[team].append(int(d))
        interviewed = rng.random(len(reps)) < 0.75
        second = np.array([P.EXIT_REASONS[P.DRIVERS[k]] for k in order[:, 1]], dtype=object)
        second_strong = drivers[np.arange(len(reps)), order[:, 1]] > 0.2
        would_return = rng.random(len(reps)) < np.where(np.isin(order[:, 0], [1, 2]), 0.5, 0.25)
        self.exit_interviews.add(
            person=reps[interviewed],
            day=day[interviewed] - rng.integers(0, 5, interviewed.sum()),
            primary=stated[interviewed],
            secondary=np.where(second_strong & ~other, second, None)[interviewed],
            would_return=would_return[interviewed],
        )
        self._depart(reps, day, voluntary=True, month=month)

    def _dismiss(self, reps: np.ndarray, day: np.ndarray, att6: np.ndarray, month: int) -> None:
        p = self.people
        p["term_day"][reps], p["term_type"][reps] = day, TERM_INVOLUNTARY
        performance, restructuring = P.INVOLUNTARY_REASONS
        p["term_reason"][reps] = np.where(att6 < 0.6, performance, restructuring)
        self._depart(reps, day, voluntary=False, month=month)

    def _depart(self, reps: np.ndarray, day: np.ndarray, voluntary: bool, month: int) -> None:
        """Termination record, backfill, account handovers and the leavers' open deals."""
        if not len(reps):
            return
        rng, p, t = self.rng, self.people, self.account_team
        self._log_job_change(reps, day, "termination")
        backfill_months = month + 1 + rng.geometric(1 / P.BACKFILL_MEAN_MONTHS, len(reps))
        self.pending_hires.extend(
            zip(backfill_months.tolist(), p["team"][reps].tolist(), strict=True)
        )
        ends = np.isin(t["person"], reps) & (t["end"] == NEVER)
        t["end"][ends] = p["term_day"][t["person"][ends]]
        self._redirect_pending_handovers(reps)
        self._hand_over_accounts(reps, voluntary)

    def _redirect_pending_handovers(self, leavers: np.ndarray) -> None:
        h = self.pending_handovers
        hit = np.nonzero(np.isin(h["successor"], leavers))[0]
        if len(hit):
            team = self.people["team"][h["successor"][hit]]
            h["successor"][hit] = self._fallback_successors(
                team, h["successor"][hit], h["day"][hit]
            )

    def _fallback_successors(
        self, team: np.ndarray, exclude: np.ndarray, day: np.ndarray
    ) -> np.ndarray:
        chosen = self._random_teammates(team, exclude, int(day.max()))
        return np.where(chosen == NO_ONE, self.teams["manager"][team], chosen)

    def _hand_over_accounts(self, reps: np.ndarray, voluntary: bool) -> None:
        """Each leaver's live accounts pass to a teammate after a delay; some are lost.

        The loss probability rises when the account was single-threaded (no second account
        executive on it), when the leaver logged poorly and when the handover was late; it
        falls for key accounts whose handover was planned during the notice period.
        """
        rng, a, p, t = self.rng, self.accounts, self.people, self.account_team
        accounts = np.nonzero(np.isin(a["owner"], reps) & (a["churn_day"] == NEVER))[0]
        if not len(accounts):
            return
        n = len(accounts)
        leaver = a["owner"][accounts]
        term = p["term_day"][leaver]
        term_of_account = np.full(a.size, NEVER)
        term_of_account[accounts] = term
        account_term = term_of_account[t["account"]]
        staffed = (t["role"] == 0) & (t["start"] <= account_term) & (t["end"] > account_term)
        single_threaded = ~np.isin(accounts, t["account"][staffed])
        discipline = p["discipline"][leaver]
        planned = (
            a["is_key"][accounts] & voluntary & (rng.random(n) < P.PLANNED_HANDOVER_PROBABILITY)
        )
        delay = np.where(
            planned, rng.integers(0, 6, n), np.ceil(rng.exponential(P.HANDOVER_DELAY_MEAN_DAYS, n))
        ).astype(int)
        logit = (
            P.LOSS_INTERCEPT
            + P.LOSS_SINGLE_THREADED * single_threaded
            + P.LOSS_POOR_DOCUMENTATION * (1 - discipline)
            + P.LOSS_DELAY_PER_30_DAYS * delay / 30
            + P.LOSS_PLANNED_KEY_HANDOVER * planned
        )
        p_loss = _sigmoid(logit)
        lost = rng.random(n) < p_loss
        handover_day = term + delay
        successor = self._fallback_successors(p["team"][leaver], leaver, term)
        self.pending_handovers.append(account=accounts, successor=successor, day=handover_day)
        a["churn_day"][accounts[lost]] = handover_day[lost]
        self.handover_truth.add(
            account=accounts,
            leaver=leaver,
            term_day=term,
            handover_day=handover_day,
            single_threaded=single_threaded,
            discipline=discipline,
            planned=planned,
            delay_days=delay,
            p_loss=p_loss,
            lost=lost,
            voluntary=voluntary,
        )
        self._move_open_deals(reps, accounts, successor, handover_day, lost)

    def _move_open_deals(self, reps, accounts, successor, handover_day, lost) -> None:
        """Leavers' open deals go to the account's successor, or die with a lost account."""
        o, p = self.opps, self.people
        deals = np.nonzero(np.isin(o["owner"], reps))[0]
        deals = deals[o["close"][deals] > p["term_day"][o["owner"][deals]]]
        if not len(deals):
            return
        where = np.minimum(np.searchsorted(accounts, o["account"][deals]), len(accounts) - 1)
        known = accounts[where] == o["account"][deals]
        dies = known & lost[where]
        dead = deals[dies]
        close = np.maximum(handover_day[where][dies], o["created"][dead])
        o["close"][dead] = close
        o["won"][dead] = False
        for k in range(5):
            col = o[f"entered_{k}"]
            col[dead] = np.where(col[dead] > close, NOT_ENTERED, col[dead])
        moved = deals[known & ~dies]
        o["owner"][moved] = successor[where][known & ~dies]
        orphans = deals[~known]
        owner_team = p["team"][o["owner"][orphans]]
        o["owner"][orphans] = (
            self._fallback_successors(
                owner_team, o["owner"][orphans], p["term_day"][o["owner"][orphans]]
            )
            if len(orphans)
            else o["owner"][orphans]
        )

    def apply_handovers(self, before_day: int) -> None:
        h, a, oh = self.pending_handovers, self.accounts, self.owner_history
        due = h["day"] < before_day
        if not due.any():
            return
        account, successor, day = h["account"][due], h["successor"][due], h["day"][due]
        oh["valid_to"][a["owner_row"][account]] = day
        rows = oh.append(
            account=account, owner=successor, valid_from=day, valid_to=np.full(len(account), NEVER)
        )
        a["owner"][account] = successor
        a["owner_row"][account] = rows
        keep = ~due
        remaining = {k: h[k][keep].copy() for k in ("account", "successor", "day")}
        h.size = 0
        h.append(**remaining)

    # ----------------------------------------------------------------- the run
    def run(self) -> Company:
        cal = self.cal
        self.build_org()
        for month in range(-cal.seed_months, 0):
            self.create_opportunities(month)
        for month in range(cal.months):
            self.apply_handovers(cal.start(month))
            due = [team for m, team in self.pending_hires if m == month]
            if due:
                self.hire(np.array(due), month)
            if cal.month_of_year(month) == 1 and month > 0:
                self.pay_round(month)
                self.reorg(month)
            self.create_opportunities(month)
            self.log_account_activities(month)
            self.settle_month(month)
            if cal.month_of_year(month) in P.REVIEW_MONTHS:
                self.review(month)
            self.replace_departing_managers(month)
            self.update_satisfaction(month)
            if cal.month_of_year(month) in P.SURVEY_MONTHS:
                self.survey(month)
            self.decide_exits(month)
        self.apply_handovers(self.as_of_day + 1)
        return self
