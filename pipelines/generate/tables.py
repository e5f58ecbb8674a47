"""Turn a simulated company into the canonical contract tables and its ground truth.

Everything is cut at the as-of date: rows dated later do not exist yet, deals still open
on that day show their current stage and planned close date, and an owner or team row
still in force has no end date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.contract import ACCOUNT_TEAM_ROLES, ACTIVITY_TYPES, STAGES, TABLES

from . import params as P
from .calendar import SECONDS_PER_DAY
from .names import INDUSTRIES, REGIONS, emails
from .selling import NOT_ENTERED
from .simulation import Company
from .store import NEVER, NO_ONE, TERM_INVOLUNTARY, TERM_VOLUNTARY

SEGMENT_NAMES = np.array(["SMB", "Mid-Market", "Enterprise"], dtype=object)


def _ids(prefix: str, rows: np.ndarray, width: int) -> np.ndarray:
    """Stable string ids such as U00042 for integer rows (-1 becomes missing)."""
    rows = np.asarray(rows)
    if not len(rows):
        return np.array([], dtype=object)
    ids = np.char.add(prefix, np.char.zfill((rows + 1).astype(str), width)).astype(object)
    ids[rows == NO_ONE] = None
    return ids


def _dates(days: np.ndarray, as_of: int | None = None) -> pd.Series:
    """Days since epoch as datetime64 dates; days after `as_of` (or never) become NaT."""
    days = np.asarray(days, dtype=np.int64)
    missing = days >= NEVER if as_of is None else days > as_of
    values = np.where(missing, 0, days).astype("datetime64[D]").astype("datetime64[s]")
    return pd.Series(values).where(~missing)


def _timestamps(seconds: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(seconds, dtype=np.int64).astype("datetime64[s]"))


def _frame(name: str, columns: dict) -> pd.DataFrame:
    """A contract table with its columns in contract order."""
    frame = pd.DataFrame(columns)
    return frame[list(TABLES[name].columns)]


class CompanyTables:
    """The contract tables of one simulated company as DataFrames."""

    def __init__(self, company: Company) -> None:
        self.c = company
        self.as_of = company.as_of_day
        people = company.people
        self.hired = np.nonzero(people["hire_day"] <= self.as_of)[0]

    def user_id(self, people: np.ndarray) -> np.ndarray:
        return _ids("U", people, 5)

    def employee_id(self, people: np.ndarray) -> np.ndarray:
        return _ids("E", people, 5)

    def team_name(self, teams: np.ndarray) -> np.ndarray:
        return self.c.teams["name"][teams]

    # --------------------------------------------------------------- CRM
    def crm_users(self) -> pd.DataFrame:
        p, who = self.c.people, self.hired
        region = self.c.teams["region"][p["team"][who]]
        return _frame(
            "crm_users",
            {
                "user_id": self.user_id(who),
                "employee_id": self.employee_id(who),
                "name": p["name"][who],
                "email": self._emails(who),
                "team": self.team_name(p["team"][who]),
                "region": np.array(REGIONS, dtype=object)[region],
                "manager_user_id": self.user_id(p["manager"][who]),
                "is_active": p["term_day"][who] > self.as_of,
            },
        )

    def _emails(self, who: np.ndarray) -> np.ndarray:
        return emails(self.c.people["name"][who], who + 1).astype(object)

    def crm_accounts(self) -> pd.DataFrame:
        a = self.c.accounts
        rows = np.nonzero(a["created_day"] <= self.as_of)[0]
        return _frame(
            "crm_accounts",
            {
                "account_id": _ids("A", rows, 7),
                "name": a["name"][rows],
                "industry": np.array(INDUSTRIES, dtype=object)[a["industry"][rows]],
                "segment": SEGMENT_NAMES[a["segment"][rows]],
                "region": np.array(REGIONS, dtype=object)[a["region"][rows]],
                "owner_user_id": self.user_id(a["owner"][rows]),
                "created_at": _dates(a["created_day"][rows]),
                "is_key_account": a["is_key"][rows],
            },
        )

    def crm_account_owner_history(self) -> pd.DataFrame:
        h = self.c.owner_history
        rows = np.nonzero(h["valid_from"] <= self.as_of)[0]
        rows = rows[np.lexsort((h["valid_from"][rows], h["account"][rows]))]
        return _frame(
            "crm_account_owner_history",
            {
                "account_id": _ids("A", h["account"][rows], 7),
                "owner_user_id": self.user_id(h["owner"][rows]),
                "valid_from": _dates(h["valid_from"][rows]),
                "valid_to": _dates(h["valid_to"][rows], as_of=self.as_of),
            },
        )

    def crm_account_team(self) -> pd.DataFrame:
        t = self.c.account_team
        rows = np.nonzero((t["start"] <= self.as_of) & (t["end"] > t["start"]))[0]
        rows = rows[np.lexsort((t["start"][rows], t["account"][rows]))]
        return _frame(
            "crm_account_team",
            {
                "account_id": _ids("A", t["account"][rows], 7),
                "user_id": self.user_id(t["person"][rows]),
                "role": np.array(ACCOUNT_TEAM_ROLES, dtype=object)[t["role"][rows]],
                "start_date": _dates(t["start"][rows]),
                "end_date": _dates(t["end"][rows], as_of=self.as_of),
            },
        )

    def _stage_days(self, rows: np.ndarray) -> np.ndarray:
        """Entry day of each open stage as known on the as-of date (n x 5, or NOT_ENTERED)."""
        o = self.c.opps
        entered = np.column_stack([o[f"entered_{k}"][rows] for k in range(5)]).astype(np.int64)
        return np.where(entered > self.as_of, NOT_ENTERED, entered)

    def crm_opportunities(self) -> pd.DataFrame:
        o = self.c.opps
        rows = np.nonzero(o["created"] <= self.as_of)[0]
        closed = o["close"][rows] <= self.as_of
        won = closed & o["won"][rows]
        entered = self._stage_days(rows)
        current = np.where(entered != NOT_ENTERED, np.arange(5), -1).max(axis=1)
        stage = np.array(STAGES, dtype=object)[current]
        stage[closed] = np.where(won[closed], "Closed Won", "Closed Lost")
        return _frame(
            "crm_opportunities",
            {
                "opportunity_id": _ids("O", rows, 8),
                "account_id": _ids("A", o["account"][rows], 7),
                "owner_user_id": self.user_id(o["owner"][rows]),
                "created_at": _dates(o["created"][rows]),
                "close_date": _dates(o["close"][rows]),
                "stage": stage,
                "is_closed": closed,
                "is_won": won,
                "amount": o["amount"][rows],
                "currency": "USD",
                "lead_source": P.LEAD_SOURCES.astype(object)[o["lead_source"][rows]],
            },
        )

    def crm_opportunity_stage_history(self) -> pd.DataFrame:
        o = self.c.opps
        rows = np.nonzero(o["created"] <= self.as_of)[0]
        entered = self._stage_days(rows)
        close = o["close"][rows]
        closed = close <= self.as_of
        closing_stage = np.where(o["won"][rows], 5, 6)
        days = np.column_stack([entered, np.where(closed, close, NOT_ENTERED)])
        stage_index = np.column_stack([np.tile(np.arange(5), (len(rows), 1)), closing_stage])
        opp_index = np.repeat(rows, 6).reshape(len(rows), 6)
        keep = days != NOT_ENTERED
        return _frame(
            "crm_opportunity_stage_history",
            {
                "opportunity_id": _ids("O", opp_index[keep], 8),
                "stage": np.array(STAGES, dtype=object)[stage_index[keep]],
                "entered_at": _dates(days[keep]),
            },
        )

    def crm_activities(self) -> pd.DataFrame:
        act = self.c.activities.columns()
        p = self.c.people
        end_of_as_of = (self.as_of + 1) * SECONDS_PER_DAY
        occurred_day = act["occurred"] // SECONDS_PER_DAY
        keep = (
            (act["occurred"] >= self.c.cal.window_start * SECONDS_PER_DAY)
            & (act["logged"] < end_of_as_of)
            & (occurred_day <= p["term_day"][act["owner"]])
            & (occurred_day >= p["hire_day"][act["owner"]])
        )
        order = np.lexsort((act["owner"][keep], act["occurred"][keep]))
        picked = {k: v[keep][order] for k, v in act.items()}
        return _frame(
            "crm_activities",
            {
                "activity_id": _ids("T", np.arange(len(order)), 9),
                "account_id": _ids("A", picked["account"], 7),
                "opportunity_id": _ids("O", picked["opp"], 8),
                "owner_user_id": self.user_id(picked["owner"]),
                "activity_type": np.array(ACTIVITY_TYPES, dtype=object)[picked["kind"]],
                "occurred_at": _timestamps(picked["occurred"]),
                "logged_at": _timestamps(picked["logged"]),
            },
        )

    # ---------------------------------------------------------------- HR
    def hr_employees(self) -> pd.DataFrame:
        p, who = self.c.people, self.hired
        gone = p["term_day"][who] <= self.as_of
        term_type = np.array([None, "voluntary", "involuntary"], dtype=object)[p["term_type"][who]]
        return _frame(
            "hr_employees",
            {
                "employee_id": self.employee_id(who),
                "name": p["name"][who],
                "email": self._emails(who),
                "hire_date": _dates(p["hire_day"][who]),
                "termination_date": _dates(p["term_day"][who], as_of=self.as_of),
                "termination_type": np.where(gone, term_type, None),
                "termination_reason": np.where(gone, p["term_reason"][who], None),
                "job_title": np.array(
                    [P.LEVEL_TITLES[int(lv)] for lv in p["level"][who]], dtype=object
                ),
                "job_level": p["level"][who].astype(int),
                "team": self.team_name(p["team"][who]),
                "manager_employee_id": self.employee_id(p["manager"][who]),
                "location": p["location"][who],
                "gender": p["gender"][who],
                "birth_year": p["birth_year"][who],
            },
        )

    def hr_job_history(self) -> pd.DataFrame:
        j = self.c.job_history.columns()
        keep = j["day"] <= self.as_of
        j = {k: v[keep] for k, v in j.items()}
        order = np.lexsort((j["day"], j["person"]))
        return _frame(
            "hr_job_history",
            {
                "employee_id": self.employee_id(j["person"][order]),
                "effective_date": _dates(j["day"][order]),
                "change_type": j["change"][order],
                "job_level": j["level"][order].astype(int),
                "team": self.team_name(j["team"][order]),
                "manager_employee_id": self.employee_id(j["manager"][order]),
            },
        )

    def hr_compensation(self) -> pd.DataFrame:
        c = self.c.compensation.columns()
        keep = c["day"] <= self.as_of
        c = {k: v[keep] for k, v in c.items()}
        order = np.lexsort((c["day"], c["person"]))
        frame = _frame(
            "hr_compensation",
            {
                "employee_id": self.employee_id(c["person"][order]),
                "effective_date": _dates(c["day"][order]),
                "base_salary": c["salary"][order],
                "variable_target": c["variable"][order],
                "band_midpoint": c["band_mid"][order],
                "currency": "USD",
            },
        )
        return frame.drop_duplicates(["employee_id", "effective_date"], keep="last")

    def hr_performance_reviews(self) -> pd.DataFrame:
        r = self.c.reviews.columns()
        order = np.lexsort((r["day"], r["person"]))
        return _frame(
            "hr_performance_reviews",
            {
                "employee_id": self.employee_id(r["person"][order]),
                "review_date": _dates(r["day"][order]),
                "rating": r["rating"][order].astype(int),
            },
        )

    def hr_engagement_surveys(self) -> pd.DataFrame:
        s = self.c.surveys.columns()
        order = np.lexsort((s["day"], s["person"]))
        return _frame(
            "hr_engagement_surveys",
            {
                "employee_id": self.employee_id(s["person"][order]),
                "survey_date": _dates(s["day"][order]),
                "engagement": s["engagement"][order],
                "satisfaction": s["satisfaction"][order],
                "intent_to_stay": s["intent"][order],
            },
        )

    def hr_exit_interviews(self) -> pd.DataFrame:
        e = self.c.exit_interviews.columns()
        keep = self.c.people["term_day"][e["person"]] <= self.as_of
        e = {k: v[keep] for k, v in e.items()}
        order = np.argsort(e["person"], kind="stable")
        return _frame(
            "hr_exit_interviews",
            {
                "employee_id": self.employee_id(e["person"][order]),
                "interview_date": _dates(e["day"][order]),
                "primary_reason": e["primary"][order],
                "secondary_reason": e["secondary"][order],
                "would_return": e["would_return"][order],
            },
        )

    def sales_quotas(self) -> pd.DataFrame:
        q = self.c.quotas.columns()
        cal = self.c.cal
        starts = np.array([cal.start(m) for m in range(cal.months)])
        ends = np.array([cal.end(m) for m in range(cal.months)])
        order = np.lexsort((q["month"], q["person"]))
        return _frame(
            "sales_quotas",
            {
                "employee_id": self.employee_id(q["person"][order]),
                "period_start": _dates(starts[q["month"][order]]),
                "period_end": _dates(ends[q["month"][order]]),
                "quota_amount": q["amount"][order],
            },
        )

    def all(self) -> dict[str, pd.DataFrame]:
        """Every contract table, in contract order."""
        return {name: getattr(self, name)() for name in TABLES}

    # ------------------------------------------------------------- truth
    def truth(self) -> dict[str, pd.DataFrame]:
        """What no pipeline step may read: latent traits, true hazards and loss odds."""
        c, p = self.c, self.c.people
        reps = np.nonzero(~p["is_manager"] & (p["hire_day"] <= self.as_of))[0]
        latent = pd.DataFrame(
            {
                "employee_id": self.employee_id(reps),
                "skill": p["skill"][reps].round(4),
                "logging_discipline": p["discipline"][reps].round(4),
                "baseline_satisfaction": p["base_sat"][reps].round(4),
            }
        )
        t = c.rep_month_truth.columns()
        ends = np.array([c.cal.end(m) for m in range(c.cal.months)])
        term = p["term_day"][t["person"]]
        month_end = ends[t["month"]]
        left_type = p["term_type"][t["person"]]
        rep_months = pd.DataFrame(
            {
                "employee_id": self.employee_id(t["person"]),
                "month_end": _dates(month_end),
                "monthly_exit_hazard": t["hazard"].round(6),
                "dominant_driver": np.array(P.DRIVERS, dtype=object)[t["dominant"]],
                **{f"driver_{n}": t[f"driver_{n}"].round(4) for n in P.DRIVERS},
                "latent_satisfaction": t["satisfaction"].round(4),
                "attainment_3m": t["attainment_3m"].round(4),
                "left_voluntarily_next_month": (left_type == TERM_VOLUNTARY)
                & (term > month_end)
                & (term <= month_end + 31)
                & (term <= self.as_of),
                "left_involuntarily_next_month": (left_type == TERM_INVOLUNTARY)
                & (term > month_end)
                & (term <= month_end + 31)
                & (term <= self.as_of),
            }
        )
        h = c.handover_truth.columns()
        keep = h["term_day"] <= self.as_of
        h = {k: v[keep] for k, v in h.items()}
        handovers = pd.DataFrame(
            {
                "account_id": _ids("A", h["account"], 7),
                "departed_employee_id": self.employee_id(h["leaver"]),
                "termination_date": _dates(h["term_day"]),
                "handover_date": _dates(h["handover_day"]),
                "handover_delay_days": h["delay_days"],
                "single_threaded": h["single_threaded"],
                "owner_logging_discipline": h["discipline"].round(4),
                "planned_handover": h["planned"],
                "voluntary_departure": h["voluntary"],
                "true_loss_probability": h["p_loss"].round(6),
                "lost": h["lost"],
            }
        )
        return {"reps": latent, "rep_months": rep_months, "handovers": handovers}
