"""`--dirty` produces every listed defect, each where its manifest says."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import generate_company

DEFECTS = {
    "duplicate_row",
    "unparseable_date",
    "close_before_created",
    "impossible_date",
    "termination_before_hire",
    "unknown_stage",
    "mixed_case_stage",
    "orphan_owner",
    "blank_amount",
    "negative_amount",
    "encoding",
    "missing_column",
}
ENCODINGS = {"crm_accounts": "gbk", "hr_employees": "utf-8-sig"}


@pytest.fixture(scope="module")
def dirty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    return generate_company(out, "--reps", "36", "--months", "18", "--seed", "5", "--dirty")


@pytest.fixture(scope="module")
def manifest(dirty_dir: Path) -> pd.DataFrame:
    return pd.read_csv(dirty_dir / "_truth" / "dirty_manifest.csv", keep_default_na=False)


def csv_lines(dirty_dir: Path, table: str) -> list[list[str]]:
    encoding = ENCODINGS.get(table, "utf-8")
    text = (dirty_dir / f"{table}.csv").read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text)))


def test_every_listed_defect_is_produced(manifest: pd.DataFrame) -> None:
    assert set(manifest["defect"]) == DEFECTS


def test_each_bad_value_sits_on_its_manifest_line(dirty_dir: Path, manifest) -> None:
    cells = manifest[(manifest["line"] > 0) & (manifest["column"] != "")]
    for row in cells.itertuples():
        lines = csv_lines(dirty_dir, row.table)
        column = lines[0].index(row.column)
        assert lines[row.line - 1][column] == row.value, (row.table, row.line, row.defect)


def test_duplicate_rows_repeat_an_earlier_line(dirty_dir: Path, manifest) -> None:
    duplicates = manifest[manifest["defect"] == "duplicate_row"]
    assert set(duplicates["table"]) == {
        "crm_opportunities",
        "crm_activities",
        "hr_engagement_surveys",
    }
    for row in duplicates.itertuples():
        lines = csv_lines(dirty_dir, row.table)
        assert lines[row.line - 1] in lines[1 : row.line - 1]


def test_accounts_file_is_gbk_with_chinese_names(dirty_dir: Path) -> None:
    raw = (dirty_dir / "crm_accounts.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "有限公司" in raw.decode("gbk")


def test_employees_file_starts_with_a_utf8_bom(dirty_dir: Path) -> None:
    assert (dirty_dir / "hr_employees.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_surveys_file_misses_intent_to_stay(dirty_dir: Path) -> None:
    header = csv_lines(dirty_dir, "hr_engagement_surveys")[0]
    assert "intent_to_stay" not in header
    assert "engagement" in header


def test_clean_files_stay_clean(dirty_dir: Path, manifest: pd.DataFrame) -> None:
    untouched = {
        "crm_users",
        "crm_account_owner_history",
        "crm_account_team",
        "hr_job_history",
        "hr_performance_reviews",
        "hr_exit_interviews",
        "sales_quotas",
    }
    assert not untouched & set(manifest["table"])
