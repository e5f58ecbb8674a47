"""Mapping files: how exports in another system's shape become contract rows.

Each test writes a small export by hand, in a vendor-like shape, and a mapping for it,
then runs the real `repradar ingest` (or `repradar mapping ...`) against a real DuckDB file.
"""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner, Result

from pipelines.cli import app
from tests.conftest import ingest_cli
from tests.exports import row, write_csv

DEALS_HEADER = "Deal ID,Company,Owner,Created,Closes,Phase,Value\n"
DEALS_MAPPING = """
tables:
  crm_opportunities:
    file: "deals*.csv"
    columns:
      opportunity_id: Deal ID
      account_id: Company
      owner_user_id: {from: Owner}
      created_at: Created
      close_date: Closes
      stage:
        from: Phase
        values: {Qualify: Lead, Pitch: Proposal, Signed: Closed Won, Gone: Closed Lost}
      is_closed: {from: Phase, values: {Signed: "true", Gone: "true"}, default: "false"}
      is_won: {from: Phase, values: {Signed: "true"}, default: "false"}
      amount: Value
      currency: {value: EUR}
      lead_source: {sql: "'Partner ' || upper(\\"Owner\\")"}
"""


def write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def raw_rows(warehouse: Path, table: str, columns: str, order: str = "1") -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"SELECT {columns} FROM raw.{table} ORDER BY {order}").fetchall()


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    directory = tmp_path / "exports"
    directory.mkdir()
    return directory


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def deals_mapping(tmp_path: Path) -> Path:
    return write(tmp_path, "deals.yaml", DEALS_MAPPING)


def test_renames_constants_expressions_and_value_maps_make_contract_rows(
    source: Path, warehouse: Path, deals_mapping: Path
) -> None:
    write(
        source,
        "deals-2026-11.csv",
        DEALS_HEADER
        + "D1,Acme,ann,2026-01-05,2026-03-01,Signed,1200\n"
        + "D2,Acme,bob,2026-02-05,2026-04-01,pitch ,800\n",
    )
    assert ingest_cli(source, warehouse, "--mapping", str(deals_mapping)).exit_code == 0
    assert raw_rows(
        warehouse,
        "crm_opportunities",
        "opportunity_id, account_id, owner_user_id, stage, is_closed, is_won, amount::VARCHAR, "
        "currency, lead_source",
    ) == [
        ("D1", "Acme", "ann", "Closed Won", True, True, "1200.00", "EUR", "Partner ANN"),
        ("D2", "Acme", "bob", "Proposal", False, False, "800.00", "EUR", "Partner BOB"),
    ]


UNMAPPED_STAGES = (
    DEALS_HEADER
    + "D1,Acme,ann,2026-01-05,2026-03-01,Signed,1200\n"
    + "D2,Acme,ann,2026-01-05,2026-03-01,Deal won,1200\n"
    + "D3,Acme,ann,2026-01-05,2026-03-01,Demo booked,1200\n"
    + "D4,Acme,ann,2026-01-05,2026-03-01,Demo booked,1200\n"
    + "D5,Acme,ann,2026-01-05,2026-03-01,Stage 7,1200\n"
)


def test_unmapped_stages_load_as_guessed_from_their_words_and_the_rest_is_quarantined(
    source: Path, warehouse: Path, deals_mapping: Path
) -> None:
    write(source, "deals.csv", UNMAPPED_STAGES)
    result = ingest_cli(source, warehouse, "--mapping", str(deals_mapping))
    assert result.exit_code == 0, result.output
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id, stage, is_closed, is_won") == [
        ("D1", "Closed Won", True, True),
        ("D2", "Closed Won", True, True),
        ("D3", "Needs Analysis", False, False),
        ("D4", "Needs Analysis", False, False),
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        note = con.execute(
            "SELECT message FROM ops.load_log WHERE table_name = 'crm_opportunities'"
        ).fetchone()[0]
        assert con.execute("SELECT _source_row FROM quarantine.crm_opportunities").fetchall() == [
            (6,)
        ]
    assert "'Deal won' (1 row(s)) as Closed Won, 'Demo booked' (2 row(s)) as Needs Analysis" in (
        note
    )
    assert "quarantined, no guess: 'Stage 7' (1 row(s))" in note
    assert '"Demo booked": Needs Analysis   # guessed' in note
    assert '"Stage 7": ???   # one of Lead, Contacted' in note


def test_a_stage_the_export_flags_closed_and_won_is_guessed_closed_won_whatever_its_words(
    source: Path, warehouse: Path
) -> None:
    write(
        source,
        "deals.csv",
        "Id,AccountId,OwnerId,CreatedDate,CloseDate,StageName,IsClosed,IsWon,Amount\n"
        "D1,Acme,ann,2026-01-05,2026-03-01,Vertrag unterschrieben,true,true,10\n"
        "D2,Acme,ann,2026-01-05,2026-03-01,Abgesagt,true,false,10\n"
        "D3,Acme,ann,2026-01-05,2026-03-01,Angebot,false,false,10\n",
    )
    mapping = write(
        source.parent,
        "flags.yaml",
        """
tables:
  crm_opportunities:
    file: deals.csv
    columns:
      opportunity_id: Id
      account_id: AccountId
      owner_user_id: OwnerId
      created_at: CreatedDate
      close_date: CloseDate
      stage: {from: StageName, values: {Prospecting: Lead}}
      is_closed: IsClosed
      is_won: IsWon
      amount: Amount
""",
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id, stage") == [
        ("D1", "Closed Won"),
        ("D2", "Closed Lost"),
        ("D3", "Proposal"),
    ]


def test_unknown_values_reject_stops_the_load_listing_every_value_with_a_guess(
    source: Path, warehouse: Path, deals_mapping: Path
) -> None:
    write(source, "deals.csv", UNMAPPED_STAGES)
    strict = write(source.parent, "strict.yaml", "unknown_values: reject\n" + DEALS_MAPPING)
    result = ingest_cli(source, warehouse, "--mapping", str(strict))
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "deals.csv, row 3, column stage" in message
    assert "'Deal won' (1 row(s)), 'Demo booked' (2 row(s)), 'Stage 7' (1 row(s))" in message
    assert "tables.crm_opportunities.columns.stage.values" in result.stderr
    assert '"Deal won": Closed Won   # guessed' in result.stderr
    assert '"Stage 7": ???   # one of Lead, Contacted' in result.stderr


def test_unknown_values_quarantine_guesses_nothing(
    source: Path, warehouse: Path, deals_mapping: Path
) -> None:
    write(source, "deals.csv", UNMAPPED_STAGES)
    careful = write(
        source.parent,
        "careful.yaml",
        "unknown_values: quarantine\nmax_quarantine_share: 1\n" + DEALS_MAPPING,
    )
    assert ingest_cli(source, warehouse, "--mapping", str(careful)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id") == [("D1",)]


def test_a_mapped_column_missing_from_the_file_names_the_mapping(
    source: Path, warehouse: Path, deals_mapping: Path
) -> None:
    write(source, "deals.csv", "Deal ID,Company,Owner,Created,Closes,Phase\n")
    result = ingest_cli(source, warehouse, "--mapping", str(deals_mapping))
    assert result.exit_code == 3
    assert "column amount: found no source column for it (the mapping reads 'Value'" in (
        " ".join(result.stderr.split())
    )


def test_a_mapping_expression_that_does_not_fit_the_file_names_the_column(
    source: Path, warehouse: Path, deals_mapping: Path
) -> None:
    write(source, "deals.csv", "Deal ID,Company,Created,Closes,Phase,Value\n")
    result = ingest_cli(source, warehouse, "--mapping", str(deals_mapping))
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "deals.csv, row 1 (header), column lead_source: found a mapping `sql:`" in message
    assert 'Referenced column "Owner" not found' in message


def test_a_date_format_is_strict_and_a_mismatch_is_quarantined_with_its_row(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    dotted = DEALS_MAPPING.replace("    columns:\n", "    date_format: '%d.%m.%Y'\n    columns:\n")
    path = write(tmp_path, "dotted.yaml", dotted)
    write(
        source,
        "deals.csv",
        DEALS_HEADER
        + "D1,Acme,ann,05.01.2026,01.03.2026,Signed,1200\n"
        + "D2,Acme,ann,05.01.2026,01.03.2026,Signed,1200\n"
        + "D3,Acme,ann,01/05/2026,01.03.2026,Signed,1200\n"
        + "D4,Acme,ann,2026-01-05,01.03.2026,Signed,1200\n",
    )
    assert ingest_cli(source, warehouse, "--mapping", str(path)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id, created_at::VARCHAR") == [
        ("D1", "2026-01-05"),
        ("D2", "2026-01-05"),
        ("D4", "2026-01-05"),  # ISO is unambiguous (and what an Excel date cell becomes)
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantined = con.execute(
            "SELECT _source_row, _rule, created_at FROM quarantine.crm_opportunities"
        ).fetchall()
    assert quarantined == [(4, "created_at.type", "01/05/2026")]


def test_a_date_failing_the_mapped_format_says_which_format_was_expected(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    dotted = DEALS_MAPPING.replace("    columns:\n", "    date_format: '%d.%m.%Y'\n    columns:\n")
    path = write(tmp_path, "dotted.yaml", dotted)
    write(
        source,
        "deals.csv",
        DEALS_HEADER
        + "D1,Acme,ann,05.01.2026,01.03.2026,Signed,1200\n"
        + "D2,Acme,ann,05.01.2026,01.03.2026,Signed,1200\n"
        + "D3,Acme,ann,20260105,01.03.2026,Signed,1200\n",
    )
    assert ingest_cli(source, warehouse, "--mapping", str(path)).exit_code == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (reason,) = con.execute("SELECT _reason FROM quarantine.crm_opportunities").fetchone()
    assert "expected a date in the mapping's format %d.%m.%Y" in reason


STAGE_COLUMNS_MAPPING = """
tables:
  crm_opportunity_stage_history:
    file: deals.csv
    columns: {opportunity_id: Record ID}
    rows:
      - {stage: {value: Lead}, entered_at: 'Date entered "Appointment scheduled"'}
      - {stage: {value: Proposal}, entered_at: 'Date entered "Contract sent"'}
      - {stage: {value: Closed Won}, entered_at: 'Date entered "Closed won"'}
"""


def test_stage_entry_columns_become_one_history_row_per_stage_entered(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(
        source,
        "deals.csv",
        'Record ID,Date entered "Appointment scheduled",Date entered "Contract sent",'
        'Date entered "Closed won"\n'
        "D1,2026-01-05 10:00,2026-02-01 09:30,2026-03-01 16:00\n"
        "D2,2026-01-07 11:00,,\n"
        "D3,2026-01-09 08:00,not a date,\n",
    )
    mapping = write(tmp_path, "stages.yaml", STAGE_COLUMNS_MAPPING)
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(
        warehouse,
        "crm_opportunity_stage_history",
        "opportunity_id, stage, entered_at::VARCHAR",
        order="1, 3",
    ) == [
        ("D1", "Lead", "2026-01-05"),
        ("D1", "Proposal", "2026-02-01"),
        ("D1", "Closed Won", "2026-03-01"),
        ("D2", "Lead", "2026-01-07"),
        ("D3", "Lead", "2026-01-09"),
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantined = con.execute(
            "SELECT _source_row, _rule, stage FROM quarantine.crm_opportunity_stage_history"
        ).fetchall()
    assert quarantined == [(4, "entered_at.type", "Proposal")]  # the source file's row 4


def test_identical_derived_rows_collapse_into_one(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(
        source,
        "team.csv",
        "agent,manager,office\nAnn,Mia,East\nBob,Mia,East\nCid,Max,West\n",
    )
    mapping = write(
        tmp_path,
        "team.yaml",
        """
policies: {crm_users.email.present: warn, crm_users.email.not_null: warn}
tables:
  crm_users:
    file: team.csv
    columns: {team: office, region: office, is_active: {value: "true"}}
    rows:
      - {user_id: agent, name: agent, manager_user_id: manager}
      - {user_id: manager, name: manager}
""",
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_users", "user_id, manager_user_id, team") == [
        ("Ann", "Mia", "East"),
        ("Bob", "Mia", "East"),
        ("Cid", "Max", "West"),
        ("Max", None, "West"),
        ("Mia", None, "East"),
    ]


HISTORY_MAPPING = """
tables:
  crm_opportunity_stage_history:
    file: OpportunityHistory.csv
    keep_earliest: entered_at
    columns:
      opportunity_id: OpportunityId
      stage: {from: StageName, values: {Prospecting: Lead}}
      entered_at: CreatedDate
"""


def test_keep_earliest_merges_repeated_entries_into_the_first(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(
        source,
        "OpportunityHistory.csv",
        "OpportunityId,StageName,CreatedDate,Amount\n"
        "D1,Prospecting,2026-01-05T10:00:00.000Z,100\n"
        "D1,Prospecting,2026-01-09T10:00:00.000Z,150\n"
        "D1,Closed Won,2026-02-01T10:00:00.000Z,150\n"
        "D1,Prospecting,2026-01-03T10:00:00.000Z,90\n",
    )
    mapping = write(tmp_path, "history.yaml", HISTORY_MAPPING)
    result = ingest_cli(source, warehouse, "--mapping", str(mapping))
    assert result.exit_code == 0
    assert raw_rows(warehouse, "crm_opportunity_stage_history", "stage, entered_at::VARCHAR") == [
        ("Closed Won", "2026-02-01"),
        ("Lead", "2026-01-03"),
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (message,) = con.execute("SELECT message FROM ops.load_log").fetchone()
    assert "2 row(s) merged into the row before them, the same stage of one opportunity_id" in (
        message
    )


def test_keep_earliest_keeps_a_stage_entered_again_after_another(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(
        source,
        "OpportunityHistory.csv",
        "OpportunityId,StageName,CreatedDate\n"
        "D1,Prospecting,2026-01-05\nD1,Proposal,2026-01-09\nD1,Proposal,2026-01-12\n"
        "D1,Prospecting,2026-01-20\nD1,Proposal,2026-02-01\n",
    )
    mapping = write(tmp_path, "history.yaml", HISTORY_MAPPING)
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(
        warehouse, "crm_opportunity_stage_history", "stage, entered_at::VARCHAR", "2"
    ) == [
        ("Lead", "2026-01-05"),
        ("Proposal", "2026-01-09"),
        ("Lead", "2026-01-20"),
        ("Proposal", "2026-02-01"),
    ]


def test_gbk_chinese_headers_and_values(source: Path, warehouse: Path, tmp_path: Path) -> None:
    write(
        source,
        "商机.csv",
        "商机编号,客户名称,负责人,创建时间,结单日期,销售阶段,是否赢单,金额\n"
        "S1,华为,张三,2026年01月05日,2026年03月01日,赢单,是,1200\n",
        encoding="gbk",
    )
    mapping = write(
        tmp_path,
        "cn.yaml",
        """
tables:
  crm_opportunities:
    file: 商机*.csv
    date_format: "%Y年%m月%d日"
    columns:
      opportunity_id: 商机编号
      account_id: 客户名称
      owner_user_id: 负责人
      created_at: 创建时间
      close_date: 结单日期
      stage: {from: 销售阶段, values: {赢单: Closed Won, 输单: Closed Lost}}
      is_closed: {from: 销售阶段, values: {赢单: "true", 输单: "true"}, default: "false"}
      is_won: {from: 是否赢单, values: {是: "true", 否: "false"}}
      amount: 金额
      currency: {value: CNY}
      lead_source: {value: 未知}
""",
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(
        warehouse,
        "crm_opportunities",
        "account_id, owner_user_id, created_at::VARCHAR, stage, is_won, currency",
    ) == [("华为", "张三", "2026-01-05", "Closed Won", True, "CNY")]


def test_an_excel_sheet_named_in_the_mapping_is_read(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Cover"
    workbook.active.append(["exported by", "someone"])
    sheet = workbook.create_sheet("Deals")
    sheet.append(["Deal ID", "Company", "Owner", "Created", "Closes", "Phase", "Value"])
    sheet.append(["D1", "Acme", "ann", "2026-01-05", "2026-03-01", "Signed", 1200])
    workbook.save(source / "deals.xlsx")
    mapping = write(
        tmp_path,
        "xlsx.yaml",
        DEALS_MAPPING.replace('file: "deals*.csv"', "file: deals.xlsx\n    sheet: Deals"),
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id, stage") == [
        ("D1", "Closed Won")
    ]


def test_a_bom_and_yes_no_values_are_read_as_text(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    text = DEALS_HEADER + "D1,Acme,ann,2026-01-05,2026-03-01,Yes,1200\n"
    (source / "deals.csv").write_bytes(codecs.BOM_UTF8 + text.encode())
    mapping = write(
        tmp_path,
        "yes.yaml",
        DEALS_MAPPING.replace("Signed: Closed Won,", "Yes: Closed Won,").replace(
            '{Signed: "true"', '{Yes: "true"'
        ),
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id, stage, is_won") == [
        ("D1", "Closed Won", True)
    ]


def test_a_table_whose_mapped_file_is_absent_is_skipped_and_said(
    source: Path, warehouse: Path, deals_mapping: Path
) -> None:
    write(source, "other.csv", "a,b\n1,2\n")
    result = ingest_cli(source, warehouse, "--mapping", str(deals_mapping))
    assert result.exit_code == 0
    assert "no file for: " in result.stdout and "crm_opportunities" in result.stdout


def test_a_shipped_mapping_is_named_without_a_path() -> None:
    result = cli("mapping", "list")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    for vendor in ("salesforce", "hubspot", "zoho", "fxiaoke", "bamboohr", "workday"):
        assert vendor in names
    assert "maven_crm" in names
    shown = cli("mapping", "show", "maven_crm")
    assert shown.exit_code == 0 and "sales_pipeline.csv" in shown.stdout


def test_mapping_check_shows_origins_unknown_columns_and_rows_without_a_warehouse(
    source: Path, tmp_path: Path, deals_mapping: Path
) -> None:
    write(
        source,
        "deals.csv",
        "Deal ID,Company,Owner,Created,Closes,Phase,Value,Notes\n"
        "D1,Acme,ann,2026-01-05,2026-03-01,Signed,1200,call back\n",
    )
    result = cli("mapping", "check", str(deals_mapping), "--source", str(source))
    assert result.exit_code == 0
    assert "crm_opportunities <- deals.csv: 1 rows, 1 would load, 0 quarantined" in result.stdout
    assert "stage <- 'Phase' through 4 mapped value(s)" in result.stdout
    assert "currency <- constant 'EUR'" in result.stdout
    assert "not mapped (ignored): Notes" in result.stdout
    assert "row: opportunity_id=D1, account_id=Acme" in result.stdout
    assert not list(tmp_path.rglob("*.duckdb"))


def test_mapping_check_of_a_rejected_load_exits_3_with_the_error(
    source: Path, deals_mapping: Path
) -> None:
    write(source, "deals.csv", DEALS_HEADER + "D1,Acme,ann,2026-01-05,2026-03-01,Maybe,1\n")
    strict = write(source.parent, "strict.yaml", "unknown_values: reject\n" + DEALS_MAPPING)
    result = cli("mapping", "check", str(strict), "--source", str(source))
    assert result.exit_code == 3
    assert "error: deals.csv, row 2, column stage" in result.stdout
    assert "the load would be rejected" in result.stdout


def test_a_mapping_with_a_bad_column_spec_is_a_usage_error(source: Path, tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "bad.yaml",
        "tables:\n  crm_users:\n    columns:\n      user_id: {from: Id, value: x}\n",
    )
    result = cli("mapping", "check", str(mapping), "--source", str(source))
    assert result.exit_code == 2
    assert "tables.crm_users.columns.user_id: give exactly one of from, value, sql" in (
        " ".join(result.stderr.split())
    )


def test_a_mapping_expression_failing_on_a_value_rejects_the_load_and_changes_nothing(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(source, "deals.csv", DEALS_HEADER + "D1,Acme,ann,2026-01-05,2026-03-01,Signed,lots\n")
    mapping = write(
        tmp_path,
        "cast.yaml",
        DEALS_MAPPING.replace(
            "      amount: Value\n", '      amount: {sql: "CAST(\\"Value\\" AS INTEGER)"}\n'
        ),
    )
    result = ingest_cli(source, warehouse, "--mapping", str(mapping))
    assert result.exit_code == 3
    assert "found a mapping that fails on the file's values" in " ".join(result.stderr.split())
    assert raw_rows(warehouse, "crm_opportunities", "count(*)") == [(0,)]


def test_the_same_file_through_a_changed_mapping_is_read_again(
    source: Path, warehouse: Path, tmp_path: Path, deals_mapping: Path
) -> None:
    write(source, "deals.csv", DEALS_HEADER + "D1,Acme,ann,2026-01-05,2026-03-01,Pitch,1\n")
    assert ingest_cli(source, warehouse, "--mapping", str(deals_mapping)).exit_code == 0
    again = ingest_cli(source, warehouse, "--mapping", str(deals_mapping))
    assert "unchanged since an earlier load" in again.stderr
    changed = write(
        tmp_path, "changed.yaml", DEALS_MAPPING.replace("Pitch: Proposal", "Pitch: Negotiation")
    )
    assert ingest_cli(source, warehouse, "--mapping", str(changed)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "stage") == [("Negotiation",)]


def test_several_files_can_feed_one_table(source: Path, warehouse: Path, tmp_path: Path) -> None:
    write(
        source, "Task.csv", "Id,WhatId,OwnerId,ActivityDate,TaskSubtype\nT1,A1,U1,2026-01-05,Call\n"
    )
    write(source, "Event.csv", "Id,WhatId,OwnerId,StartDateTime\nE1,A1,U1,2026-01-06T10:00:00Z\n")
    mapping = write(
        tmp_path,
        "activities.yaml",
        """
policies: {crm_activities.logged_at.present: warn, crm_activities.logged_at.not_null: warn}
tables:
  crm_activities:
    - file: Task.csv
      columns:
        activity_id: Id
        account_id: WhatId
        owner_user_id: OwnerId
        activity_type: {from: TaskSubtype, values: {Call: call, Email: email}}
        occurred_at: ActivityDate
    - file: [Event.csv, Events.csv]
      columns:
        activity_id: Id
        account_id: WhatId
        owner_user_id: OwnerId
        activity_type: {value: meeting}
        occurred_at: StartDateTime
""",
    )
    result = ingest_cli(source, warehouse, "--mapping", str(mapping))
    assert result.exit_code == 0, result.stderr
    assert raw_rows(warehouse, "crm_activities", "activity_id, activity_type, _source_file") == [
        ("E1", "meeting", "Event.csv"),
        ("T1", "call", "Task.csv"),
    ]


def test_title_rows_above_the_header_are_skipped_and_rows_keep_their_numbers(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(
        source,
        "deals.csv",
        "Pipeline report\nexported 2026-11-01\n"
        + DEALS_HEADER
        + "D1,Acme,ann,2026-01-05,2026-03-01,Signed,1200\n"
        + "D2,Acme,ann,2026-01-05,2026-03-01,Signed,-5\n",
    )
    mapping = write(
        tmp_path,
        "titled.yaml",
        DEALS_MAPPING.replace('file: "deals*.csv"', 'file: "deals*.csv"\n    header_row: 3'),
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id, _source_row") == [("D1", 4)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantined = con.execute(
            "SELECT _source_row, _rule FROM quarantine.crm_opportunities"
        ).fetchall()
    assert quarantined == [(5, "amount.non_negative")]


def test_title_rows_above_an_excel_header_are_skipped(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["All Workers"])
    sheet.append([])
    sheet.append(["Deal ID", "Company", "Owner", "Created", "Closes", "Phase", "Value"])
    sheet.append(["D1", "Acme", "ann", "2026-01-05", "2026-03-01", "Signed", 1200])
    workbook.save(source / "deals.xlsx")
    mapping = write(
        tmp_path,
        "titled.yaml",
        DEALS_MAPPING.replace('file: "deals*.csv"', "file: deals.xlsx\n    header_row: 3"),
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id, _source_row") == [("D1", 4)]


def test_rows_merged_into_a_quarantined_row_are_quarantined_with_it(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(
        source,
        "OpportunityHistory.csv",
        "OpportunityId,StageName,CreatedDate\n"
        "D1,Prospecting,2026-01-05\n"
        "D1,Prospecting,2026-01-09\n"
        "D1,Closed Won,2026-02-01\n",
    )
    write_csv(source, "crm_opportunities", [row("crm_opportunities", 1)])  # O1, not D1
    mapping = write(
        tmp_path,
        "history.yaml",
        """
max_quarantine_share: 1
tables:
  crm_opportunity_stage_history:
    file: OpportunityHistory.csv
    keep_earliest: entered_at
    columns:
      opportunity_id: OpportunityId
      stage: {from: StageName, values: {Prospecting: Lead}}
      entered_at: CreatedDate
""",
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        logged = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM ops.load_log "
            "WHERE table_name = 'crm_opportunity_stage_history'"
        ).fetchall()
    assert logged == [(3, 0, 3)]


def test_a_key_given_by_two_files_of_one_table_is_quarantined_in_the_later_file(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(source, "Task.csv", "Id,Owner,When\nX1,U1,2026-01-05\nT2,U1,2026-01-06\n")
    write(source, "Event.csv", "Id,Owner,When\nX1,U2,2026-01-07\nE2,U2,2026-01-08\n")
    entry = (
        "{file: %s, columns: {activity_id: Id, account_id: {value: A1}, owner_user_id: Owner, "
        "activity_type: {value: %s}, occurred_at: When, logged_at: When}}"
    )
    mapping = write(
        tmp_path,
        "two.yaml",
        "tables:\n  crm_activities:\n"
        f"    - {entry % ('Task.csv', 'call')}\n    - {entry % ('Event.csv', 'meeting')}\n",
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_activities", "activity_id, activity_type") == [
        ("E2", "meeting"),
        ("T2", "call"),
        ("X1", "call"),
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (reason,) = con.execute("SELECT _reason FROM quarantine.crm_activities").fetchone()
    assert "the same key as row 2 of Task.csv, loaded earlier in this run" in reason


def test_going_back_to_an_earlier_mapping_reads_the_file_again(
    source: Path, warehouse: Path, tmp_path: Path, deals_mapping: Path
) -> None:
    write(source, "deals.csv", DEALS_HEADER + "D1,Acme,ann,2026-01-05,2026-03-01,Pitch,1\n")
    other = write(tmp_path, "other.yaml", DEALS_MAPPING.replace("Pitch: Proposal", "Pitch: Lead"))
    for mapping, stage in (
        (deals_mapping, "Proposal"),
        (other, "Lead"),
        (deals_mapping, "Proposal"),
    ):
        assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
        assert raw_rows(warehouse, "crm_opportunities", "stage") == [(stage,)]


def test_an_excel_date_cell_is_read_whatever_the_mapped_format(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Deal ID", "Company", "Owner", "Created", "Closes", "Phase", "Value"])
    workbook.active.append(
        ["D1", "Acme", "ann", dt.datetime(2026, 1, 5, 9, 30, 0, 500000), "01.03.2026", "Signed", 1]
    )
    workbook.save(source / "deals.xlsx")
    mapping = write(
        tmp_path,
        "xlsx.yaml",
        DEALS_MAPPING.replace(
            'file: "deals*.csv"', "file: deals.xlsx\n    date_format: '%d.%m.%Y'"
        ),
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "created_at::VARCHAR, close_date::VARCHAR") == [
        ("2026-01-05", "2026-03-01")
    ]


def test_a_file_name_with_brackets_is_matched_literally(
    source: Path, warehouse: Path, tmp_path: Path
) -> None:
    write(source, "deals [2026].csv", DEALS_HEADER + "D1,Acme,ann,2026-01-05,2026-03-01,Pitch,1\n")
    mapping = write(
        tmp_path,
        "brackets.yaml",
        DEALS_MAPPING.replace('file: "deals*.csv"', 'file: "deals [2026].csv"'),
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "opportunity_id") == [("D1",)]


def test_numbers_in_a_mapping_stay_text(source: Path, warehouse: Path, tmp_path: Path) -> None:
    write(source, "deals.csv", DEALS_HEADER + "D1,Acme,ann,2026-01-05,2026-03-01,010,1\n")
    mapping = write(
        tmp_path,
        "numbers.yaml",
        DEALS_MAPPING.replace("values: {Qualify: Lead,", "values: {010: Proposal, Qualify: Lead,")
        .replace("{value: EUR}", "{value: EUR}\n      lead_source: {value: 0x1A}")
        .replace('      lead_source: {sql: "\'Partner \' || upper(\\"Owner\\")"}\n', ""),
    )
    assert ingest_cli(source, warehouse, "--mapping", str(mapping)).exit_code == 0
    assert raw_rows(warehouse, "crm_opportunities", "stage, lead_source") == [("Proposal", "0x1A")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            ("created_at: Created", "created_at: {from: Created, format: '%Y-%m-%Q'}"),
            "created_at.format: '%Y-%m-%Q' is not a strptime format DuckDB reads",
            id="bad date format",
        ),
        pytest.param(
            ("Signed: Closed Won", "Signed: Closed-Won"),
            "stage.values: 'Closed-Won' is not a stage of the contract; map onto one of Lead",
            id="value map onto a non-canonical stage",
        ),
        pytest.param(
            ('file: "deals*.csv"', 'file: "deals*.csv"\n    delimiter: ";;"'),
            "delimiter ';;' must be one character",
            id="delimiter",
        ),
    ],
)
def test_a_mapping_mistake_is_a_usage_error_naming_it(
    source: Path, warehouse: Path, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    assert change[0] in DEALS_MAPPING
    mapping = write(tmp_path, "bad.yaml", DEALS_MAPPING.replace(*change))
    result = ingest_cli(source, warehouse, "--mapping", str(mapping))
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
