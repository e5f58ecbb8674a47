"""The simulated company: its state, what can be asked of it, and the monthly loop.

Each month: due account handovers take effect, vacancies are backfilled, January brings the
pay round and a small reorg, reps create opportunities (whose whole life is sampled at
creation) and log activities, the month's bookings and quotas settle, June and December
bring reviews and promotions, managers sometimes leave, latent satisfaction moves with the
month's stressors, quarterly surveys sample it, and finally every rep faces a voluntary
exit hazard for the next month built from named drivers (see `leaving.exit_drivers`).

The processes live in their own modules as plain functions of the company and the random
generator: `org` (the starting org, hiring, accounts), `selling` (opportunities, bookings,
quotas), `activities` (what reps log in the CRM), `hr_events` (pay, reorgs, reviews,
promotions, manager changes, satisfaction, surveys), `leaving` (resignations and
dismissals) and `handovers` (leavers' accounts passing on, or lost). This module only holds
the state they change and calls them in order, so the order of random draws is fixed here.

Nothing dated after the as-of date changes state: the output is what a company's systems
would show on that day.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from . import activities, handovers, hr_events, leaving, org, selling
from . import params as P
from .calendar import DAYS_PER_MONTH, Calendar
from .selling import N_OPEN_STAGES
from .store import Columns, EventLog


class Company:
    """State of the simulated company plus the logs that become its exports."""

    def __init__(self, reps: int, months: int, seed: int, as_of: dt.date) -> None:
        self.rng = np.random.default_rng(seed)
        self.cal = Calendar(as_of, months)
        self.target_reps = reps
        # Initial capacities only save regrowth; every store grows as needed.
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
                **{f"entered_{k}": np.int32 for k in range(N_OPEN_STAGES)},
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

    # ---------------------------------------------------------------- queries
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
        """Months from each day to the end of `month`."""
        return (self.cal.end(month) - np.asarray(day)) / DAYS_PER_MONTH

    def band_mid(self, people: np.ndarray, month: int) -> np.ndarray:
        level = self.people["level"][people].astype(int)
        return P.band_midpoint(level, self.segment_of(people), self.cal.year_offset(month))

    def attainment(self, people: np.ndarray, month: int, window: int) -> np.ndarray:
        """Bookings / quota over the last `window` months (1.0 where no quota yet)."""
        months = [m for m in range(month - window + 1, month + 1) if m in self.bookings]
        size = self.people.size

        def total(series: dict[int, np.ndarray]) -> np.ndarray:
            return sum(np.pad(series[m], (0, size - len(series[m]))) for m in months)

        quota = total(self.quota_by_month)[people]
        booked = total(self.bookings)[people]
        return np.where(quota > 0, booked / np.maximum(quota, 1), 1.0)

    def teammate_exits(self, reps: np.ndarray, month: int, window_months: int) -> np.ndarray:
        """Voluntary exits from each rep's team in the `window_months` up to `month`'s end."""
        end = self.cal.end(month)
        first = end - int(DAYS_PER_MONTH * window_months)
        per_team = np.array(
            [sum(first < d <= end for d in days) for days in self.team_voluntary_exit_days]
        )
        return per_team[self.people["team"][reps]]

    # -------------------------------------------------------------- HR records
    def log_job_change(self, people: np.ndarray, day: np.ndarray | int, change: str) -> None:
        p = self.people
        self.job_history.add(
            person=people,
            day=day,
            change=change,
            level=p["level"][people],
            team=p["team"][people],
            manager=p["manager"][people],
        )

    def log_compensation(self, people: np.ndarray, day: np.ndarray | int) -> None:
        p = self.people
        segment = self.segment_of(people)
        self.compensation.add(
            person=people,
            day=day,
            salary=np.round(p["salary"][people], P.MONEY_DECIMALS),
            variable=np.round(p["salary"][people] * P.VARIABLE_SHARE[segment], P.MONEY_DECIMALS),
            band_mid=np.round(p["band_mid"][people], P.MONEY_DECIMALS),
        )

    # ----------------------------------------------------------------- the run
    def run(self) -> Company:
        rng, cal = self.rng, self.cal
        org.build_org(self, rng)
        for month in range(-cal.seed_months, 0):
            selling.create_opportunities(self, rng, month)
        for month in range(cal.months):
            handovers.apply_handovers(self, cal.start(month))
            due = [team for m, team in self.pending_hires if m == month]
            if due:
                org.hire(self, rng, np.array(due), month)
            if cal.month_of_year(month) == 1 and month > 0:
                hr_events.pay_round(self, rng, month)
                hr_events.reorg(self, rng, month)
            selling.create_opportunities(self, rng, month)
            activities.log_account_activities(self, rng, month)
            selling.settle_month(self, month)
            if cal.month_of_year(month) in P.REVIEW_MONTHS:
                hr_events.review(self, rng, month)
            hr_events.replace_departing_managers(self, rng, month)
            hr_events.update_satisfaction(self, rng, month)
            if cal.month_of_year(month) in P.SURVEY_MONTHS:
                hr_events.survey(self, rng, month)
            leaving.decide_exits(self, rng, month)
        handovers.apply_handovers(self, self.as_of_day + 1)
        return self
