"""Erasing people: `repradar forget EMPLOYEE_ID` and the retention of leavers' data.

Both run inside a build, on the copy being built, before the pseudonyms are written, so
the erasure, the marts rebuilt without the person and the analyst database published
from them land together or not at all:
- the person's rows leave every `raw` HR table, their CRM user row and account-team rows
  go, and the CRM records they owned (accounts, opportunities, activities, owner history)
  stay as the company's, with no owner; others' rows that name them as manager lose that
  link;
- their rejected rows leave `quarantine`, their scores, drivers and handover rows leave
  `ml`, their alerts (with their events and deliveries) leave `ops`, and every other text
  in `ops` that spells their id, name or e-mail has it replaced by `[forgotten]`;
- after the build replaced the warehouse, their alert files leave the outbox and the
  same replacement is made in the text files repradar wrote beside the warehouse (alert
  files, validation and leadership reports, dbt's logs).

What is kept: `ops.erasures` (when, why, how many people and rows; no id) and
`ops.forgotten_people`, an HMAC of each forgotten id under the forget list's own key,
kept only wrapped by the pseudonym key (`pipelines.pseudonyms.forget_list_key`: not
testable against ids without the pseudonym key, and still matching after a key
rotation), so that a later export that brings the person back is erased again by the
next build. Leavers are erased `REPRADAR_RETENTION_MONTHS` (36) after
their termination date, counted back from the data's own date (the latest date in the
HR and CRM exports, never later than today).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.contract import TABLES
from pipelines.file_modes import PRIVATE_FILE
from pipelines.pseudonyms import (
    CRM_USER,
    EMPLOYEE,
    fingerprint,
    forget_list_key,
    pseudonym,
    stored_key_columns,
)
from pipelines.warehouse import lit, q, remove_database

FORGOTTEN = "[forgotten]"
FORGOTTEN_KIND = "forgotten-employee"  # never equal to an employee key of the same id
REQUEST, RETENTION, RETURNED = "request", "retention", "returned"
ERASURE_TABLES = (
    """CREATE TABLE IF NOT EXISTS ops.erasures (erasure_id VARCHAR, erased_at TIMESTAMP,
        reason VARCHAR, people BIGINT, rows_removed BIGINT, rows_changed BIGINT,
        detail VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS ops.forgotten_people (subject_hash VARCHAR,
        key_check VARCHAR, forgotten_at TIMESTAMP, reason VARCHAR)""",
)
MIN_TEXT = 4  # shorter ASCII names are not searched for in free text (they match words)
TEXT_SUFFIXES = {".md", ".html", ".htm", ".json", ".txt", ".csv", ".log", ".eml"}
HR_TABLES = [name for name, table in TABLES.items() if "employee_id" in table.columns]
OWNED_CRM_TABLES = {  # table: the column naming the CRM user who owns the record
    "crm_accounts": "owner_user_id",
    "crm_account_owner_history": "owner_user_id",
    "crm_opportunities": "owner_user_id",
    "crm_activities": "owner_user_id",
}


@dataclass
class Erasure:
    """What one build erased: people per reason, rows removed and changed per table, and
    the files to clean once the build has replaced the warehouse."""

    people: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    alert_ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    @property
    def total_people(self) -> int:
        return sum(self.people.values())

    def count(self, ledger: dict[str, int], table: str, rows: int) -> None:
        if rows:
            ledger[table] = ledger.get(table, 0) + rows


def ensure_erasure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    for statement in ERASURE_TABLES:
        con.execute(statement)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    (count,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchone() or (0,)
    return bool(count)


def _values(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[str]:
    return [str(value) for (value,) in con.execute(sql, params).fetchall() if value is not None]


def data_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The latest date in the HR and CRM exports, never later than today."""
    candidates = [
        ("hr_employees", "hire_date"),
        ("hr_employees", "termination_date"),
        ("hr_job_history", "effective_date"),
        ("crm_opportunities", "created_at"),
        ("crm_activities", "occurred_at"),
    ]
    today = dt.datetime.now(dt.UTC).date()
    latest = [
        con.execute(f"SELECT CAST(max({q(column)}) AS DATE) FROM raw.{q(table)}").fetchone()[0]
        for table, column in candidates
        if _has_table(con, "raw", table)
    ]
    known = [day for day in latest if day is not None]
    return min(today, max(known)) if known else today


def leavers_past_retention(con: duckdb.DuckDBPyConnection, months: int) -> list[str]:
    """HR ids of the people who left more than `months` months before the data's date."""
    if not _has_table(con, "raw", "hr_employees"):
        return []
    as_of = data_as_of(con)
    index = as_of.year * 12 + as_of.month - 1 - months
    day = min(as_of.day, 28)
    cutoff = dt.date(index // 12, index % 12 + 1, day)
    return _values(
        con,
        "SELECT DISTINCT employee_id FROM raw.hr_employees "
        "WHERE termination_date IS NOT NULL AND termination_date < ? ORDER BY 1",
        [cutoff],
    )


def _forgotten_hash(list_key: bytes, person_id: str) -> str:
    return pseudonym(list_key, FORGOTTEN_KIND, person_id)


def returned_people(con: duckdb.DuckDBPyConnection, key: bytes) -> list[str]:
    """Ids in `raw` (HR ids and CRM user ids) of people forgotten before (`key` is the
    pseudonym key, which unwraps the forget list's key)."""
    if not _has_table(con, "ops", "forgotten_people"):
        return []
    list_key = forget_list_key(con, key, create=False)
    if list_key is None:
        return []
    forgotten = set(
        _values(
            con,
            "SELECT subject_hash FROM ops.forgotten_people WHERE key_check = ?",
            [fingerprint(list_key)],
        )
    )
    if not forgotten:
        return []
    ids = []
    for table, column in (("hr_employees", "employee_id"), ("crm_users", "user_id")):
        if _has_table(con, "raw", table):
            ids += _values(con, f"SELECT DISTINCT {q(column)} FROM raw.{q(table)}", [])
    return sorted({i for i in ids if _forgotten_hash(list_key, i) in forgotten})


def known_person(con: duckdb.DuckDBPyConnection, person_id: str) -> bool:
    """`person_id` is an HR employee id or a CRM user id in `raw`."""
    return any(
        _has_table(con, "raw", table)
        and con.execute(
            f"SELECT count(*) FROM raw.{table} WHERE {column} = ?", [person_id]
        ).fetchone()[0]
        for table, column in (("hr_employees", "employee_id"), ("crm_users", "user_id"))
    )


def _identities(con: duckdb.DuckDBPyConnection, ids: list[str]) -> tuple[list[str], list[str]]:
    """(HR ids, CRM user ids) of the people `ids` names (HR ids or CRM user ids)."""
    users = _values(
        con,
        "SELECT DISTINCT user_id FROM raw.crm_users WHERE employee_id IN (SELECT unnest(?)) "
        "OR user_id IN (SELECT unnest(?))",
        [ids, ids],
    )
    employees = _values(
        con,
        "SELECT DISTINCT employee_id FROM raw.hr_employees WHERE employee_id IN "
        "(SELECT unnest(?)) UNION SELECT DISTINCT employee_id FROM raw.crm_users "
        "WHERE user_id IN (SELECT unnest(?)) AND employee_id IS NOT NULL",
        [ids, users],
    )
    return employees, users


def _texts(con: duckdb.DuckDBPyConnection, employees: list[str], users: list[str]) -> list[str]:
    """Every id, name and e-mail of these people, longest first."""
    texts = set(employees) | set(users)
    for table, column, ids in (
        ("hr_employees", "employee_id", employees),
        ("crm_users", "user_id", users),
    ):
        for row in con.execute(
            f"SELECT name, email FROM raw.{table} WHERE {column} IN (SELECT unnest(?))", [ids]
        ).fetchall():
            texts |= {value.strip() for value in row if value and _searchable(value.strip())}
    return sorted(texts, key=lambda text: (-len(text), text))


def _searchable(text: str) -> bool:
    """Long enough to look for in free text: 4 characters, or 2 when not ASCII (a
    Chinese name)."""
    return len(text) >= (MIN_TEXT if text.isascii() else 2)


def _pattern(texts: list[str]) -> str:
    """An RE2 pattern matching any of `texts` as a whole word (an id E0001 does not
    match E00012)."""
    alternatives = "|".join(re.escape(text) for text in texts)
    return rf"(^|[^A-Za-z0-9_@.\-])({alternatives})($|[^A-Za-z0-9_@.\-])"


def _delete(con: duckdb.DuckDBPyConnection, table: str, where: str, params: list) -> int:
    (rows,) = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()
    if rows:
        con.execute(f"DELETE FROM {table} WHERE {where}", params)
    return int(rows)


def _update(
    con: duckdb.DuckDBPyConnection,
    table: str,
    assign: str,
    where: str,
    params: list,
    assign_params: tuple = (),
) -> int:
    (rows,) = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()
    if rows:
        con.execute(f"UPDATE {table} SET {assign} WHERE {where}", [*assign_params, *params])
    return int(rows)


def _erase_raw(con, erasure: Erasure, employees: list[str], users: list[str]) -> None:
    in_employees, in_users = "IN (SELECT unnest(?))", "IN (SELECT unnest(?))"
    for table in HR_TABLES:
        erasure.count(
            erasure.removed,
            f"raw.{table}",
            _delete(con, f"raw.{table}", f"employee_id {in_employees}", [employees]),
        )
    for table in ("hr_employees", "hr_job_history"):
        erasure.count(
            erasure.changed,
            f"raw.{table}",
            _update(
                con,
                f"raw.{table}",
                "manager_employee_id = NULL",
                f"manager_employee_id {in_employees}",
                [employees],
            ),
        )
    erasure.count(
        erasure.removed,
        "raw.crm_users",
        _delete(con, "raw.crm_users", f"user_id {in_users}", [users]),
    )
    erasure.count(
        erasure.changed,
        "raw.crm_users",
        _update(
            con, "raw.crm_users", "manager_user_id = NULL", f"manager_user_id {in_users}", [users]
        ),
    )
    erasure.count(
        erasure.removed,
        "raw.crm_account_team",
        _delete(con, "raw.crm_account_team", f"user_id {in_users}", [users]),
    )
    for table, column in OWNED_CRM_TABLES.items():
        erasure.count(
            erasure.changed,
            f"raw.{table}",
            _update(con, f"raw.{table}", f"{column} = NULL", f"{column} {in_users}", [users]),
        )


def _erase_quarantine(con, erasure: Erasure, texts: list[str]) -> None:
    """Rejected rows that hold any of the texts in any column or in the raw line."""
    pattern = _pattern(texts)
    for name, table in TABLES.items():
        if not _has_table(con, "quarantine", name):
            continue
        columns = [*table.columns, "_raw_line"]
        where = " OR ".join(f"regexp_matches(coalesce({q(c)}, ''), ?)" for c in columns)
        erasure.count(
            erasure.removed,
            f"quarantine.{name}",
            _delete(con, f"quarantine.{name}", where, [pattern] * len(columns)),
        )


def _erase_keys(con, key: bytes, erasure: Erasure, employees: list[str], users: list[str]):
    """Scores, drivers and alerts keyed by these people's pseudonyms."""
    keys = [pseudonym(key, EMPLOYEE, i) for i in employees] + [
        pseudonym(key, CRM_USER, u) for u in users
    ]
    if _has_table(con, "ops", "alert_outbox"):
        alert_ids = [
            int(value)
            for value in _values(
                con,
                "SELECT alert_id FROM ops.alert_outbox WHERE subject_key IN (SELECT unnest(?))",
                [keys],
            )
        ]
        erasure.alert_ids = sorted(set(erasure.alert_ids) | set(alert_ids))
        for table in ("alert_events", "alert_deliveries"):
            if _has_table(con, "ops", table):
                erasure.count(
                    erasure.removed,
                    f"ops.{table}",
                    _delete(con, f"ops.{table}", "alert_id IN (SELECT unnest(?))", [alert_ids]),
                )
    for schema, table, column in stored_key_columns(con):
        erasure.count(
            erasure.removed,
            f"{schema}.{table}",
            _delete(con, f"{schema}.{q(table)}", f"{q(column)} IN (SELECT unnest(?))", [keys]),
        )


def _scrub_ops_text(con, erasure: Erasure, texts: list[str]) -> None:
    """Every other mention of the texts in `ops` (alert bodies naming a successor,
    validation examples, messages) replaced by FORGOTTEN."""
    pattern = _pattern(texts)
    columns = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'ops' AND data_type = 'VARCHAR' "
        "AND table_name NOT IN ('erasures', 'forgotten_people', 'forget_list_key') ORDER BY ALL"
    ).fetchall()
    for table, column in columns:
        erasure.count(
            erasure.changed,
            f"ops.{table}",
            _update(
                con,
                f"ops.{q(table)}",
                # Twice: a match consumes the separator after it, so of two mentions
                # one character apart ("E00235,U00235") one pass replaces the first.
                f"{q(column)} = regexp_replace(regexp_replace({q(column)}, ?, ?, 'g'), ?, ?, 'g')",
                f"regexp_matches({q(column)}, ?)",
                [pattern],
                (pattern, rf"\1{FORGOTTEN}\3") * 2,
            ),
        )


def erase_people(
    con: duckdb.DuckDBPyConnection, key: bytes, ids: list[str], reason: str, erasure: Erasure
) -> int:
    """Erase the people `ids` names (HR ids or CRM user ids) from `raw`, `quarantine`,
    `ml` and `ops` of the copy `con` is on; returns how many people that was."""
    employees, users = _identities(con, ids)
    if not employees and not users:
        return 0
    (crm_only,) = con.execute(
        "SELECT count(*) FROM raw.crm_users WHERE user_id IN (SELECT unnest(?)) "
        "AND (employee_id IS NULL OR employee_id NOT IN (SELECT unnest(?)))",
        [users, employees],
    ).fetchone()
    people = len(employees) + int(crm_only)
    texts = _texts(con, employees, users)
    erasure.texts = sorted(set(erasure.texts) | set(texts), key=lambda t: (-len(t), t))
    _erase_keys(con, key, erasure, employees, users)
    _erase_raw(con, erasure, employees, users)
    _erase_quarantine(con, erasure, texts)
    _scrub_ops_text(con, erasure, texts)
    ensure_erasure_tables(con)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    list_key = forget_list_key(con, key, create=True)
    known = set(
        _values(
            con,
            "SELECT subject_hash FROM ops.forgotten_people WHERE key_check = ?",
            [fingerprint(list_key)],
        )
    )
    new = sorted({_forgotten_hash(list_key, i) for i in [*employees, *users]} - known)
    if new:
        con.executemany(
            "INSERT INTO ops.forgotten_people VALUES (?, ?, ?, ?)",
            [[subject, fingerprint(list_key), now, reason] for subject in new],
        )
    erasure.people[reason] = erasure.people.get(reason, 0) + people
    return people


def apply_erasures(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    *,
    requested: list[str],
    retention_months: int,
) -> Erasure:
    """The build's erasures on its copy: the people asked for, the leavers past
    retention and the forgotten people a later export brought back; recorded in
    `ops.erasures` when there were any."""
    erasure = Erasure()
    if requested:
        erase_people(con, key, requested, REQUEST, erasure)
    leavers = leavers_past_retention(con, retention_months)
    if leavers:
        erase_people(con, key, leavers, RETENTION, erasure)
    returned = returned_people(con, key)
    if returned:
        erase_people(con, key, returned, RETURNED, erasure)
    if erasure.total_people:
        ensure_erasure_tables(con)
        con.execute(
            "INSERT INTO ops.erasures VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                uuid.uuid4().hex,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                ", ".join(f"{reason}: {n}" for reason, n in erasure.people.items()),
                erasure.total_people,
                sum(erasure.removed.values()),
                sum(erasure.changed.values()),
                json.dumps({"removed": erasure.removed, "changed": erasure.changed}),
            ],
        )
    return erasure


def rewrite_database(path: Path) -> None:
    """Rewrite the DuckDB file at `path` into a new file (every schema, table, view and
    comment; COPY FROM DATABASE) and rename it over `path`: deleted rows stay in a
    database file's free blocks until then."""
    fresh = path.with_name(path.name + ".rewrite")
    remove_database(fresh)
    try:
        with duckdb.connect(str(fresh)) as con:
            con.execute(f"ATTACH {lit(str(path))} AS erased (READ_ONLY)")
            (fresh_name,) = con.execute("SELECT current_database()").fetchone()
            con.execute(f"COPY FROM DATABASE erased TO {q(fresh_name)}")
            con.execute("DETACH erased")
            con.execute("CHECKPOINT")
        os.chmod(fresh, PRIVATE_FILE)
        fresh.replace(path)
    finally:
        remove_database(fresh)


def clean_files(warehouse: Path, erasure: Erasure, places: list[Path]) -> list[Path]:
    """After the build replaced the warehouse: the erased people's alert files removed
    and their names replaced in every text file under `places`; returns the files
    changed or removed."""
    touched: list[Path] = []
    outbox = warehouse.parent / "outbox" / "hr"
    for alert_id in erasure.alert_ids:
        for path in outbox.glob(f"{alert_id:05d}-*"):
            path.unlink(missing_ok=True)
            touched.append(path)
    if not erasure.texts:
        return touched
    variants = sorted(
        {form for text in erasure.texts for form in (text, html.escape(text))},
        key=lambda t: (-len(t), t),
    )
    alternatives = "|".join(re.escape(text) for text in variants)
    pattern = re.compile(rf"(?<![A-Za-z0-9_@.\-])(?:{alternatives})(?![A-Za-z0-9_@.\-])")
    for place in places:
        if not place.is_dir():
            continue
        for path in sorted(place.rglob("*")):
            if path.is_symlink() or not path.is_file() or path.suffix not in TEXT_SUFFIXES:
                continue
            text = path.read_text("utf-8", errors="surrogateescape")
            cleaned = pattern.sub(FORGOTTEN, text)
            if cleaned != text:
                path.write_text(cleaned, "utf-8", errors="surrogateescape")
                touched.append(path)
    return touched
