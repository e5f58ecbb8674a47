"""People's rights and retention (issue #18): `repradar forget EMPLOYEE_ID` leaves no trace
of the person's id, name or e-mail in any table or file; leavers past the retention period
are erased on every build; both are recorded in `ops`."""

from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.erasure import FORGOTTEN_KIND, Erasure, clean_files
from pipelines.pseudonyms import pseudonym
from tests.conftest import AS_OF, NEW_KEY, TEST_PSEUDONYM_KEY, rotate, run_repradar
from tests.marts import query


@dataclass
class Person:
    employee_id: str
    user_id: str
    name: str
    email: str
    employee_key: str

    @property
    def traces(self) -> list[str]:
        return [self.employee_id, self.user_id, self.name, self.email, self.employee_key]


@dataclass
class Forgotten:
    folder: Path
    person: Person
    alert_ids: list[int]
    files_before: list[str]
    stdout: str

    @property
    def warehouse(self) -> Path:
        return self.folder / "warehouse.duckdb"


def alerted_person(warehouse: Path) -> tuple[Person, list[int]]:
    """The first rep with an alert whose name is unique in the exports."""
    alerts = query(
        warehouse,
        "SELECT outbox.alert_id, people.employee_id, employees.name, employees.email, "
        "users.user_id, people.employee_key FROM ops.alert_outbox AS outbox "
        "JOIN restricted.dim_people AS people ON people.employee_key = outbox.subject_key "
        "JOIN raw.hr_employees AS employees ON employees.employee_id = people.employee_id "
        "JOIN raw.crm_users AS users ON users.employee_id = people.employee_id "
        "ORDER BY outbox.alert_id",
    )
    names = query(warehouse, "SELECT name FROM raw.hr_employees")["name"]
    for row in alerts.itertuples():
        if names.str.contains(row.name, regex=False).sum() == 1:
            ids = alerts.loc[alerts["employee_id"] == row.employee_id, "alert_id"]
            person = Person(row.employee_id, row.user_id, row.name, row.email, row.employee_key)
            return person, [int(i) for i in ids]
    raise AssertionError("no alerted rep with a unique name")


def files_holding(folder: Path, traces: list[str]) -> list[str]:
    """Files under `folder` whose name or bytes hold any of `traces`."""
    needles = [trace.encode() for trace in traces]
    slugs = [re.sub(r"[^a-z0-9]+", "-", trace.lower()) for trace in traces]
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        content = path.read_bytes()
        if any(needle in content for needle in needles) or any(slug in path.name for slug in slugs):
            found.append(str(path.relative_to(folder)))
    return found


def tables_holding(database: Path, traces: list[str]) -> list[str]:
    """`schema.table` of every table with a row whose text holds any of `traces`."""
    found = []
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            (hits,) = con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" AS t '
                "WHERE list_bool_or([contains(CAST(t AS VARCHAR), needle) FOR needle IN ?])",
                [traces],
            ).fetchone()
            if hits:
                found.append(f"{schema}.{table}")
    return found


@pytest.fixture(scope="module")
def forgotten(operated: Path, tmp_path_factory: pytest.TempPathFactory) -> Forgotten:
    """A copy of the daily run's folder (warehouse, analyst database, outbox, reports,
    dbt's files) after `repradar forget` of a rep who has an alert."""
    folder = tmp_path_factory.mktemp("forget") / "run"
    shutil.copytree(operated.parent, folder, ignore=shutil.ignore_patterns("*.lock"))
    person, alert_ids = alerted_person(folder / "warehouse.duckdb")
    files_before = files_holding(folder, person.traces)
    finished = run_repradar(
        "forget", person.employee_id, "--warehouse", str(folder / "warehouse.duckdb")
    )
    return Forgotten(folder, person, alert_ids, files_before, finished.stdout)


def test_no_table_of_the_warehouse_holds_the_persons_id_name_e_mail_or_key(
    forgotten: Forgotten, operated: Path
) -> None:
    assert tables_holding(operated, forgotten.person.traces)
    assert tables_holding(forgotten.warehouse, forgotten.person.traces) == []


def test_no_table_of_the_analyst_database_holds_the_person(forgotten: Forgotten) -> None:
    analytics = forgotten.folder / "analytics.duckdb"
    assert tables_holding(analytics, forgotten.person.traces) == []


def test_no_file_beside_the_warehouse_holds_the_persons_id_name_or_e_mail(
    forgotten: Forgotten,
) -> None:
    """The database files are rewritten: deleted rows leave nothing in free blocks."""
    assert "warehouse.duckdb" in forgotten.files_before
    assert any(path.startswith("outbox") for path in forgotten.files_before)
    assert files_holding(forgotten.folder, forgotten.person.traces) == []


def test_the_persons_alert_files_are_removed_and_the_others_kept(
    forgotten: Forgotten, operated: Path
) -> None:
    kept = sorted(path.name for path in (forgotten.folder / "outbox" / "hr").iterdir())
    before = sorted(path.name for path in (operated.parent / "outbox" / "hr").iterdir())
    removed = [name for name in before if int(name[:5]) in forgotten.alert_ids]
    assert removed
    assert kept == [name for name in before if name not in removed]


def test_the_persons_alerts_leave_the_outbox_and_the_others_stay(
    forgotten: Forgotten, operated: Path
) -> None:
    sql = "SELECT alert_id FROM ops.alert_outbox ORDER BY 1"
    before = list(query(operated, sql)["alert_id"])
    after = list(query(forgotten.warehouse, sql)["alert_id"])
    assert after == [i for i in before if i not in forgotten.alert_ids]


def test_the_person_is_no_longer_in_the_marts_and_everyone_else_is(
    forgotten: Forgotten, operated: Path
) -> None:
    sql = "SELECT employee_key FROM restricted.dim_people ORDER BY 1"
    before = set(query(operated, sql)["employee_key"])
    after = set(query(forgotten.warehouse, sql)["employee_key"])
    assert after == before - {forgotten.person.employee_key}


def test_accounts_the_person_owned_stay_with_no_owner(forgotten: Forgotten, operated: Path) -> None:
    sql = "SELECT account_id, owner_user_id FROM raw.crm_accounts ORDER BY 1"
    before = query(operated, sql)
    after = query(forgotten.warehouse, sql)
    owned = before["owner_user_id"] == forgotten.person.user_id
    assert owned.any()
    assert list(after["account_id"]) == list(before["account_id"])
    assert after.loc[owned, "owner_user_id"].isna().all()
    pd.testing.assert_series_equal(
        after.loc[~owned, "owner_user_id"], before.loc[~owned, "owner_user_id"]
    )


def test_the_erasure_is_recorded_in_ops_without_naming_the_person(forgotten: Forgotten) -> None:
    erasures = query(forgotten.warehouse, "SELECT * FROM ops.erasures")
    assert list(erasures["reason"]) == ["request: 1"]
    assert list(erasures["people"]) == [1]
    assert int(erasures["rows_removed"].iloc[0]) > 0
    assert tables_holding(forgotten.warehouse, forgotten.person.traces) == []


def test_forget_says_what_remains(forgotten: Forgotten) -> None:
    assert "forgotten: " in forgotten.stdout
    assert "What remains: aggregates already published" in forgotten.stdout
    assert "erase the person at the source" in forgotten.stdout


def test_the_warehouse_stays_private_after_forget(forgotten: Forgotten) -> None:
    assert stat.S_IMODE(os.stat(forgotten.warehouse).st_mode) == 0o600


def test_forgetting_someone_not_in_the_warehouse_exits_2_and_changes_nothing(
    forgotten: Forgotten,
) -> None:
    before = forgotten.warehouse.read_bytes()
    finished = run_repradar(
        "forget",
        forgotten.person.employee_id,
        "--warehouse",
        str(forgotten.warehouse),
        check=False,
    )
    assert finished.returncode == 2
    assert "no employee or CRM user with the id given" in finished.stderr
    assert forgotten.warehouse.read_bytes() == before


def test_the_forget_list_cannot_be_tested_against_ids_with_the_pseudonym_key_alone(
    forgotten: Forgotten,
) -> None:
    """Its hashes are under a key of its own, stored only wrapped by the pseudonym key."""
    hashes = set(
        query(forgotten.warehouse, "SELECT subject_hash FROM ops.forgotten_people")["subject_hash"]
    )
    assert len(hashes) == 2  # the person's HR id and CRM user id
    key = TEST_PSEUDONYM_KEY.encode()
    for person_id in (forgotten.person.employee_id, forgotten.person.user_id):
        assert pseudonym(key, FORGOTTEN_KIND, person_id) not in hashes
    [(wrapped,)] = query(forgotten.warehouse, "SELECT wrapped FROM ops.forget_list_key").values
    assert len(bytes.fromhex(wrapped)) == 32


def test_a_person_a_later_export_brings_back_is_erased_again_after_a_key_rotation(
    forgotten: Forgotten, hostile_company_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(forgotten.warehouse, warehouse)
    rotated = rotate(warehouse, TEST_PSEUDONYM_KEY, NEW_KEY)
    assert rotated.returncode == 0, rotated.stderr
    new_key = {"REPRADAR_PSEUDONYM_KEY": NEW_KEY}
    source = tmp_path / "export"
    shutil.copytree(hostile_company_dir, source)
    employees = source / "hr_employees.csv"
    employees.write_text(employees.read_text() + "\n")  # a new file: loaded again
    run_repradar("ingest", "--source", str(source), "--warehouse", str(warehouse), env=new_key)
    assert forgotten.person.employee_id in set(
        query(warehouse, "SELECT employee_id FROM raw.hr_employees")["employee_id"]
    )
    run_repradar("transform", "--warehouse", str(warehouse), env=new_key)
    assert tables_holding(warehouse, forgotten.person.traces) == []
    reasons = list(query(warehouse, "SELECT reason FROM ops.erasures ORDER BY erased_at")["reason"])
    assert reasons == ["request: 1", "returned: 1"]


def test_text_is_replaced_only_where_the_whole_name_appears(tmp_path: Path) -> None:
    note = tmp_path / "reports" / "note.md"
    note.parent.mkdir()
    note.write_text("Levi Clark left; Levi Clarkson stays; E00235,U00235 levi.clark@example.com\n")
    erasure = Erasure(texts=["levi.clark@example.com", "Levi Clark", "E00235", "U00235"])
    touched = clean_files(tmp_path / "warehouse.duckdb", erasure, [tmp_path / "reports"])
    assert touched == [note]
    assert (
        note.read_text()
        == "[forgotten] left; Levi Clarkson stays; [forgotten],[forgotten] [forgotten]\n"
    )


@pytest.fixture(scope="module")
def retained(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(before, after): a copy of the small company rebuilt with a 6-month retention."""
    folder = tmp_path_factory.mktemp("retention")
    warehouse = folder / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, warehouse)
    run_repradar("transform", "--warehouse", str(warehouse), env={"REPRADAR_RETENTION_MONTHS": "6"})
    return small_warehouse, warehouse


def employee_ids(warehouse: Path, where: str) -> set[str]:
    sql = f"SELECT employee_id FROM raw.hr_employees WHERE {where}"
    return set(query(warehouse, sql)["employee_id"])


def test_leavers_past_the_retention_period_are_erased_on_a_build(
    retained: tuple[Path, Path],
) -> None:
    before, after = retained
    gone = employee_ids(before, f"termination_date < DATE '{AS_OF}' - INTERVAL 7 MONTH")
    assert gone
    remaining = employee_ids(after, "true")
    assert not gone & remaining
    published = set(query(after, "SELECT employee_id FROM restricted.dim_people")["employee_id"])
    assert not gone & published


def test_people_still_employed_or_recently_gone_are_kept(retained: tuple[Path, Path]) -> None:
    before, after = retained
    recent = employee_ids(
        before,
        f"termination_date IS NULL OR termination_date >= DATE '{AS_OF}' - INTERVAL 5 MONTH",
    )
    assert recent
    assert recent <= employee_ids(after, "true")


def test_a_retention_erasure_is_recorded_in_ops(retained: tuple[Path, Path]) -> None:
    _, after = retained
    erasures = query(after, "SELECT reason, people FROM ops.erasures")
    assert len(erasures) == 1
    assert erasures["reason"].iloc[0].startswith("retention: ")
    assert int(erasures["people"].iloc[0]) >= 1


def test_the_default_retention_keeps_three_years_of_leavers(small_warehouse: Path) -> None:
    """The small company spans 12 months: no leaver is older than the default 36."""
    assert employee_ids(small_warehouse, "termination_date IS NOT NULL")
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        (erasure_tables,) = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' "
            "AND table_name = 'erasures'"
        ).fetchone()
    assert erasure_tables == 0
