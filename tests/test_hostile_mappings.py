"""Hostile and broken mapping files: nothing in a mapping executes, leaks or crashes.

A `sql:` is one scalar expression or the mapping is refused (exit 2) before anything is
read or written; expressions run on a locked copy of the staged file that cannot reach
the file system or the warehouse; `mapping check` writes nothing anywhere; YAML aliases
cannot blow up; names and values with quotes, comments, semicolons and newlines load
exactly; a validation report that cannot be written does not fail a committed load.
"""

from __future__ import annotations

import csv
import re
import tempfile
import time
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from typer.testing import CliRunner, Result

from pipelines.cli import app
from pipelines.errors import UsageError
from pipelines.ingest.expressions import ALLOWED
from pipelines.ingest.load import IngestRequest, run
from pipelines.ingest.options import (
    ColumnSpec,
    IngestOptions,
    MappingError,
    TableSource,
    read_mapping,
    shipped_mappings,
)
from pipelines.warehouse import lit
from tests.conftest import ingest_cli

USERS_HEADER = ["User ID", "Full Name", "Email", "Team", "Region", "Active"]
USERS_ROW = ["U1", "Ann Lee", "ann@example.com", "SMB East", "", "true"]
COPY_OUT = "1); COPY (SELECT 'pwned') TO 'pwned.csv' --"
HOSTILE = [
    'O\'Brien "the; boss"',
    "x'); DROP TABLE raw.crm_users; --",
    "\"; ATTACH '/tmp/other.duckdb' AS other; --",
    "/* not a comment */ -- nor this",
    "line one\nline two",
    "名字 ☃ Ünïcödé Straße",
    "$$dollar$$ \\ back\\slash",
]


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def write_users(directory: Path, header: list[str], cells: list[str], name: str = "users.csv"):
    directory.mkdir(exist_ok=True)
    with (directory / name).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, cells])


def users_mapping(columns: dict[str, object], **table: object) -> dict:
    """A crm_users mapping of users.csv; `columns` replace the default ones."""
    return {
        "tables": {
            "crm_users": {
                "file": "users.csv",
                **table,
                "columns": {
                    "user_id": "User ID",
                    "name": "Full Name",
                    "email": "Email",
                    "team": "Team",
                    "region": "Region",
                    "is_active": "Active",
                    **columns,
                },
            }
        }
    }


def write_mapping(path: Path, mapping: dict | str) -> Path:
    text = mapping if isinstance(mapping, str) else yaml.safe_dump(mapping, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def users(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT user_id, employee_id, name, email, team, region FROM raw.crm_users"
        ).fetchall()


def listing(*roots: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under `roots` with its size and modification time (a
    directory's mtime changes when an entry is created in it, even if removed again)."""
    found = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            stat = path.stat()
            found[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return found


# 1. A `sql:` is one scalar expression -------------------------------------------------

REFUSED = [
    (COPY_OUT, "it contains a semicolon"),
    ("1; DROP TABLE raw.crm_users", "it contains a semicolon"),
    ('upper("Full Name") -- ; DROP TABLE raw.crm_users', "it contains a comment"),
    ('"Full Name" /* ) AS VARCHAR) FROM raw.crm_users */', "it contains a comment"),
    ("ATTACH 'other.duckdb' AS other", "it does not parse as one expression"),
    ("INSTALL httpfs", "it does not parse as one expression"),
    ("LOAD httpfs", "it does not parse as one expression"),
    ("PRAGMA version", "it does not parse as one expression"),
    ("SET threads = 1", "it does not parse as one expression"),
    ('"Full Name" UNION SELECT 1', "it does not parse as one expression"),
    ("(SELECT content FROM read_text('/proc/self/environ'))", "it uses a subquery"),
    ("EXISTS (SELECT 1)", "it uses a subquery"),
    ('"Full Name" IN (SELECT name FROM raw.crm_users)', "it uses a subquery"),
    ('"Full Name") FROM read_csv(\'/etc/passwd\') WHERE ("Email"', "it is a query"),
    ('"Full Name"), ("Email"', "it is a list of expressions, not one"),
    ("read_text('/etc/passwd')", "it calls read_text()"),
    ("read_csv('/etc/passwd')", "it calls read_csv()"),
    ("read_blob('/etc/passwd')", "it calls read_blob()"),
    ("glob('/etc/*')", "it calls glob()"),
    ("sniff_csv('/etc/passwd')", "it calls sniff_csv()"),
    ("parquet_metadata('x.parquet')", "it calls parquet_metadata()"),
    ("query('SELECT 1')", "it calls query()"),
    ("query_table('raw.crm_users')", "it calls query_table()"),
    ("getenv('HOME')", "it calls getenv()"),
    ("current_setting('temp_directory')", "it calls current_setting()"),
    ("getvariable('secret')", "it calls getvariable()"),
    ("nextval('seq')", "it calls nextval()"),
    ("pg_sleep(60)", "it calls pg_sleep()"),
    ('count("Email")', "it calls count()"),
    ("unnest(['a', 'b'])", "it calls unnest()"),
    ('main.upper("Full Name")', "it calls upper() through a schema or catalog"),
    ("row_number() OVER ()", "it uses a window function"),
    ("*", "it uses * or COLUMNS(...)"),
    ("COLUMNS('.*')", "it uses * or COLUMNS(...)"),
    ("$1", "it uses a parameter"),
    ("", "it is empty"),
]


@pytest.mark.parametrize(("sql", "reason"), REFUSED, ids=[s or "empty" for s, _ in REFUSED])
def test_a_mapping_sql_that_is_not_one_scalar_expression_is_refused_naming_where(
    tmp_path: Path, sql: str, reason: str
) -> None:
    path = write_mapping(tmp_path / "hostile.yaml", users_mapping({"name": {"sql": sql}}))
    with pytest.raises(MappingError) as raised:
        read_mapping(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: tables.crm_users.columns.name.sql: {sql!r} is refused: ")
    assert reason in message
    assert message.endswith(f"a `sql:` is {ALLOWED}")
    assert isinstance(raised.value, UsageError)


def test_a_refused_sql_in_a_rows_entry_names_the_entry(tmp_path: Path) -> None:
    mapping = users_mapping({}, rows=[{"team": {"value": "A"}}, {"team": {"sql": COPY_OUT}}])
    path = write_mapping(tmp_path / "rows.yaml", mapping)
    with pytest.raises(MappingError, match=r"tables\.crm_users\.rows\[1\]\.team\.sql: "):
        read_mapping(path)


def test_every_sql_of_every_shipped_mapping_passes_the_check() -> None:
    for name, path in shipped_mappings().items():
        assert read_mapping(path).path == path, name


def test_quotes_semicolons_and_comment_marks_inside_literals_and_names_are_allowed(
    tmp_path: Path,
) -> None:
    source = tmp_path / "exports"
    write_users(source, [*USERS_HEADER[:-1], "Active; --"], USERS_ROW)
    sql = "'a;b -- c /* d */ ''e''' || upper(\"Full Name\") || \"Active; --\""
    mapping = users_mapping({"name": {"sql": sql}, "is_active": "Active; --"})
    path = write_mapping(tmp_path / "quoted.yaml", mapping)
    result = ingest_cli(source, tmp_path / "w.duckdb", "--mapping", str(path))
    assert result.exit_code == 0, result.stderr
    assert users(tmp_path / "w.duckdb")[0][2] == "a;b -- c /* d */ 'e'ANN LEEtrue"


@pytest.mark.parametrize("command", ["check", "show", "ingest"])
def test_mapping_check_show_and_ingest_refuse_a_hostile_sql_before_touching_anything(
    tmp_path: Path, command: str
) -> None:
    source = tmp_path / "exports"
    write_users(source, USERS_HEADER, USERS_ROW)
    path = write_mapping(tmp_path / "hostile.yaml", users_mapping({"name": {"sql": COPY_OUT}}))
    warehouse = tmp_path / "w.duckdb"
    args = {
        "check": ["mapping", "check", str(path), "--source", str(source)],
        "show": ["mapping", "show", str(path)],
        "ingest": [
            *("ingest", "--source", str(source), "--warehouse", str(warehouse)),
            *("--mapping", str(path)),
        ],
    }[command]
    result = cli(*args)
    assert result.exit_code == 2
    message = " ".join(result.stderr.replace("│", " ").split())
    assert "tables.crm_users.columns.name.sql:" in message
    assert "is refused: it contains a semicolon" in message
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["exports", "hostile.yaml", "users.csv"]


# 2. Expressions run where they cannot reach files or the warehouse -------------------


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("(SELECT content FROM read_text({secret}))", "file system operations are disabled"),
        ("(SELECT count(*) FROM glob({pattern}))", "file system operations are disabled"),
        ("(SELECT min(name) FROM raw.crm_users)", 'schema "raw" does not exist'),
    ],
    ids=["read_text", "glob", "warehouse"],
)
def test_an_expression_that_got_past_the_check_still_cannot_read_a_file_or_the_warehouse(
    tmp_path: Path, sql: str, error: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN", encoding="utf-8")
    source = tmp_path / "exports"
    write_users(source, USERS_HEADER, USERS_ROW)
    hostile = sql.format(secret=lit(str(secret)), pattern=lit(str(tmp_path / "*")))
    columns = {"user_id": ColumnSpec(source="User ID"), "name": ColumnSpec(sql=hostile)}
    columns |= {c: ColumnSpec(source=c.title()) for c in ("email", "team", "region")}
    columns["is_active"] = ColumnSpec(source="Active")
    options = IngestOptions(  # built directly: read_mapping would refuse the expression
        tables={"crm_users": (TableSource(file=("users.csv",), columns=columns),)}
    )
    warehouse = tmp_path / "w.duckdb"
    request = IngestRequest(source, warehouse, tmp_path / "reports", options)
    result = run(request, progress=lambda _: None)
    assert result.exit_code == 3
    (rejection,) = result.rejections
    where = (rejection.file, rejection.column, rejection.rule)
    assert where == ("users.csv", "name", "name.mapped")
    assert error in rejection.found
    assert "TOP-SECRET-TOKEN" not in str(rejection)
    assert users(warehouse) == []


# 3. `mapping check` writes nothing anywhere ------------------------------------------


@pytest.mark.parametrize("kind", ["good", "hostile"])
def test_mapping_check_writes_nothing_in_the_source_the_cwd_the_warehouse_or_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    cwd, scratch, source = tmp_path / "cwd", tmp_path / "tmp", tmp_path / "exports"
    scratch.mkdir()
    (cwd / "data").mkdir(parents=True)
    warehouse = cwd / "data" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE kept AS SELECT 1 AS x")
    write_users(source, USERS_HEADER, USERS_ROW)
    sql = COPY_OUT if kind == "hostile" else "upper(\"Full Name\") || ';--'"
    path = write_mapping(tmp_path / "m.yaml", users_mapping({"name": {"sql": sql}}))
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("REPRADAR_WAREHOUSE", str(warehouse))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = listing(cwd, source)
    result = cli("mapping", "check", str(path), "--source", str(source))
    assert result.exit_code == (0 if kind == "good" else 2), result.stderr
    if kind == "good":
        assert "name=ANN LEE;--" in result.stdout
        assert "nothing was written anywhere (dry run)" in result.stdout
    assert listing(cwd, source) == before
    assert list(scratch.iterdir()) == []
    assert not list(tmp_path.rglob("pwned*"))


# 4. YAML: aliases cannot explode, absurd files fail fast -----------------------------


def _bomb(under: str) -> str:
    levels = ['  - &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"  - &{name} [{', '.join([f'*{previous}'] * 9)}]")
    if under == "unverified":
        return "unverified:\n" + "\n".join(levels) + "\n"
    body = "\n".join("      " + line.replace("  - ", f"k{n}: ", 1) for n, line in enumerate(levels))
    return (
        "tables:\n  crm_users:\n    columns:\n      team:\n        from: Team\n"
        "        values:\n" + body.replace("      k", "          k") + "\n"
    )


@pytest.mark.parametrize("under", ["unverified", "values"])
def test_a_yaml_alias_bomb_fails_fast_naming_the_file_and_line(tmp_path: Path, under: str) -> None:
    text = _bomb(under)
    path = write_mapping(tmp_path / "bomb.yaml", text)
    started = time.perf_counter()
    with pytest.raises(MappingError) as raised:
        read_mapping(path)
    assert time.perf_counter() - started < 2  # a real expansion takes minutes
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if "&e" in t)
    assert str(raised.value) == (
        f"{path}, line {line}: more than 20,000 keys and values (aliases counted as the "
        "values they repeat); a mapping file needs a few hundred"
    )


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    path = write_mapping(tmp_path / "loop.yaml", "description: x\nunverified: &a [1, *a]\n")
    with pytest.raises(MappingError, match=r"loop\.yaml, line 2: the alias \*a is inside its own"):
        read_mapping(path)


def test_a_few_aliases_still_load_as_the_values_they_repeat(tmp_path: Path) -> None:
    mapping = users_mapping({}).__repr__()  # only to keep the shape visible below
    assert mapping
    text = (
        "tables:\n  crm_users:\n    columns:\n      user_id: &id {from: User ID}\n"
        "      manager_user_id: *id\n"
    )
    options = read_mapping(write_mapping(tmp_path / "alias.yaml", text))
    columns = options.tables["crm_users"][0].columns
    assert columns["user_id"] == columns["manager_user_id"] == ColumnSpec(source="User ID")


def test_a_mapping_file_over_a_megabyte_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = write_mapping(tmp_path / "huge.yaml", "description: x\n" + "#" * 1_000_000 + "\n")
    with pytest.raises(MappingError) as raised:
        read_mapping(path)
    assert str(raised.value) == (
        f"{path}: the mapping file is larger than 1,000,000 bytes; a mapping file needs a "
        "few kilobytes"
    )


def test_a_value_map_of_more_than_twenty_thousand_values_is_refused_at_its_line(
    tmp_path: Path,
) -> None:
    entries = "".join(f"          v{n}: x{n}\n" for n in range(12_000))
    text = "tables:\n  crm_users:\n    columns:\n      team:\n        from: Team\n"
    path = write_mapping(tmp_path / "many.yaml", text + "        values:\n" + entries)
    started = time.perf_counter()
    with pytest.raises(MappingError, match=r"many\.yaml, line 10000: more than 20,000 keys"):
        read_mapping(path)
    assert time.perf_counter() - started < 5  # refused early: a full parse takes far longer


def test_nesting_deeper_than_32_levels_is_refused(tmp_path: Path) -> None:
    path = write_mapping(tmp_path / "deep.yaml", "unverified: " + "[" * 100 + "]" * 100 + "\n")
    with pytest.raises(MappingError, match=r"deep\.yaml, line 1: nested more than 32 levels"):
        read_mapping(path)


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    text = "tables:\n  crm_users:\n    file: a.csv\n    sheet: x\n    file: b.csv\n"
    path = write_mapping(tmp_path / "twice.yaml", text)
    with pytest.raises(MappingError) as raised:
        read_mapping(path)
    assert str(raised.value) == (
        f"{path}, line 5: the key 'file' is given twice in one mapping (first on line 3); keep one"
    )


def test_mapping_check_reports_a_yaml_bomb_as_a_usage_error(tmp_path: Path) -> None:
    path = write_mapping(tmp_path / "bomb.yaml", _bomb("unverified"))
    (tmp_path / "exports").mkdir()
    result = cli("mapping", "check", str(path), "--source", str(tmp_path / "exports"))
    assert result.exit_code == 2
    assert re.search(r"line \d+: more than 20,000 keys and values", result.stderr)


# 5. Names and values from a mapping or a file reach SQL quoted ------------------------


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_column_names_value_maps_defaults_and_constants_load_exactly(
    tmp_path: Path, hostile: str
) -> None:
    source = tmp_path / "exports"
    header = ["User ID", hostile, "Email", "Team", "Region", "Active"]
    write_users(source, header, ["U1", hostile, "ann@example.com", hostile, "", "true"])
    mapping = users_mapping(
        {
            "name": {"from": hostile},
            "employee_id": {"value": hostile},
            "team": {"from": "Team", "values": {hostile: f"mapped {hostile}"}},
            "region": {"from": "Region", "default": hostile},
        }
    )
    path = write_mapping(tmp_path / "fuzz.yaml", mapping)
    result = ingest_cli(source, tmp_path / "w.duckdb", "--mapping", str(path))
    assert result.exit_code == 0, result.stderr
    assert users(tmp_path / "w.duckdb") == [
        ("U1", hostile, hostile, "ann@example.com", f"mapped {hostile}", hostile)
    ]


def test_a_value_map_key_matches_regardless_of_case_as_duckdb_lowercases_it(
    tmp_path: Path,
) -> None:
    source = tmp_path / "exports"
    team, key = "Stra\u00dfe \u03a3\u0391\u03a3", "stra\u00dfe \u03c3\u03b1\u03c3"  # Straße ΣΑΣ
    write_users(source, USERS_HEADER, ["U1", "Ann", "ann@example.com", team, "", "1"])
    mapping = users_mapping({"team": {"from": "Team", "values": {key: "Süd"}}})
    path = write_mapping(tmp_path / "case.yaml", mapping)
    assert ingest_cli(source, tmp_path / "w.duckdb", "--mapping", str(path)).exit_code == 0
    assert users(tmp_path / "w.duckdb")[0][4] == "Süd"


def test_a_hostile_file_pattern_and_sheet_name_read_the_right_sheet(tmp_path: Path) -> None:
    source = tmp_path / "exports"
    source.mkdir()
    sheet_name = 'O\'Brien "x"; --'
    workbook = openpyxl.Workbook()
    workbook.active.title = "decoy"
    workbook.active.append(USERS_HEADER)
    workbook.active.append(["U9", "Decoy", "d@example.com", "", "", "true"])
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(USERS_HEADER)
    sheet.append(USERS_ROW)
    workbook.save(source / "users 'x\"; DROP--.xlsx")
    mapping = users_mapping({}, sheet=sheet_name)
    mapping["tables"]["crm_users"]["file"] = "users 'x\"; drop--*.xlsx"
    path = write_mapping(tmp_path / "sheet.yaml", mapping)
    result = ingest_cli(source, tmp_path / "w.duckdb", "--mapping", str(path))
    assert result.exit_code == 0, result.stderr
    assert users(tmp_path / "w.duckdb") == [
        ("U1", None, "Ann Lee", "ann@example.com", "SMB East", None)
    ]


@pytest.mark.parametrize(
    ("mapping", "refusal"),
    [
        (
            {"tables": {'crm_users"; DROP TABLE raw.crm_users; --': {}}},
            'tables.crm_users"; DROP TABLE raw.crm_users; --: not a contract table',
        ),
        (
            users_mapping({"name'); --": "Full Name"}),
            "tables.crm_users.columns: name'); -- is not in the contract",
        ),
    ],
    ids=["table", "column"],
)
def test_a_hostile_mapping_key_is_refused_as_not_in_the_contract(
    tmp_path: Path, mapping: dict, refusal: str
) -> None:
    path = write_mapping(tmp_path / "keys.yaml", mapping)
    with pytest.raises(MappingError) as raised:
        read_mapping(path)
    assert str(raised.value).startswith(f"{path}: {refusal}")


# 6. A committed load survives a validation report it cannot write --------------------


@pytest.mark.parametrize("blocked", ["reports", "reports/latest.html"])
def test_a_load_whose_report_cannot_be_written_succeeds_with_a_warning(
    tmp_path: Path, blocked: str
) -> None:
    source = tmp_path / "exports"
    write_users(source, USERS_HEADER, USERS_ROW)
    path = write_mapping(tmp_path / "m.yaml", users_mapping({}))
    reports = tmp_path / "reports"
    if blocked == "reports":
        reports.write_text("a file where the directory should be", encoding="utf-8")
    else:
        (reports / "latest.html").mkdir(parents=True)  # root can write anywhere else
    warehouse = tmp_path / "w.duckdb"
    result = ingest_cli(source, warehouse, "--mapping", str(path), "--reports", str(reports))
    assert result.exit_code == 0, result.stderr
    warning = " ".join(result.stderr.split())
    assert f"warning: the validation report was not written to {tmp_path / blocked} (" in warning
    assert "is committed and recorded in ops.load_log" in warning
    assert users(warehouse) == [("U1", None, "Ann Lee", "ann@example.com", "SMB East", None)]
