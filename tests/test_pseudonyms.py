"""Pseudonyms that cannot be reversed (issue #18): employee keys are HMAC-SHA256 of the id
under a secret key that never reaches SQL, dbt's files, the warehouse or the analyst
database; a build refuses a missing, short or different key; rotation moves the history."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from prefect.blocks.system import Secret

from pipelines.pseudonyms import CRM_USER, EMPLOYEE, fingerprint, pseudonym, pseudonym_key
from tests.conftest import NEW_KEY, TEST_PSEUDONYM_KEY, rotate, run_repradar
from tests.marts import query


def employee_keys(warehouse: Path) -> dict[str, str]:
    """employee_id -> employee_key, from HR's restricted map."""
    people = query(warehouse, "SELECT employee_id, employee_key FROM restricted.dim_people")
    return dict(zip(people["employee_id"], people["employee_key"], strict=True))


@pytest.fixture
def scored_copy(operated: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(operated, copy)
    return copy


def test_employee_keys_are_the_hmac_of_the_employee_id_under_the_configured_key(
    warehouse: Path,
) -> None:
    keys = employee_keys(warehouse)
    assert keys
    key = TEST_PSEUDONYM_KEY.encode()
    assert keys == {id_: pseudonym(key, EMPLOYEE, id_) for id_ in keys}


def test_keys_cannot_be_recomputed_from_employee_ids_by_hashing_them(warehouse: Path) -> None:
    """The old scheme (md5 of a default salt and the id) reversed 329 of 329 keys."""
    keys = employee_keys(warehouse)
    guesses = {
        hashlib.md5(f"{salt}{id_}".encode()).hexdigest()
        for id_ in keys
        for salt in ("", "repradar:", "repradar")
    } | {hashlib.sha256(id_.encode()).hexdigest() for id_ in keys}
    assert not guesses & set(keys.values())


def test_employee_and_crm_user_pseudonyms_of_the_same_id_differ() -> None:
    key = TEST_PSEUDONYM_KEY.encode()
    assert pseudonym(key, EMPLOYEE, "E00001") != pseudonym(key, CRM_USER, "E00001")


def test_the_key_is_in_no_file_a_build_writes(built: tuple[Path, str]) -> None:
    warehouse = built[0]
    needle = TEST_PSEUDONYM_KEY.encode()
    files = [path for path in warehouse.parent.rglob("*") if path.is_file()]
    assert any(path.name == "manifest.json" for path in files)
    assert [str(path) for path in files if needle in path.read_bytes()] == []


HASH_CALL = re.compile(r"\b(md5|sha\d*|hash)\(", re.I)
PERSON_ID = re.compile(r"\b(employee_id|user_id)\b", re.I)


def hashes_a_person_id(sql: str) -> bool:
    """Whether a hash function's argument (to its closing parenthesis) uses an id."""
    for call in HASH_CALL.finditer(sql):
        depth, end = 1, call.end()
        while depth and end < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        if PERSON_ID.search(sql[call.end() : end]):
            return True
    return False


def test_no_view_definition_or_compiled_sql_hashes_a_person_id(built: tuple[Path, str]) -> None:
    """Row ids hash pseudonyms (md5 of employee_key and month), never an id itself."""
    warehouse = built[0]
    views = query(warehouse, "SELECT sql FROM duckdb_views() WHERE NOT internal")["sql"]
    compiled = [path.read_text() for path in (warehouse.parent / "dbt").rglob("compiled/**/*.sql")]
    assert compiled and len(views) > 10
    assert [sql for sql in [*views, *compiled] if hashes_a_person_id(sql)] == []
    assert hashes_a_person_id("md5(concat('repradar:', employee_id)) as k")  # the old scheme
    assert not hashes_a_person_id("md5(employee_key || month) as id, employee_id")


def test_a_build_without_a_key_is_refused_naming_the_setting(
    small_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, copy)
    before = copy.read_bytes()
    finished = run_repradar(
        "transform", "--warehouse", str(copy), check=False, env={"REPRADAR_PSEUDONYM_KEY": ""}
    )
    assert finished.returncode == 2, finished.stderr
    assert "no pseudonym key: set REPRADAR_PSEUDONYM_KEY" in finished.stderr
    assert copy.read_bytes() == before


def test_a_short_key_is_refused_without_showing_it(small_warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, copy)
    finished = run_repradar(
        "transform",
        "--warehouse",
        str(copy),
        check=False,
        env={"REPRADAR_PSEUDONYM_KEY": "short-secret-42"},
    )
    assert finished.returncode == 2
    assert "too short: it needs at least 32 characters" in finished.stderr
    assert "short-secret-42" not in finished.stderr + finished.stdout


def test_a_build_with_another_key_is_refused_and_changes_nothing(
    small_warehouse: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_warehouse, copy)
    before = copy.read_bytes()
    finished = run_repradar(
        "transform", "--warehouse", str(copy), check=False, env={"REPRADAR_PSEUDONYM_KEY": NEW_KEY}
    )
    assert finished.returncode == 2
    assert "is not the one this warehouse's employee keys" in finished.stderr
    assert "repradar pseudonyms rotate --old-key-stdin" in finished.stderr
    assert NEW_KEY not in finished.stderr and TEST_PSEUDONYM_KEY not in finished.stderr
    assert copy.read_bytes() == before


def test_rotation_moves_the_score_history_and_the_marts_to_the_new_key(
    scored_copy: Path,
) -> None:
    old_scores = query(scored_copy, "SELECT employee_key FROM ml.rep_attrition_scores")
    ids = {key: id_ for id_, key in employee_keys(scored_copy).items()}

    finished = rotate(scored_copy, TEST_PSEUDONYM_KEY, NEW_KEY)

    assert finished.returncode == 0, finished.stderr
    new = NEW_KEY.encode()
    scores = query(scored_copy, "SELECT employee_key FROM ml.rep_attrition_scores")
    expected = sorted(pseudonym(new, EMPLOYEE, ids[key]) for key in old_scores["employee_key"])
    assert sorted(scores["employee_key"]) == expected
    assert employee_keys(scored_copy) == {
        id_: pseudonym(new, EMPLOYEE, id_) for id_ in employee_keys(scored_copy)
    }
    risk = query(scored_copy, "SELECT DISTINCT employee_key FROM restricted.mart_rep_risk")
    assert set(risk["employee_key"]) <= set(scores["employee_key"])


def test_after_rotation_the_alerts_name_reps_by_their_new_keys(scored_copy: Path) -> None:
    before = query(
        scored_copy, "SELECT alert_id, subject_key FROM ops.alert_outbox WHERE kind = 'rep_risk'"
    )
    assert not before.empty
    ids = {key: id_ for id_, key in employee_keys(scored_copy).items()}

    assert rotate(scored_copy, TEST_PSEUDONYM_KEY, NEW_KEY).returncode == 0

    after = query(
        scored_copy, "SELECT alert_id, subject_key FROM ops.alert_outbox WHERE kind = 'rep_risk'"
    ).set_index("alert_id")["subject_key"]
    for row in before.itertuples():
        assert after[row.alert_id] == pseudonym(NEW_KEY.encode(), EMPLOYEE, ids[row.subject_key])


def test_after_rotation_the_old_key_is_refused(scored_copy: Path) -> None:
    assert rotate(scored_copy, TEST_PSEUDONYM_KEY, NEW_KEY).returncode == 0
    finished = run_repradar("transform", "--warehouse", str(scored_copy), check=False)
    assert finished.returncode == 2
    assert "is not the one this warehouse's employee keys" in finished.stderr


def test_rotation_with_a_wrong_old_key_changes_nothing(scored_copy: Path) -> None:
    before = scored_copy.read_bytes()
    finished = rotate(scored_copy, "not-the-old-key-but-long-enough-to-pass", NEW_KEY)
    assert finished.returncode == 2
    assert "the old key given is not the one this warehouse's" in finished.stderr
    assert scored_copy.read_bytes() == before


def test_rotation_to_the_same_key_is_refused(scored_copy: Path) -> None:
    finished = rotate(scored_copy, TEST_PSEUDONYM_KEY, TEST_PSEUDONYM_KEY)
    assert finished.returncode == 2
    assert "configure the new key first" in finished.stderr


def test_the_warehouse_records_only_a_fingerprint_of_the_key(warehouse: Path) -> None:
    stored = query(warehouse, "SELECT fingerprint FROM pseudonyms.key_check")["fingerprint"]
    assert stored.tolist() == [fingerprint(TEST_PSEUDONYM_KEY.encode())]
    assert TEST_PSEUDONYM_KEY not in stored.iloc[0]


def test_the_key_is_read_from_a_prefect_secret_block(
    prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Secret(value=NEW_KEY).save("repradar-pseudonym-key-test", overwrite=True)
    monkeypatch.setenv("REPRADAR_PSEUDONYM_KEY", "")
    monkeypatch.setenv("REPRADAR_PSEUDONYM_KEY_BLOCK", "repradar-pseudonym-key-test")
    assert pseudonym_key(tmp_path / "warehouse.duckdb") == NEW_KEY.encode()


def test_a_missing_secret_block_is_named(
    prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRADAR_PSEUDONYM_KEY", "")
    monkeypatch.setenv("REPRADAR_PSEUDONYM_KEY_BLOCK", "no-such-block")
    with pytest.raises(ValueError, match="no Prefect Secret block named 'no-such-block'"):
        pseudonym_key(tmp_path / "warehouse.duckdb")


def test_the_analyst_database_holds_no_pseudonyms(warehouse: Path) -> None:
    analytics = warehouse.with_name("analytics.duckdb")
    with duckdb.connect(str(analytics), read_only=True) as con:
        tables = con.execute("SELECT schema_name FROM duckdb_tables()").fetchall()
    assert ("pseudonyms",) not in tables
