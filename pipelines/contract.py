"""The canonical export contract (DESIGN.md): every table, its columns, types and keys.

This module is the single place that names the contract. The generator writes it, the
ingest validates against it, and the docs in README.md are checked against it in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column types of the contract, as the ingest will read them.
STRING = "string"
INTEGER = "integer"
DECIMAL = "decimal"
BOOLEAN = "boolean"
DATE = "date"
TIMESTAMP = "timestamp"

STAGES: tuple[str, ...] = (
    "Lead",
    "Contacted",
    "Needs Analysis",
    "Proposal",
    "Negotiation",
    "Closed Won",
    "Closed Lost",
)
OPEN_STAGES: tuple[str, ...] = STAGES[:5]
SEGMENTS: tuple[str, ...] = ("SMB", "Mid-Market", "Enterprise")
ACTIVITY_TYPES: tuple[str, ...] = ("call", "email", "meeting", "visit")
TERMINATION_TYPES: tuple[str, ...] = ("voluntary", "involuntary")
JOB_CHANGE_TYPES: tuple[str, ...] = (
    "hire",
    "promotion",
    "transfer",
    "manager_change",
    "termination",
)
ACCOUNT_TEAM_ROLES: tuple[str, ...] = ("Secondary Account Executive", "Sales Manager")


@dataclass(frozen=True)
class Table:
    """One contract table: ordered columns with types, and its key."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    nullable: frozenset[str] = field(default_factory=frozenset)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "crm_users",
            {
                "user_id": STRING,
                "employee_id": STRING,
                "name": STRING,
                "email": STRING,
                "team": STRING,
                "region": STRING,
                "manager_user_id": STRING,
                "is_active": BOOLEAN,
            },
            key=("user_id",),
            nullable=frozenset({"employee_id", "team", "region", "manager_user_id"}),
        ),
        Table(
            "crm_accounts",
            {
                "account_id": STRING,
                "name": STRING,
                "industry": STRING,
                "segment": STRING,
                "region": STRING,
                "owner_user_id": STRING,
                "created_at": DATE,
                "is_key_account": BOOLEAN,
            },
            key=("account_id",),
            nullable=frozenset({"industry", "segment", "region", "is_key_account"}),
        ),
        Table(
            "crm_account_owner_history",
            {
                "account_id": STRING,
                "owner_user_id": STRING,
                "valid_from": DATE,
                "valid_to": DATE,
            },
            key=("account_id", "valid_from"),
            nullable=frozenset({"valid_to"}),
        ),
        Table(
            "crm_account_team",
            {
                "account_id": STRING,
                "user_id": STRING,
                "role": STRING,
                "start_date": DATE,
                "end_date": DATE,
            },
            key=("account_id", "user_id", "start_date"),
            nullable=frozenset({"end_date"}),
        ),
        Table(
            "crm_opportunities",
            {
                "opportunity_id": STRING,
                "account_id": STRING,
                "owner_user_id": STRING,
                "created_at": DATE,
                "close_date": DATE,
                "stage": STRING,
                "is_closed": BOOLEAN,
                "is_won": BOOLEAN,
                "amount": DECIMAL,
                "currency": STRING,
                "lead_source": STRING,
            },
            key=("opportunity_id",),
            nullable=frozenset({"currency", "lead_source"}),
        ),
        Table(
            "crm_opportunity_stage_history",
            {"opportunity_id": STRING, "stage": STRING, "entered_at": DATE},
            key=("opportunity_id", "stage", "entered_at"),  # a deal may re-enter a stage
        ),
        Table(
            "crm_activities",
            {
                "activity_id": STRING,
                "account_id": STRING,
                "opportunity_id": STRING,
                "owner_user_id": STRING,
                "activity_type": STRING,
                "occurred_at": TIMESTAMP,
                "logged_at": TIMESTAMP,
            },
            key=("activity_id",),
            nullable=frozenset({"opportunity_id"}),
        ),
        Table(
            "hr_employees",
            {
                "employee_id": STRING,
                "name": STRING,
                "email": STRING,
                "hire_date": DATE,
                "termination_date": DATE,
                "termination_type": STRING,
                "termination_reason": STRING,
                "job_title": STRING,
                "job_level": INTEGER,
                "team": STRING,
                "manager_employee_id": STRING,
                "location": STRING,
                "gender": STRING,
                "birth_year": INTEGER,
            },
            key=("employee_id",),
            nullable=frozenset(
                {
                    "termination_date",
                    "termination_type",
                    "termination_reason",
                    "manager_employee_id",
                    "job_level",
                    "gender",
                    "birth_year",
                }
            ),
        ),
        Table(
            "hr_job_history",
            {
                "employee_id": STRING,
                "effective_date": DATE,
                "change_type": STRING,
                "job_level": INTEGER,
                "team": STRING,
                "manager_employee_id": STRING,
            },
            key=("employee_id", "effective_date", "change_type"),
            nullable=frozenset({"manager_employee_id", "job_level"}),
        ),
        Table(
            "hr_compensation",
            {
                "employee_id": STRING,
                "effective_date": DATE,
                "base_salary": DECIMAL,
                "variable_target": DECIMAL,
                "band_midpoint": DECIMAL,
                "currency": STRING,
            },
            key=("employee_id", "effective_date"),
            nullable=frozenset({"variable_target", "band_midpoint"}),
        ),
        Table(
            "hr_performance_reviews",
            {"employee_id": STRING, "review_date": DATE, "rating": INTEGER},
            key=("employee_id", "review_date"),
        ),
        Table(
            "hr_engagement_surveys",
            {
                "employee_id": STRING,
                "survey_date": DATE,
                "engagement": INTEGER,
                "satisfaction": INTEGER,
                "intent_to_stay": INTEGER,
            },
            key=("employee_id", "survey_date"),
        ),
        Table(
            "hr_exit_interviews",
            {
                "employee_id": STRING,
                "interview_date": DATE,
                "primary_reason": STRING,
                "secondary_reason": STRING,
                "would_return": BOOLEAN,
            },
            key=("employee_id",),
            nullable=frozenset({"secondary_reason"}),
        ),
        Table(
            "sales_quotas",
            {
                "employee_id": STRING,
                "period_start": DATE,
                "period_end": DATE,
                "quota_amount": DECIMAL,
            },
            key=("employee_id", "period_start"),
        ),
    )
}
