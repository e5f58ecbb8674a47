"""A generated company rewritten as Salesforce, HubSpot and Zoho CRM would export it.

Each converter reads a company in the canonical contract (`repradar generate`) and writes
the same facts in the vendor's shape into a new directory: the vendor's file names,
headers, datetime formats, stage labels, booleans and stage history, plus a copy of the
canonical file of every table the vendor does not export (HR, quotas, ...). Loading the
result with `--mapping <vendor>` must give the canonical company back; the shipped
mapping files in `pipelines/ingest/mappings/` say which export column feeds which
contract column, and which headers could not be confirmed offline.

What each vendor cannot hold, and how the converters keep the round trip exact:

- Salesforce keeps ended account-team memberships only as deleted AccountTeamMember rows
  (`IsDeleted` true, returned by Data Loader's "Export All"); their deletion time is the
  end date.
- HubSpot exports the deal and company owner by name, not by id, so a HubSpot load keys
  users by their full name: `hubspot_user_keys` gives the canonical id -> name map the
  tests apply to the expected tables.
- Zoho prefixes record ids with `zcrm_`; the mapping strips it.
- Fields the vendors lack by default (sales region, key-account flag, HubSpot's and
  Zoho's employee id, team and region of a user, HubSpot's lead source) are written as
  the custom fields the mapping files name; segments become employee counts.
- Each vendor's activities live in several objects (Salesforce Task and Event, HubSpot
  and Zoho calls, meetings, tasks); Salesforce's Task and Event exports are mapped (calls
  and e-mails as Tasks, meetings and visits as Events); HubSpot's and Zoho's activities
  stay canonical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.contract import STAGES, TABLES

SEED = 20261031
EXPORTED_ON = "2026-10-31"  # in HubSpot's export file names

# Canonical stage -> the vendor's stage written for it (the mapping maps it back).
SALESFORCE_STAGES = {
    "Lead": "Prospecting",
    "Contacted": "Qualification",
    "Needs Analysis": "Needs Analysis",
    "Proposal": "Proposal/Price Quote",
    "Negotiation": "Negotiation/Review",
    "Closed Won": "Closed Won",
    "Closed Lost": "Closed Lost",
}
# Further Salesforce stages that map onto the same canonical stage, entered later.
SALESFORCE_LATER_STAGES = {
    "Needs Analysis": ["Value Proposition", "Id. Decision Makers"],
    "Proposal": ["Proposal/Price Quote"],
}
SALESFORCE_PROBABILITY = {
    "Prospecting": (10, "Pipeline"),
    "Qualification": (10, "Pipeline"),
    "Needs Analysis": (20, "Pipeline"),
    "Value Proposition": (50, "Pipeline"),
    "Id. Decision Makers": (60, "Pipeline"),
    "Perception Analysis": (70, "Pipeline"),
    "Proposal/Price Quote": (75, "Pipeline"),
    "Negotiation/Review": (90, "Pipeline"),
    "Closed Won": (100, "Closed"),
    "Closed Lost": (0, "Omitted"),
}
SALESFORCE_TEAM_ROLES = {
    "Secondary Account Executive": "Sales Rep",
    "Sales Manager": "Sales Manager",
}

HUBSPOT_PIPELINE = "Sales Pipeline"
HUBSPOT_STAGES = {
    "Lead": "Appointment Scheduled",
    "Contacted": "Qualified To Buy",
    "Needs Analysis": "Presentation Scheduled",
    "Proposal": "Decision Maker Bought-In",
    "Negotiation": "Contract Sent",
    "Closed Won": "Closed Won",
    "Closed Lost": "Closed Lost",
}

ZOHO_STAGES = {
    "Lead": "Qualification",
    "Contacted": "Contacted",  # not a default Zoho stage: an org that adds one
    "Needs Analysis": "Needs Analysis",
    "Proposal": "Proposal/Price Quote",
    "Negotiation": "Negotiation/Review",
    "Closed Won": "Closed Won",
    "Closed Lost": "Closed Lost",
}
ZOHO_LATER_STAGES = {"Needs Analysis": ["Value Proposition", "Identify Decision Makers"]}
ZOHO_PROBABILITY = {
    "Qualification": 10,
    "Contacted": 15,
    "Needs Analysis": 20,
    "Value Proposition": 40,
    "Identify Decision Makers": 60,
    "Proposal/Price Quote": 75,
    "Negotiation/Review": 90,
    "Closed Won": 100,
    "Closed Lost": 0,
    "Closed-Lost to Competition": 0,
}

# Employee counts written for each segment; the mappings' thresholds read them back.
SEGMENT_EMPLOYEES = {"SMB": (5, 99), "Mid-Market": (100, 999), "Enterprise": (1000, 20000)}

# Contract columns that hold a CRM user id (HubSpot loads key users by name instead).
USER_ID_COLUMNS = {
    "crm_users": ("user_id", "manager_user_id"),
    "crm_accounts": ("owner_user_id",),
    "crm_account_owner_history": ("owner_user_id",),
    "crm_account_team": ("user_id",),
    "crm_opportunities": ("owner_user_id",),
    "crm_activities": ("owner_user_id",),
}


def read_company(company: Path) -> dict[str, pd.DataFrame]:
    """Every contract table of a canonical CSV company, every value as text ('' = empty)."""
    return {
        table: pd.read_csv(company / f"{table}.csv", dtype=str, keep_default_na=False)
        for table in TABLES
    }


def _write(frame: pd.DataFrame, path: Path, *, quote_all: bool = False, bom: bool = False):
    frame.to_csv(
        path,
        index=False,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
        encoding="utf-8-sig" if bom else "utf-8",
        lineterminator="\r\n" if quote_all else "\n",
    )


def _copy_canonical(company: Path, out: Path, tables: list[str]) -> None:
    for table in tables:
        shutil.copyfile(company / f"{table}.csv", out / f"{table}.csv")


def _not_mapped(*mapped: str) -> list[str]:
    return [t for t in TABLES if t not in mapped]


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class _Clock:
    """Deterministic times of day for values the canonical company has only as dates."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def at(self, day: dt.date | str, earliest_hour: int = 8, latest_hour: int = 17) -> dt.datetime:
        day = _day(day) if isinstance(day, str) else day
        seconds = int(self.rng.integers(earliest_hour * 3600, latest_hour * 3600))
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def integer(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))

    def between(self, first: dt.datetime, last: dt.datetime) -> dt.datetime:
        """A moment after `first` and no later than `last`."""
        span = max(int((last - first).total_seconds()), 2)
        return first + dt.timedelta(seconds=int(self.rng.integers(1, span)))

    def entries(self, entries: list[tuple[str, dt.date]]) -> list[dt.datetime]:
        """Increasing moments for stages entered on the given days."""
        moments: list[dt.datetime] = []
        for _, day in entries:
            moment = self.at(day, 8, 12)
            if moments and moment <= moments[-1]:
                moment = moments[-1] + dt.timedelta(minutes=self.integer(1, 30))
            moments.append(moment)
        return moments

    def later(self, moments: list[dt.datetime], n: int) -> dt.datetime:
        """A moment after stage n was entered and before the next stage was."""
        until = moments[n + 1] if n + 1 < len(moments) else moments[n] + dt.timedelta(hours=4)
        return self.between(moments[n], until)


def _split_name(name: str) -> tuple[str, str]:
    first, _, last = name.partition(" ")
    return (first, last) if last else ("", first)


def _stage_entries(history: pd.DataFrame) -> dict[str, list[tuple[str, dt.date]]]:
    """Opportunity -> its (canonical stage, date entered) in the order entered."""
    order = {stage: n for n, stage in enumerate(STAGES)}
    frame = history.assign(_order=history["stage"].map(order))
    frame = frame.sort_values(["opportunity_id", "entered_at", "_order"])
    entries: dict[str, list[tuple[str, dt.date]]] = {}
    for opportunity, stage, entered in frame[["opportunity_id", "stage", "entered_at"]].itertuples(
        index=False
    ):
        entries.setdefault(opportunity, []).append((stage, _day(entered)))
    return entries


# --- Salesforce -------------------------------------------------------------------------


def _sf_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _sf_id(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


def _salesforce_history(
    company: dict[str, pd.DataFrame], clock: _Clock
) -> tuple[pd.DataFrame, dict[str, str]]:
    """OpportunityHistory rows (several per stage) and each opportunity's last StageName."""
    opportunities = company["crm_opportunities"].set_index("opportunity_id")
    rows: list[dict[str, str]] = []
    final_stage: dict[str, str] = {}
    for opportunity, entries in _stage_entries(company["crm_opportunity_stage_history"]).items():
        deal = opportunities.loc[opportunity]
        amount = float(deal["amount"])
        entered = clock.entries(entries)
        for n, (stage, _) in enumerate(entries):
            names = [SALESFORCE_STAGES[stage]]
            if stage == "Proposal" and clock.chance(0.3):
                names = ["Perception Analysis", *SALESFORCE_LATER_STAGES["Proposal"]]
            elif stage == "Needs Analysis":
                names += [s for s in SALESFORCE_LATER_STAGES[stage] if clock.chance(0.35)]
            if clock.chance(0.3):  # an amount or close-date change: same stage, a new row
                names.append(names[-1])
            moments = sorted([entered[n], *(clock.later(entered, n) for _ in names[1:])])
            for name, moment in zip(names, moments, strict=True):
                probability, forecast = SALESFORCE_PROBABILITY[name]
                changed = stage not in ("Closed Won", "Closed Lost") and clock.chance(0.2)
                rows.append(
                    {
                        "OpportunityId": opportunity,
                        "CreatedById": deal["owner_user_id"],
                        "CreatedDate": _sf_time(moment),
                        "StageName": name,
                        "Amount": f"{amount * (0.8 if changed else 1.0):.2f}",
                        "Probability": str(probability),
                        "ForecastCategory": forecast,
                        "CloseDate": deal["close_date"],
                        "IsDeleted": "false",
                        "_moment": moment,
                    }
                )
                final_stage[opportunity] = name
    history = pd.DataFrame(rows).sort_values(["OpportunityId", "_moment"], kind="stable")
    history = history.drop(columns="_moment")
    history.insert(0, "Id", [_sf_id("008", n) for n in range(1, len(history) + 1)])
    return history, final_stage


def to_salesforce(company_dir: Path, out: Path) -> Path:
    """Data Loader / weekly Data Export files: User, Account, Opportunity,
    OpportunityHistory, AccountTeamMember and Task (API field names, every value quoted,
    datetimes in UTC like 2024-03-05T14:22:10.000Z)."""
    out.mkdir(parents=True, exist_ok=True)
    company = read_company(company_dir)
    clock = _Clock(SEED)

    users = company["crm_users"]
    first_last = users["name"].map(_split_name)
    _write(
        pd.DataFrame(
            {
                "Id": users["user_id"],
                "Username": users["email"] + ".crm",
                "FirstName": [f for f, _ in first_last],
                "LastName": [last for _, last in first_last],
                "Name": users["name"],
                "Email": users["email"],
                "IsActive": users["is_active"],
                "UserRoleId": "",
                "ManagerId": users["manager_user_id"],
                "EmployeeNumber": users["employee_id"],
                "Department": users["team"],
                "Division": users["region"],
            }
        ),
        out / "User.csv",
        quote_all=True,
    )

    accounts = company["crm_accounts"]
    employees = [str(clock.integer(*SEGMENT_EMPLOYEES[segment])) for segment in accounts["segment"]]
    _write(
        pd.DataFrame(
            {
                "Id": accounts["account_id"],
                "IsDeleted": "false",
                "Name": accounts["name"],
                "Type": "Customer - Direct",
                "Industry": accounts["industry"],
                "NumberOfEmployees": employees,
                "OwnerId": accounts["owner_user_id"],
                "CreatedDate": [_sf_time(clock.at(d)) for d in accounts["created_at"]],
                "Sales_Region__c": accounts["region"],
                "Key_Account__c": accounts["is_key_account"],
            }
        ),
        out / "Account.csv",
        quote_all=True,
    )

    history, final_stage = _salesforce_history(company, clock)
    _write(history, out / "OpportunityHistory.csv", quote_all=True)

    deals = company["crm_opportunities"]
    first_row = history.drop_duplicates("OpportunityId").set_index("OpportunityId")
    stage_names = deals["opportunity_id"].map(final_stage)
    _write(
        pd.DataFrame(
            {
                "Id": deals["opportunity_id"],
                "IsDeleted": "false",
                "AccountId": deals["account_id"],
                "Name": deals["opportunity_id"] + " renewal",
                "StageName": stage_names,
                "Amount": deals["amount"],
                "Probability": [str(SALESFORCE_PROBABILITY[s][0]) for s in stage_names],
                "CloseDate": deals["close_date"],
                "Type": "New Business",
                "LeadSource": deals["lead_source"],
                "IsClosed": deals["is_closed"],
                "IsWon": deals["is_won"],
                "ForecastCategory": [SALESFORCE_PROBABILITY[s][1] for s in stage_names],
                "CurrencyIsoCode": deals["currency"],
                "OwnerId": deals["owner_user_id"],
                "CreatedDate": deals["opportunity_id"].map(first_row["CreatedDate"]),
            }
        ),
        out / "Opportunity.csv",
        quote_all=True,
    )

    team = company["crm_account_team"]
    created = [clock.at(d) for d in team["start_date"]]
    ended = team["end_date"] != ""
    modified = [
        clock.at(end, 17, 20) if end else clock.at(start)
        for start, end in zip(team["start_date"], team["end_date"], strict=True)
    ]
    _write(
        pd.DataFrame(
            {
                "Id": [_sf_id("01M", n) for n in range(1, len(team) + 1)],
                "AccountId": team["account_id"],
                "UserId": team["user_id"],
                "TeamMemberRole": team["role"].map(SALESFORCE_TEAM_ROLES),
                "AccountAccessLevel": "Edit",
                "CreatedDate": [_sf_time(m) for m in created],
                "LastModifiedDate": [
                    _sf_time(max(m, c)) for m, c in zip(modified, created, strict=True)
                ],
                "IsDeleted": ended.map({True: "true", False: "false"}),
            }
        ),
        out / "AccountTeamMember.csv",
        quote_all=True,
    )

    activities = company["crm_activities"]
    is_event = activities["activity_type"].isin(["meeting", "visit"])
    _write(_salesforce_tasks(activities[~is_event]), out / "Task.csv", quote_all=True)
    _write(_salesforce_events(activities[is_event]), out / "Event.csv", quote_all=True)

    _copy_canonical(
        company_dir,
        out,
        _not_mapped(
            "crm_users",
            "crm_accounts",
            "crm_opportunities",
            "crm_opportunity_stage_history",
            "crm_account_team",
            "crm_activities",
        ),
    )
    return out


def _what_id(activities: pd.DataFrame) -> pd.Series:
    """WhatId: the opportunity when the activity is logged on one, else the account."""
    return activities["opportunity_id"].where(
        activities["opportunity_id"] != "", activities["account_id"]
    )


def _salesforce_tasks(activities: pd.DataFrame) -> pd.DataFrame:
    """Calls and e-mails as completed Tasks."""
    kind = activities["activity_type"]
    occurred = pd.to_datetime(activities["occurred_at"])
    logged = pd.to_datetime(activities["logged_at"])
    return pd.DataFrame(
        {
            "Id": activities["activity_id"],
            "IsDeleted": "false",
            "WhoId": "",
            "WhatId": _what_id(activities),
            "AccountId": activities["account_id"],
            "Subject": kind.map({"call": "Call", "email": "Email"}),
            "ActivityDate": occurred.dt.strftime("%Y-%m-%d"),
            "Status": "Completed",
            "OwnerId": activities["owner_user_id"],
            # Type is the user's picklist; emails sent from Salesforce leave it empty
            "Type": kind.map({"call": "Call", "email": ""}),
            "TaskSubtype": kind.map({"call": "Call", "email": "Email"}),
            "IsClosed": "true",
            "CompletedDateTime": occurred.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "CreatedDate": logged.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
    )


def _salesforce_events(activities: pd.DataFrame) -> pd.DataFrame:
    """Meetings and visits as calendar Events (a visit is an Event of Type Visit)."""
    kind = activities["activity_type"]
    occurred = pd.to_datetime(activities["occurred_at"])
    logged = pd.to_datetime(activities["logged_at"])
    return pd.DataFrame(
        {
            "Id": activities["activity_id"],
            "IsDeleted": "false",
            "WhatId": _what_id(activities),
            "AccountId": activities["account_id"],
            "Subject": kind.map({"meeting": "Meeting", "visit": "Site visit"}),
            "OwnerId": activities["owner_user_id"],
            "Type": kind.map({"meeting": "Meeting", "visit": "Visit"}),
            "IsAllDayEvent": "false",
            "StartDateTime": occurred.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "EndDateTime": (occurred + pd.Timedelta(hours=1)).dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "CreatedDate": logged.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
    )


# --- HubSpot ----------------------------------------------------------------------------


def _hs_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def hubspot_user_keys(company: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Canonical user id -> the key a HubSpot load gives that user (the full name, as the
    deal and company owner columns print it)."""
    users = company["crm_users"]
    if not users["name"].is_unique:
        raise ValueError("HubSpot keys users by name: this company has two users of one name")
    return dict(zip(users["user_id"], users["name"], strict=True))


def with_user_keys(
    frames: dict[str, pd.DataFrame], keys: dict[str, str]
) -> dict[str, pd.DataFrame]:
    """The tables with every user-id column rewritten through `keys` (empty stays empty)."""
    rewritten = dict(frames)
    for table, columns in USER_ID_COLUMNS.items():
        frame = frames[table].copy()
        for column in columns:
            frame[column] = frame[column].map(lambda v: keys.get(v, v) if v else v)
        rewritten[table] = frame
    return rewritten


def to_hubspot(company_dir: Path, out: Path) -> Path:
    """HubSpot UI exports: all deals (property labels as headers, a `Date entered` column
    per stage of the default Sales Pipeline), all companies, and the users export. Owners
    appear by name; the tables HubSpot has no export for are copied with users keyed by
    name too."""
    out.mkdir(parents=True, exist_ok=True)
    canonical = read_company(company_dir)
    company = with_user_keys(canonical, hubspot_user_keys(canonical))
    clock = _Clock(SEED + 1)

    users = company["crm_users"]
    first_last = users["name"].map(_split_name)
    _write(
        pd.DataFrame(
            {
                "User ID": [str(40_000_000 + n) for n in range(1, len(users) + 1)],
                "First Name": [f for f, _ in first_last],
                "Last Name": [last for _, last in first_last],
                "Email": users["email"],
                "Teams": users["team"],
                "Role": "Sales User",
                "Manager": users["manager_user_id"],
                "Status": users["is_active"].map({"true": "Active", "false": "Deactivated"}),
                "Employee ID": users["employee_id"],
                "Region": users["region"],
            }
        ),
        out / f"hubspot-users-export-{EXPORTED_ON}.csv",
        bom=True,
    )

    accounts = company["crm_accounts"]
    _write(
        pd.DataFrame(
            {
                "Record ID": accounts["account_id"],
                "Company name": accounts["name"],
                "Company owner": accounts["owner_user_id"],
                "Create Date": [_hs_time(clock.at(d)) for d in accounts["created_at"]],
                "Industry": accounts["industry"],
                "Number of Employees": [
                    str(clock.integer(*SEGMENT_EMPLOYEES[s])) for s in accounts["segment"]
                ],
                "Type": "Customer",
                "Target Account": accounts["is_key_account"],
                "Sales Region": accounts["region"],
                "Lifecycle Stage": "Customer",
            }
        ),
        out / f"hubspot-crm-exports-all-companies-{EXPORTED_ON}.csv",
        bom=True,
    )

    deals = company["crm_opportunities"]
    names = accounts.set_index("account_id")["name"]
    entries = _stage_entries(company["crm_opportunity_stage_history"])
    entered: dict[str, list[str]] = {stage: [] for stage in HUBSPOT_STAGES}
    created: list[str] = []
    for opportunity in deals["opportunity_id"]:
        stages = entries[opportunity]
        moments = dict(zip([s for s, _ in stages], clock.entries(stages), strict=True))
        created.append(_hs_time(moments["Lead"]))
        for stage in HUBSPOT_STAGES:
            entered[stage].append(_hs_time(moments[stage]) if stage in moments else "")
    stage = deals["stage"].map(HUBSPOT_STAGES)
    frame = pd.DataFrame(
        {
            "Record ID": deals["opportunity_id"],
            "Deal Name": deals["opportunity_id"] + " - " + deals["account_id"].map(names),
            "Pipeline": HUBSPOT_PIPELINE,
            "Deal Stage": stage,
            "Amount": deals["amount"],
            "Currency": deals["currency"],
            "Close Date": deals["close_date"],
            "Create Date": created,
            "Deal owner": deals["owner_user_id"],
            "Deal Type": "New Business",
            "Lead Source": deals["lead_source"],
            "Is Deal Closed?": deals["is_closed"],
            "Is Closed Won": deals["is_won"],
            "Associated Company IDs (Primary)": deals["account_id"],
            "Associated Company (Primary)": deals["account_id"].map(names),
        }
    )
    for canonical_stage, label in HUBSPOT_STAGES.items():
        frame[f'Date entered "{label} ({HUBSPOT_PIPELINE})"'] = entered[canonical_stage]
    _write(frame, out / f"hubspot-crm-exports-all-deals-{EXPORTED_ON}.csv", bom=True)

    for table in _not_mapped(
        "crm_users", "crm_accounts", "crm_opportunities", "crm_opportunity_stage_history"
    ):
        if table in USER_ID_COLUMNS:
            _write(company[table], out / f"{table}.csv")
        else:
            _copy_canonical(company_dir, out, [table])
    return out


# --- Zoho CRM ---------------------------------------------------------------------------


def _zoho_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _zoho_date(day: str) -> str:
    return _day(day).isoformat()


def _zcrm(ids: pd.Series) -> pd.Series:
    return ids.map(lambda v: f"zcrm_{v}" if v else v)


def to_zoho(company_dir: Path, out: Path) -> Path:
    """Zoho CRM Data Backup files (field labels as headers, a lookup as `<Field>` name
    and `<Field>.id` columns, ids prefixed `zcrm_`, datetimes as 2024-03-05 14:22:10):
    Deals, the Deals' Stage History related list, Accounts and Users."""
    out.mkdir(parents=True, exist_ok=True)
    company = read_company(company_dir)
    clock = _Clock(SEED + 2)
    names = company["crm_users"].set_index("user_id")["name"]

    users = company["crm_users"]
    first_last = users["name"].map(_split_name)
    _write(
        pd.DataFrame(
            {
                "Record Id": _zcrm(users["user_id"]),
                "First Name": [f for f, _ in first_last],
                "Last Name": [last for _, last in first_last],
                "Full Name": users["name"],
                "Email": users["email"],
                "Role": "Sales Representative",
                "Profile": "Standard",
                "Status": users["is_active"].map({"true": "Active", "false": "Inactive"}),
                "Reporting To": users["manager_user_id"].map(lambda v: names.get(v, "")),
                "Reporting To.id": _zcrm(users["manager_user_id"]),
                "Employee Id": users["employee_id"],
                "Team": users["team"],
                "Region": users["region"],
            }
        ),
        out / "Users_001.csv",
    )

    accounts = company["crm_accounts"]
    _write(
        pd.DataFrame(
            {
                "Record Id": _zcrm(accounts["account_id"]),
                "Account Owner": accounts["owner_user_id"].map(names),
                "Account Owner.id": _zcrm(accounts["owner_user_id"]),
                "Account Name": accounts["name"],
                "Account Type": "Customer",
                "Industry": accounts["industry"],
                "Employees": [
                    str(clock.integer(*SEGMENT_EMPLOYEES[s])) for s in accounts["segment"]
                ],
                "Created Time": [_zoho_time(clock.at(d)) for d in accounts["created_at"]],
                "Sales Region": accounts["region"],
                "Key Account": accounts["is_key_account"],
            }
        ),
        out / "Accounts_001.csv",
    )

    deals = company["crm_opportunities"].set_index("opportunity_id", drop=False)
    account_names = accounts.set_index("account_id")["name"]
    rows: list[dict[str, str]] = []
    final_stage: dict[str, str] = {}
    created: dict[str, str] = {}
    for opportunity, entries in _stage_entries(company["crm_opportunity_stage_history"]).items():
        deal = deals.loc[opportunity]
        entered = clock.entries(entries)
        changes: list[tuple[str, dt.datetime]] = []
        for n, (stage, _) in enumerate(entries):
            label = ZOHO_STAGES[stage]
            if stage == "Closed Lost" and clock.chance(0.25):
                label = "Closed-Lost to Competition"
            changes.append((label, entered[n]))
            later = [s for s in ZOHO_LATER_STAGES.get(stage, []) if clock.chance(0.35)]
            moments = sorted(clock.later(entered, n) for _ in later)
            changes.extend(zip(later, moments, strict=True))
        changes.sort(key=lambda change: change[1])
        created[opportunity] = _zoho_time(changes[0][1])
        final_stage[opportunity] = changes[-1][0]
        for n, (label, moment) in enumerate(changes):
            following = changes[n + 1] if n + 1 < len(changes) else None
            rows.append(
                {
                    "Deal Name": f"{opportunity} - {account_names[deal['account_id']]}",
                    "Deal Name.id": f"zcrm_{opportunity}",
                    "Stage": label,
                    "Amount": deal["amount"],
                    "Probability (%)": str(ZOHO_PROBABILITY[label]),
                    "Closing Date": _zoho_date(deal["close_date"]),
                    "Stage Duration (Calendar Days)": (
                        str((following[1].date() - moment.date()).days) if following else ""
                    ),
                    "Moved To": following[0] if following else "",
                    "Modified By": names[deal["owner_user_id"]],
                    "Modified Time": _zoho_time(moment),
                }
            )
    history = pd.DataFrame(rows)
    history.insert(0, "Record Id", [f"zcrm_8{n:011d}" for n in range(1, len(history) + 1)])
    _write(history, out / "Stage_History_001.csv")

    deals = company["crm_opportunities"]
    _write(
        pd.DataFrame(
            {
                "Record Id": _zcrm(deals["opportunity_id"]),
                "Deal Owner": deals["owner_user_id"].map(names),
                "Deal Owner.id": _zcrm(deals["owner_user_id"]),
                "Deal Name": deals["opportunity_id"]
                + " - "
                + deals["account_id"].map(account_names),
                "Account Name": deals["account_id"].map(account_names),
                "Account Name.id": _zcrm(deals["account_id"]),
                "Stage": deals["opportunity_id"].map(final_stage),
                "Amount": deals["amount"],
                "Currency": deals["currency"],
                "Closing Date": deals["close_date"].map(_zoho_date),
                "Probability (%)": deals["opportunity_id"].map(final_stage).map(ZOHO_PROBABILITY),
                "Type": "New Business",
                "Lead Source": deals["lead_source"],
                "Created Time": deals["opportunity_id"].map(created),
            }
        ),
        out / "Deals_001.csv",
    )

    _copy_canonical(
        company_dir,
        out,
        _not_mapped(
            "crm_users", "crm_accounts", "crm_opportunities", "crm_opportunity_stage_history"
        ),
    )
    return out


CONVERTERS: dict[str, Callable[[Path, Path], Path]] = {
    "salesforce": to_salesforce,
    "hubspot": to_hubspot,
    "zoho": to_zoho,
}
