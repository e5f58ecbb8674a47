"""Hostile and broken export files: each case ends in a load with the right values, a
quarantined row with its reason, or a refusal that names the file and echoes nothing
of what it should not.

Mapping files are in tests/test_hostile_mappings.py, names in reports and alerts in
tests/test_hostile_names.py.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.contract import TABLES
from tests.conftest import ingest_cli
from tests.exports import row, rows, write_csv, write_lines, write_parquet, write_xlsx

SECRET = "TOP-SECRET-7f3a"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    directory = tmp_path / "exports"
    directory.mkdir()
    return directory


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def everything_written(root: Path) -> str:
    """The text of every file under `root` (the warehouse and the reports), for leaks."""
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace")
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and p.name != "secret.txt"
    )


def users_by_column(records: list[dict[str, str]]) -> dict[str, list[object]]:
    return {c: [r[c] for r in records] for c in TABLES["crm_users"].columns}


# --- names that reach SQL ------------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    [
        "x\" AS x, (SELECT content FROM read_text('{secret}')) AS \"name",
        "x\"; COPY (SELECT 1) TO '{secret}.out'; --",
        'name"',
        "_file_row",
        "line\nbreak /* comment",
    ],
    ids=["read_text", "copy", "trailing_quote", "row_number_name", "newline_comment"],
)
def test_a_parquet_column_name_is_a_name_and_never_sql(
    source: Path, warehouse: Path, secret_file: Path, column: str
) -> None:
    columns = users_by_column(rows("crm_users", 3))
    columns[column.format(secret=secret_file)] = ["a", "b", "c"]
    write_parquet(source, "crm_users", columns)
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 0, result.stderr
    assert query(warehouse, "SELECT user_id, name FROM raw.crm_users ORDER BY 1") == [
        ("U1", "User 1"),
        ("U2", "User 2"),
        ("U3", "User 3"),
    ]
    assert query(warehouse, "SELECT _source_row FROM raw.crm_users ORDER BY 1") == [
        (1,),
        (2,),
        (3,),
    ]
    assert SECRET not in everything_written(warehouse.parent)
    assert not Path(f"{secret_file}.out").exists()


# --- files that are not regular files in the folder ------------------------------------------


def test_a_symbolic_link_is_refused_by_name_without_reading_its_target(
    source: Path, warehouse: Path, secret_file: Path
) -> None:
    write_csv(source, "crm_accounts", rows("crm_accounts", 2))
    os.symlink(secret_file, source / "crm_users.csv")
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 2
    message = " ".join(result.stderr.replace("│", " ").split())
    assert "crm_users.csv is a symbolic link" in message
    assert "regular files inside the source folder" in message
    assert SECRET not in result.stdout + result.stderr
    assert query(warehouse, "SELECT count(*) FROM raw.crm_accounts") == [(0,)]
    assert SECRET not in everything_written(warehouse.parent)


def test_a_symbolic_link_to_a_file_inside_the_folder_is_refused_too(
    source: Path, warehouse: Path
) -> None:
    write_csv(source, "crm_users", [row("crm_users", 1)], name="users-2026.csv")
    os.symlink(source / "users-2026.csv", source / "crm_users.csv")
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 2
    assert "crm_users.csv is a symbolic link" in " ".join(result.stderr.split())


def test_a_symbolic_link_no_table_reads_is_listed_but_not_opened(
    source: Path, warehouse: Path, secret_file: Path
) -> None:
    write_csv(source, "crm_users", rows("crm_users", 2))
    os.symlink(secret_file, source / "notes.csv")
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert query(warehouse, "SELECT count(*) FROM raw.crm_users") == [(2,)]


def test_a_csv_file_name_with_quotes_and_semicolons_loads(tmp_path: Path) -> None:
    source = tmp_path / 'it\'s; "quoted" -- dir'
    source.mkdir()
    write_lines(source, "crm_users.csv", ["user_id,name,email,is_active", "U1,Ann,a@x.com,true"])
    warehouse = tmp_path / "w'; DROP TABLE x; --.duckdb"
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 0, result.stderr
    assert query(warehouse, "SELECT user_id, name FROM raw.crm_users") == [("U1", "Ann")]


# --- encodings: decided, never guessed silently ----------------------------------------------

EUROPEAN_NAMES = ["Jürgen Müller", "François Lefèvre", "José Núñez", "Zoë Ångström", "Søren Ås"]
CHINESE_NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静"]
TRADITIONAL_NAMES = ["陳志明", "林美玲", "黃國華", "張淑芬", "李建宏"]


def write_users_named(source: Path, names: list[str], encoding: str) -> None:
    records = [row("crm_users", n, name=name) for n, name in enumerate(names, start=1)]
    write_csv(source, "crm_users", records, encoding=encoding)


def loaded_names_and_encoding(warehouse: Path) -> tuple[list[str], str]:
    names = [n for (n,) in query(warehouse, "SELECT name FROM raw.crm_users ORDER BY user_id")]
    [(encoding,)] = query(
        warehouse, "SELECT encoding FROM ops.load_log WHERE table_name = 'crm_users'"
    )
    return names, encoding


@pytest.mark.parametrize(
    ("names", "encoding", "decided"),
    [
        (EUROPEAN_NAMES, "latin-1", "cp1252"),
        (["“Señor” Muñoz \u2013 5 €", "Renée Dupré"], "cp1252", "cp1252"),
        (CHINESE_NAMES, "gbk", "gb18030"),
        (["张伟"], "gbk", "gb18030"),
        (TRADITIONAL_NAMES, "big5", "big5"),
        (TRADITIONAL_NAMES, "gb18030", "gb18030"),
    ],
    ids=["latin-1", "windows-1252", "gbk", "gbk-one-name", "big5", "gb18030-traditional"],
)
def test_a_file_in_one_legacy_encoding_loads_its_names_exactly_and_logs_the_encoding(
    source: Path, warehouse: Path, names: list[str], encoding: str, decided: str
) -> None:
    write_users_named(source, names, encoding)
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 0, result.stderr
    assert loaded_names_and_encoding(warehouse) == (names, decided)


def test_one_latin_1_row_in_a_utf_8_file_rejects_the_file_at_that_row(
    source: Path, warehouse: Path
) -> None:
    lines = ["user_id,employee_id,name,email,team,region,manager_user_id,is_active"]
    lines += [f"U{n},E{n},Jürgen {n},u{n}@x.de,SMB,East,,true" for n in (1, 2)]
    body = (
        "\n".join(lines).encode("utf-8")
        + b"\n"
        + "U3,E3,Müller,u3@x.de,SMB,East,,true\n".encode("latin-1")
    )
    (source / "crm_users.csv").write_bytes(body)
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "crm_users.csv, row 4: found a line that is not UTF-8 (byte 0xfc)" in message
    assert "whose other lines are UTF-8 (line 2 and more)" in message
    assert query(warehouse, "SELECT count(*) FROM raw.crm_users") == [(0,)]


def test_bytes_that_read_equally_well_as_chinese_and_as_latin_are_refused_naming_both(
    source: Path, warehouse: Path
) -> None:
    (source / "crm_users.csv").write_bytes(
        b"user_id,employee_id,name,email,team,region,manager_user_id,is_active\n"
        b"U1,E1,\xa4\xa4 x\xe9y,u1@x.de,SMB,East,,true\n"
    )
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "crm_users.csv, row 2: found byte 0xa4 at offset" in message
    assert "reads equally well as Chinese (GBK/GB18030 or Big5)" in message
    assert "Western European text (Windows-1252/Latin-1)" in message
    assert "set `encoding:` for this file in the mapping file" in message


def test_a_configured_encoding_is_used_without_detection(source: Path, tmp_path: Path) -> None:
    write_users_named(source, ["\u00c4\u00e3\u00ba\u00c3"], "latin-1")  # 你好 in GBK bytes
    mapping = tmp_path / "latin.yaml"
    mapping.write_text("tables:\n  crm_users:\n    encoding: latin-1\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    result = ingest_cli(source, warehouse, "--mapping", str(mapping))
    assert result.exit_code == 0, result.stderr
    assert loaded_names_and_encoding(warehouse) == (["\u00c4\u00e3\u00ba\u00c3"], "latin-1")


# --- broken CSV structure ----------------------------------------------------------------------

USERS_HEADER = "user_id,employee_id,name,email,team,region,manager_user_id,is_active"


def test_one_malformed_line_of_a_fully_quoted_file_is_quarantined_and_the_rest_load_unquoted(
    source: Path, warehouse: Path
) -> None:
    quoted = ['"' + '","'.join(row("crm_users", n).values()) + '"' for n in (1, 2, 3)]
    broken = '"U9","E9","Bad"Quote","b@x.com","SMB","East","","true"'
    write_lines(source, "crm_users.csv", [USERS_HEADER, quoted[0], broken, *quoted[1:]])
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 0, result.stderr
    assert query(warehouse, "SELECT user_id, name FROM raw.crm_users ORDER BY 1") == [
        ("U1", "User 1"),
        ("U2", "User 2"),
        ("U3", "User 3"),
    ]
    [(line, raw_line)] = query(warehouse, "SELECT _source_row, _raw_line FROM quarantine.crm_users")
    assert (line, raw_line) == (3, broken)


def test_an_unclosed_quote_refuses_the_file_at_its_row_instead_of_swallowing_the_rest(
    source: Path, warehouse: Path
) -> None:
    lines = [USERS_HEADER, "U1,E1,Ann,a@x.com,SMB,East,,true", 'U2,E2,"Bob,b@x.com,SMB,East,,true']
    lines += [f"U{n},E{n},User {n},u{n}@x.com,SMB,East,,true" for n in (3, 4)]
    write_lines(source, "crm_users.csv", lines)
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert 'crm_users.csv, row 3: found a quote (") that is never closed' in message
    assert query(warehouse, "SELECT count(*) FROM raw.crm_users") == [(0,)]


def test_a_header_name_with_a_line_break_inside_quotes_loads(source: Path, warehouse: Path) -> None:
    header = USERS_HEADER.replace(",name,", ',"name",').replace("team", '"team\nname"')
    write_lines(source, "crm_users.csv", [header, 'U1,E1,"Ann\nSmith",a@x.com,SMB,East,,true'])
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 0, result.stderr
    assert query(warehouse, "SELECT user_id, name FROM raw.crm_users") == [("U1", "Ann\nSmith")]


def test_a_field_over_the_size_limit_is_refused_on_its_own_line(
    source: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRADAR_MAX_FIELD_KB", "64")
    lines = [USERS_HEADER] + [f"U{n},E{n},User {n},u{n}@x.com,SMB,East,,true" for n in (1, 2, 3)]
    lines.append("U4,E4," + "x" * 100_000 + ",u4@x.com,SMB,East,,true")
    write_lines(source, "crm_users.csv", lines)
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "crm_users.csv, row 5: found a line longer than 64 KB" in message
    assert "x" * 200 not in message


def test_a_message_quotes_only_a_short_escaped_excerpt_of_the_file() -> None:
    from pipelines.ingest.errors import excerpt

    assert excerpt("ok\nline\x1b[31m\u202e") == "ok\\nline\\x1b[31m\\u202e"
    assert excerpt("x" * 500) == "x" * 120 + "…"
    assert excerpt("张伟") == "张伟"


# --- workbooks that would expand beyond memory -------------------------------------------------


def replace_sheet_xml(path: Path, rows_xml: Iterator[bytes]) -> None:
    """Rewrite the workbook at `path` with its first sheet's rows streamed from `rows_xml`."""
    original = path.with_suffix(".orig")
    path.rename(original)
    with (
        zipfile.ZipFile(original) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for part in source.infolist():
            if part.filename != "xl/worksheets/sheet1.xml":
                out.writestr(part, source.read(part))
                continue
            with out.open(part.filename, "w", force_zip64=True) as sheet:
                sheet.write(
                    b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                )
                for block in rows_xml:
                    sheet.write(block)
                sheet.write(b"</sheetData></worksheet>")
    original.unlink()


def test_a_workbook_of_six_million_tiny_rows_is_refused_before_it_is_read(
    source: Path, warehouse: Path
) -> None:
    path = write_xlsx(source, "crm_users", ["user_id"], [["U1"]])
    block = b"<row/>" * 100_000
    replace_sheet_xml(path, (block for _ in range(60)))
    assert path.stat().st_size < 2_000_000
    started = time.perf_counter()
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "crm_users.xlsx: found a sheet of more than 5,000,000 rows" in message
    assert "(REPRADAR_MAX_ROWS)" in message
    assert time.perf_counter() - started < 30


def test_a_workbook_with_one_huge_cell_is_refused_naming_the_limit(
    source: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRADAR_MAX_FIELD_KB", "16")  # Excel itself stops at 32,767
    header = list(TABLES["crm_users"].columns)
    cells = [
        list(row("crm_users", 1).values()),
        list(row("crm_users", 2, name="x" * 100_000).values()),
    ]
    write_xlsx(source, "crm_users", header, cells)
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    assert "found a cell longer than 16 KB" in " ".join(result.stderr.split())


def test_a_workbook_larger_than_the_uncompressed_limit_is_refused(
    source: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRADAR_MAX_XLSX_MB", "1")
    header = list(TABLES["crm_users"].columns)
    cells = [list(row("crm_users", n, name="padding " * 40).values()) for n in range(1, 3001)]
    path = write_xlsx(source, "crm_users", header, cells)
    assert path.stat().st_size < 1024 * 1024
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    message = " ".join(result.stderr.split())
    assert "crm_users.xlsx: found a workbook of" in message
    assert "at most 1 MB (REPRADAR_MAX_XLSX_MB)" in message


def test_a_workbook_within_the_limits_loads(source: Path, warehouse: Path) -> None:
    header = list(TABLES["crm_users"].columns)
    write_xlsx(source, "crm_users", header, [list(r.values()) for r in rows("crm_users", 3)])
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 0, result.stderr
    assert query(warehouse, "SELECT count(*) FROM raw.crm_users") == [(3,)]


def test_a_csv_of_more_rows_than_the_limit_is_refused(
    source: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRADAR_MAX_ROWS", "100")
    write_csv(source, "crm_users", rows("crm_users", 150))
    result = ingest_cli(source, warehouse)
    assert result.exit_code == 3
    assert "at most 100 rows per file (REPRADAR_MAX_ROWS)" in " ".join(result.stderr.split())
