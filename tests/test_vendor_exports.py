"""Exports shaped as the vendors write them (hand-written from their documentation and
public samples, `tests/fixtures/vendor_exports/<vendor>/<variant>/SOURCES.md`) load with
the shipped mapping as shipped: exit 0, at least 90% of the rows, no garbled text, and
the deals won and lost, the leavers voluntary and involuntary, that the export says."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, ingest_cli

FIXTURES = REPO / "tests" / "fixtures" / "vendor_exports"
# (mapping, folder, won, lost) of the CRM exports; the counts are the fixture's own
CRM = [
    ("salesforce", "salesforce/weekly_export_latin1", 11, 8),
    ("salesforce", "salesforce/data_loader_utf8", 11, 8),
    ("hubspot", "hubspot/english", 11, 7),
    ("hubspot", "hubspot/german", 11, 7),
    ("hubspot", "hubspot/spanish", 11, 7),
    ("zoho", "zoho/data_backup/Data", 12, 8),
    ("zoho", "zoho/module_export", 12, 8),
    ("fxiaoke", "fxiaoke/simplified_gbk", 12, 8),
    ("fxiaoke", "fxiaoke/traditional_utf8", 12, 8),
]
# (mapping, folder, voluntary, involuntary): BambooHR's Death and Workday's
# "Involuntary > Death" are involuntary
HR = [
    ("bamboohr", "bamboohr/custom_report_mdy", 3, 3),
    ("bamboohr", "bamboohr/custom_report_xlsx", 3, 3),
    ("workday", "workday/all_workers_csv", 3, 3),
    ("workday", "workday/all_workers_xlsx", 3, 3),
]
GARBLED = ("\ufffd", "Ã", "Â", "鑼", "黵")  # replacement character, UTF-8 read as Latin-1


def load(mapping: str, folder: str, tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse.duckdb"
    result = ingest_cli(FIXTURES / folder, warehouse, "--mapping", mapping)
    assert result.exit_code == 0, result.output
    return warehouse


def loaded_share(warehouse: Path) -> float:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        read, loaded = con.execute(
            "SELECT sum(rows_read), sum(rows_loaded) FROM ops.load_log WHERE status = 'loaded'"
        ).fetchone()
    return loaded / read


def names(warehouse: Path, sql: str) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [n for (n,) in con.execute(sql).fetchall() if n]


@pytest.mark.parametrize(("mapping", "folder", "won", "lost"), CRM, ids=[c[1] for c in CRM])
def test_a_real_shaped_crm_export_loads_with_the_shipped_mapping(
    mapping: str, folder: str, won: int, lost: int, tmp_path: Path
) -> None:
    warehouse = load(mapping, folder, tmp_path)
    assert loaded_share(warehouse) >= 0.9
    texts = names(
        warehouse, "SELECT name FROM raw.crm_users UNION ALL SELECT name FROM raw.crm_accounts"
    )
    assert texts and not [t for t in texts if any(g in t for g in GARBLED)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        outcome = con.execute(
            "SELECT count(*) FILTER (is_won), count(*) FILTER (is_closed AND NOT is_won), "
            "count(*) FILTER (is_closed <> (stage IN ('Closed Won', 'Closed Lost'))) "
            "FROM raw.crm_opportunities"
        ).fetchone()
    assert outcome == (won, lost, 0)


@pytest.mark.parametrize(
    ("mapping", "folder", "voluntary", "involuntary"), HR, ids=[h[1] for h in HR]
)
def test_a_real_shaped_hr_export_loads_with_the_shipped_mapping(
    mapping: str, folder: str, voluntary: int, involuntary: int, tmp_path: Path
) -> None:
    warehouse = load(mapping, folder, tmp_path)
    assert loaded_share(warehouse) >= 0.9
    with duckdb.connect(str(warehouse), read_only=True) as con:
        labels = dict(
            con.execute(
                "SELECT termination_type, count(*) FROM raw.hr_employees "
                "WHERE termination_date IS NOT NULL GROUP BY 1"
            ).fetchall()
        )
    assert labels == {"voluntary": voluntary, "involuntary": involuntary}


def test_the_salesforce_weekly_export_in_latin_1_keeps_its_accents(tmp_path: Path) -> None:
    warehouse = load("salesforce", "salesforce/weekly_export_latin1", tmp_path)
    users = names(warehouse, "SELECT name FROM raw.crm_users")
    assert {"Jürgen Müller", "François Lefèvre", "Søren Kjærgaard"} <= set(users)


def test_a_bamboohr_report_without_the_custom_fields_still_loads(tmp_path: Path) -> None:
    """Job Level, Change Reason, Variable Target and Band Midpoint are custom fields: a
    report without them loads the employees and pay, and skips the job history."""
    import csv

    source = tmp_path / "exports"
    source.mkdir()
    custom = {"Job Level", "Change Reason", "Variable Target", "Band Midpoint"}
    for path in (FIXTURES / "bamboohr/custom_report_mdy").glob("*.csv"):
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        kept = [c for c in rows[0] if c not in custom]
        with (source / path.name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, kept, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    result = ingest_cli(source, tmp_path / "warehouse.duckdb", "--mapping", "bamboohr")
    assert result.exit_code == 0, result.output
    assert "Job Information History.csv: skipped (optional: true in the mapping)" in result.output


@pytest.mark.parametrize(
    ("folder", "system"),
    [
        ("salesforce/weekly_export_latin1", "salesforce"),
        ("hubspot/spanish", "hubspot"),
        ("zoho/module_export", "zoho"),
        ("fxiaoke/traditional_utf8", "fxiaoke"),
        ("bamboohr/custom_report_mdy", "bamboohr"),
        ("workday/all_workers_xlsx", "workday"),
    ],
)
def test_mapping_detect_names_the_system_that_wrote_the_files(folder: str, system: str) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    result = CliRunner().invoke(app, ["mapping", "detect", "--source", str(FIXTURES / folder)])
    assert result.exit_code == 0, result.output
    assert f"matches the shipped mapping {system}:" in result.output


def test_mapping_detect_writes_a_starter_that_confirms_the_guessed_stages(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    starter = tmp_path / "mine.yaml"
    source = FIXTURES / "hubspot/english"
    result = CliRunner().invoke(
        app, ["mapping", "detect", "--source", str(source), "--write", str(starter)]
    )
    assert result.exit_code == 0, result.output
    text = starter.read_text(encoding="utf-8")
    assert "extends: hubspot" in text and "Demo booked: Needs Analysis" in text
    check = CliRunner().invoke(app, ["mapping", "check", str(starter), "--source", str(source)])
    assert check.exit_code == 0, check.output
    assert "loaded as guessed" not in check.output


BACK_AND_FORTH = "5836190000002195095"  # Zoho fixture: Needs Analysis <-> Proposal, 3 visits


@pytest.fixture(scope="module")
def zoho_marts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Zoho Data Backup fixture, ingested and built into marts (a CRM-only company)."""
    from tests.conftest import run_repradar

    warehouse = tmp_path_factory.mktemp("zoho") / "warehouse.duckdb"
    result = ingest_cli(FIXTURES / "zoho/data_backup/Data", warehouse, "--mapping", "zoho")
    assert result.exit_code == 0, result.output
    run_repradar("transform", "--warehouse", str(warehouse))
    return warehouse


def test_a_deal_that_goes_back_and_forth_keeps_every_stage_entry(zoho_marts: Path) -> None:
    entries = names(
        zoho_marts,
        "SELECT stage FROM raw.crm_opportunity_stage_history "
        f"WHERE opportunity_id = '{BACK_AND_FORTH}' ORDER BY entered_at",
    )
    assert entries == ["Lead"] + ["Needs Analysis", "Proposal"] * 3 + ["Negotiation", "Closed Won"]


def test_stage_transitions_have_a_row_per_visit_and_the_funnel_counts_a_deal_once(
    zoho_marts: Path,
) -> None:
    with duckdb.connect(str(zoho_marts), read_only=True) as con:
        visits = con.execute(
            "SELECT entry_number, stage_name FROM marts.fct_stage_transitions "
            "WHERE opportunity_id = ? ORDER BY entry_number",
            [BACK_AND_FORTH],
        ).fetchall()
        reached = con.execute(
            "SELECT count(*) FROM intermediate.int_opportunity_stages_reached "
            "WHERE opportunity_id = ? AND stage_name = 'Needs Analysis'",
            [BACK_AND_FORTH],
        ).fetchone()[0]
    assert [n for n, _ in visits] == list(range(1, 10))
    assert [s for _, s in visits].count("Proposal") == 3
    assert reached == 1
