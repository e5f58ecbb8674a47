"""Mapping features for exports as vendors really write them: alternatives, localized
headers, null placeholders, references given by name, flags derived from and checked
against the stage, optional files, gap-filling sources and `extends:`.

Each test writes a small export and a mapping by hand and runs the real `repradar ingest`
against a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.conftest import ingest_cli

USERS = "Id,FirstName,LastName,Email,IsActive,ManagerId\n"
USERS_MAPPING = """
null_values: ["000000000000000AAA"]
tables:
  crm_users:
    file: users.csv
    columns:
      user_id: Id
      name:
        - Name
        - sql: trim(concat_ws(' ', "FirstName", "LastName"))
      email: Email
      is_active: IsActive
      manager_user_id: ManagerId
"""
DEALS = "Id,Account,Owner,Created,Closes,Stage,Amount\n"
DEALS_MAPPING = """
tables:
  crm_opportunities:
    file: deals.csv
    columns:
      opportunity_id: Id
      account_id: Account
      owner_user_id: {from: Owner, match: name}
      created_at: Created
      close_date: Closes
      stage: {from: Stage, values: {Won: Closed Won, Lost: Closed Lost, Talking: Contacted}}
      amount: Amount
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def ingest(source: Path, warehouse: Path, mapping_text: str) -> None:
    mapping = write(source.parent, "mapping.yaml", mapping_text)
    result = ingest_cli(source, warehouse, "--mapping", str(mapping))
    assert result.exit_code == 0, result.output


def test_the_first_alternative_the_file_can_fill_makes_the_column(
    source: Path, warehouse: Path
) -> None:
    write(source, "users.csv", USERS + "U1,Ann,Lee,ann@x.com,1,\n")
    ingest(source, warehouse, USERS_MAPPING)
    assert rows(warehouse, "SELECT name FROM raw.crm_users") == [("Ann Lee",)]


def test_an_earlier_alternative_wins_when_the_file_has_it(source: Path, warehouse: Path) -> None:
    write(
        source, "users.csv", "Id,Name,FirstName,LastName,Email,IsActive\nU1,A. Lee,Ann,Lee,a@x,1\n"
    )
    ingest(source, warehouse, USERS_MAPPING)
    assert rows(warehouse, "SELECT name FROM raw.crm_users") == [("A. Lee",)]


def test_a_null_placeholder_loads_as_empty(source: Path, warehouse: Path) -> None:
    write(source, "users.csv", USERS + "U1,Ann,Lee,ann@x.com,1,000000000000000AAA\n")
    ingest(source, warehouse, USERS_MAPPING)
    assert rows(warehouse, "SELECT manager_user_id FROM raw.crm_users") == [(None,)]


def test_a_localized_header_is_read_as_the_header_the_mapping_names(
    source: Path, warehouse: Path
) -> None:
    write(source, "users.csv", "Id,Vorname,Nachname,E-Mail,IsActive\nU1,Jürgen,Müller,j@x,1\n")
    ingest(
        source,
        warehouse,
        "headers: {FirstName: [Vorname], LastName: [Nachname], Email: [E-Mail]}\n" + USERS_MAPPING,
    )
    assert rows(warehouse, "SELECT name, email FROM raw.crm_users") == [("Jürgen Müller", "j@x")]


def test_localized_headers_leave_files_the_mapping_does_not_read_alone(
    source: Path, warehouse: Path
) -> None:
    write(source, "users.csv", USERS + "U1,Ann,Lee,ann@x.com,1,\n")
    write(
        source,
        "crm_accounts.csv",
        "account_id,name,industry,segment,region,owner_user_id,created_at,is_key_account\n"
        "A1,Acme,Retail,SMB,EU,U1,2026-01-05,false\n",
    )
    ingest(source, warehouse, "headers: {Account ID: [account_id]}\n" + USERS_MAPPING)
    assert rows(warehouse, "SELECT account_id FROM raw.crm_accounts") == [("A1",)]


def test_a_reference_given_by_name_is_matched_to_the_row_of_that_name(
    source: Path, warehouse: Path
) -> None:
    write(
        source, "users.csv", USERS + "U1,Ann,Lee,ann@x,1,\nU2,Bo,Berg,bo@x,1,\nU3,Bo,Berg,b2@x,1,\n"
    )
    write(
        source,
        "deals.csv",
        DEALS
        + "D1,Acme,Ann Lee,2026-01-05,2026-03-01,Won,10\n"
        + "D2,Acme,U1,2026-01-05,2026-03-01,Won,10\n"
        + "D3,Acme,Bo Berg,2026-01-05,2026-03-01,Won,10\n",
    )
    write(
        source,
        "crm_accounts.csv",
        "account_id,name,industry,segment,region,owner_user_id,created_at,is_key_account\n"
        "Acme,Acme,Retail,SMB,EU,U1,2026-01-05,false\n",
    )
    ingest(source, warehouse, USERS_MAPPING + DEALS_MAPPING.removeprefix("\ntables:\n"))
    assert rows(warehouse, "SELECT opportunity_id, owner_user_id FROM raw.crm_opportunities") == [
        ("D1", "U1"),
        ("D2", "U1"),
    ]
    [(reason,)] = rows(warehouse, "SELECT _reason FROM quarantine.crm_opportunities")
    assert "Bo Berg" in reason  # two users carry the name: not guessed between them


def test_without_closed_and_won_flags_they_follow_from_the_stage(
    source: Path, warehouse: Path
) -> None:
    write(
        source,
        "deals.csv",
        DEALS
        + "D1,Acme,ann,2026-01-05,2026-03-01,Won,10\n"
        + "D2,Acme,ann,2026-01-05,2026-03-01,Lost,10\n"
        + "D3,Acme,ann,2026-01-05,2026-03-01,Talking,10\n",
    )
    ingest(source, warehouse, DEALS_MAPPING.replace(", match: name", ""))
    assert rows(
        warehouse, "SELECT opportunity_id, is_closed, is_won FROM raw.crm_opportunities ORDER BY 1"
    ) == [("D1", True, True), ("D2", True, False), ("D3", False, False)]


def test_a_stage_contradicting_the_exports_closed_flag_is_quarantined(
    source: Path, warehouse: Path
) -> None:
    write(
        source,
        "deals.csv",
        "Id,Account,Owner,Created,Closes,Stage,Amount,IsClosed,IsWon\n"
        "D1,Acme,ann,2026-01-05,2026-03-01,Lost,10,false,false\n"
        "D2,Acme,ann,2026-01-05,2026-03-01,Won,10,true,true\n"
        "D3,Acme,ann,2026-01-05,2026-03-01,Talking,10,false,false\n",
    )
    mapping = (
        DEALS_MAPPING.replace(", match: name", "")
        + "      is_closed: IsClosed\n      is_won: IsWon\n"
    )
    ingest(source, warehouse, mapping)
    assert rows(warehouse, "SELECT _source_row, _rule FROM quarantine.crm_opportunities") == [
        (2, "stage.agrees_with_is_closed")
    ]


def test_an_optional_file_lacking_a_required_column_is_skipped_not_rejected(
    source: Path, warehouse: Path
) -> None:
    write(source, "users.csv", USERS + "U1,Ann,Lee,ann@x.com,1,\n")
    write(source, "history.csv", "Employee,Date\nE1,2026-01-05\n")
    mapping = USERS_MAPPING + (
        "  hr_job_history:\n    file: history.csv\n    optional: true\n"
        "    columns: {employee_id: Employee, effective_date: Date}\n"
    )
    ingest(source, warehouse, mapping)
    [(status, message)] = rows(
        warehouse, "SELECT status, message FROM ops.load_log WHERE table_name = 'hr_job_history'"
    )
    assert status == "skipped" and "change_type" in message


def test_a_gap_filling_source_adds_only_keys_the_earlier_file_lacks(
    source: Path, warehouse: Path
) -> None:
    write(source, "users.csv", USERS + "U1,Ann,Lee,ann@x.com,1,\n")
    write(source, "owners.csv", "Owner\nU1\nU9\nU9\n")
    mapping = """
tables:
  crm_users:
    - file: users.csv
      columns: {user_id: Id, name: FirstName, email: Email, is_active: IsActive}
    - file: owners.csv
      fills_gaps: true
      columns: {email: {value: x@x}, is_active: {value: "false"}}
      rows: [{user_id: Owner, name: Owner}]
"""
    ingest(source, warehouse, mapping)
    assert rows(warehouse, "SELECT user_id, is_active FROM raw.crm_users ORDER BY 1") == [
        ("U1", True),
        ("U9", False),
    ]


def test_a_mapping_that_extends_a_shipped_one_adds_its_values(tmp_path: Path) -> None:
    from pipelines.ingest.options import read_mapping

    mine = write(
        tmp_path,
        "mine.yaml",
        "extends: zoho\ntables:\n  crm_opportunities:\n    columns:\n      stage:\n"
        "        from: Stage\n        values: {Verbal Commit: Negotiation}\n",
    )
    options = read_mapping(mine)
    stage = options.tables["crm_opportunities"][0].columns["stage"]
    assert stage.values["Verbal Commit"] == "Negotiation"  # added to the shipped ones
    assert stage.values["Closed Lost to Competition"] == "Closed Lost"
    assert options.tables["crm_opportunities"][0].columns["close_date"].source == "Closing Date"


def test_match_is_refused_on_a_column_that_refers_to_nothing(source: Path) -> None:
    write(source, "deals.csv", DEALS)
    bad = write(
        source.parent,
        "bad.yaml",
        DEALS_MAPPING.replace("amount: Amount", "amount: {from: Amount, match: name}"),
    )
    result = CliRunner().invoke(app, ["mapping", "check", str(bad), "--source", str(source)])
    assert result.exit_code == 2
    assert "match" in result.output


def test_a_file_lacking_several_required_columns_names_every_one(
    source: Path, warehouse: Path
) -> None:
    write(source, "crm_users.csv", "user_id,team\nU1,East\n")
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "column name: found no such column" in message
    assert "3 required columns missing; also column email" in message
    assert "also column is_active" in message


def test_every_mapping_expression_that_does_not_fit_is_named_in_one_error(
    source: Path, warehouse: Path
) -> None:
    write(source, "users.csv", "Id,Email,IsActive\nU1,a@x,1\n")
    mapping = write(
        source.parent,
        "two.yaml",
        "tables:\n  crm_users:\n    file: users.csv\n    columns:\n      user_id: Id\n"
        "      name: {sql: 'upper(\"Nom\")'}\n      email: Email\n      is_active: IsActive\n"
        "      team: {sql: 'lower(\"Equipe\")'}\n",
    )
    result = ingest_cli(source, warehouse, "--mapping", str(mapping))
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "column name: found a mapping `sql:` that does not run" in message
    assert "also column team" in message


def test_the_ingest_lists_every_failed_rule_of_every_file_with_counts_and_a_first_row(
    source: Path, warehouse: Path
) -> None:
    write(
        source,
        "users.csv",
        USERS + "U1,Ann,Lee,ann@x.com,1,\nU2,Bo,Berg,,1,\nU3,Cy,Dahl,,1,\n"
        "U4,Di,Eck,d@x,1,\nU5,Ed,Fox,e@x,1,\n",
    )
    write(source, "deals.csv", DEALS + "D1,Acme,Ann Lee,2026-03-05,2026-03-01,Won,10\n")
    ingest(source, warehouse, USERS_MAPPING + DEALS_MAPPING.removeprefix("\ntables:\n"))
    result = ingest_cli(
        source, warehouse, "--mapping", str(source.parent / "mapping.yaml"), "--force"
    )
    lines = result.stdout.splitlines()
    assert "problems in users.csv (crm_users):" in lines
    assert any(
        line.startswith("  email.not_null (reject_row): 2 row(s); first: row 3") for line in lines
    )
    assert "problems in deals.csv (crm_opportunities):" in lines
    assert any(
        line.startswith("  close_date.not_before_created_at (warn): 1 row(s)") for line in lines
    )


def test_rows_from_headers_gives_a_stage_entry_per_date_entered_column_of_any_pipeline(
    source: Path, warehouse: Path
) -> None:
    write(
        source,
        "deals.csv",
        'Record ID,Date entered "Discovery call (Enterprise)",Date entered "Won (Enterprise)",'
        'Date exited "Discovery call (Enterprise)"\n'
        "D1,2026-01-05,2026-02-01,2026-02-01\nD2,2026-01-07,,\n",
    )
    ingest(
        source,
        warehouse,
        """
max_quarantine_share: 1
tables:
  crm_opportunity_stage_history:
    file: deals.csv
    columns: {opportunity_id: Record ID}
    rows_from_headers:
      header: 'Date entered "(.+) \\([^()]*\\)"'
      column: entered_at
      as: stage
      values: {Won: Closed Won}
""",
    )
    assert rows(
        warehouse,
        "SELECT opportunity_id, stage, entered_at::VARCHAR FROM raw.crm_opportunity_stage_history "
        "ORDER BY 1, 3",
    ) == [
        ("D1", "Needs Analysis", "2026-01-05"),  # "Discovery call": guessed from its words
        ("D1", "Closed Won", "2026-02-01"),
        ("D2", "Needs Analysis", "2026-01-07"),
    ]


def test_rows_from_headers_needs_one_group_in_its_pattern(source: Path) -> None:
    write(source, "deals.csv", "Record ID\n")
    bad = write(
        source.parent,
        "bad.yaml",
        "tables:\n  crm_opportunity_stage_history:\n    file: deals.csv\n"
        "    rows_from_headers: {header: 'Date entered', column: entered_at, as: stage}\n",
    )
    result = CliRunner().invoke(app, ["mapping", "check", str(bad), "--source", str(source)])
    assert result.exit_code == 2
    assert "exactly one (group)" in result.output


def test_a_hostile_label_reaches_the_terminal_as_plain_text(source: Path, warehouse: Path) -> None:
    """A guessed label and a failed value are quoted in the load's warnings and problem
    lines: no escape sequence or right-to-left override gets through."""
    hostile = "Zq\x1b[2J\u202ex"  # no guess: quarantined, its value quoted
    write(
        source,
        "deals.csv",
        DEALS
        + f"D1,Acme,ann,2026-01-05,2026-03-01,{hostile},10\n"
        + "D2,Acme,ann,2026-01-05,2026-03-01,Won,10\nD3,Acme,ann,2026-01-05,2026-03-01,Won,10\n",
    )
    mapping = write(source.parent, "mapping.yaml", DEALS_MAPPING.replace(", match: name", ""))
    result = ingest_cli(source, warehouse, "--mapping", str(mapping))
    assert "warning: stage:" in result.stderr
    assert "problems in deals.csv" in result.stdout
    for text in (result.stdout, result.stderr):
        assert "\x1b" not in text and "\u202e" not in text
