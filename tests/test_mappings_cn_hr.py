"""The shipped mappings of 纷享销客 FxiaoKe, BambooHR and Workday, end to end.

A generated company (seed 3, 20 reps, 12 months) is rewritten in each vendor's export
shape (`tests/vendor_cn_hr_exports.py`): FxiaoKe as GBK CSV, UTF-8 CSV with a BOM and
Excel, with Chinese headers and stage labels; BambooHR custom reports; a Workday worker
report. Loaded with `repradar ingest --mapping <vendor>`, each gives the raw tables the
canonical company gives without a mapping, but for what the vendor's export cannot
carry (listed in GAPS and in the mapping's `unverified:` text). The BambooHR load is
also built into the marts, which must equal the canonical load's marts.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.contract import TABLES
from tests.conftest import ingest_cli, run_repradar
from tests.vendor_cn_hr_exports import to_bamboohr, to_fxiaoke, to_workday

# variant -> (shipped mapping, converter writing the vendor's export of a company)
VARIANTS: dict[str, tuple[str, Callable[[Path, Path], Path]]] = {
    "fxiaoke-gbk": ("fxiaoke", lambda company, out: to_fxiaoke(company, out, "gbk")),
    "fxiaoke-utf8-bom": ("fxiaoke", lambda company, out: to_fxiaoke(company, out, "utf-8-sig")),
    "fxiaoke-xlsx": ("fxiaoke", lambda company, out: to_fxiaoke(company, out, "xlsx")),
    "bamboohr": ("bamboohr", to_bamboohr),
    "workday": ("workday", to_workday),
}
# Contract columns a vendor's export cannot carry: loaded empty (see the mapping's text).
GAPS: dict[str, dict[str, set[str]]] = {
    "fxiaoke": {"crm_users": {"region"}},  # FxiaoKe 人员 have no region
}
# The tables each mapping reads from vendor files; the rest come from canonical copies.
VENDOR_TABLES = {
    "fxiaoke": {"crm_opportunities", "crm_accounts", "crm_users"},
    "bamboohr": {"hr_employees", "hr_job_history", "hr_compensation"},
    "workday": {"hr_employees"},
}
MARTS_VENDOR = "bamboohr"


@pytest.fixture(scope="module")
def exports(small_company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every variant's export directory, converted from the small canonical company."""
    root = tmp_path_factory.mktemp("vendor-exports")
    return {
        name: convert(small_company_dir, root / name) for name, (_, convert) in VARIANTS.items()
    }


@pytest.fixture(scope="module")
def canonical_warehouse(small_warehouse: Path) -> Path:
    """The small company loaded without a mapping (and built; only raw is compared)."""
    return small_warehouse


@pytest.fixture(scope="module")
def vendor_warehouse(
    exports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """`load(variant)`: the warehouse of that variant's export ingested with its mapping
    (each loaded once per module)."""
    loaded: dict[str, Path] = {}

    def load(variant: str) -> Path:
        if variant not in loaded:
            mapping = VARIANTS[variant][0]
            warehouse = tmp_path_factory.mktemp(variant) / "warehouse.duckdb"
            result = ingest_cli(exports[variant], warehouse, "--mapping", mapping)
            assert result.exit_code == 0, result.output
            loaded[variant] = warehouse
        return loaded[variant]

    return load


def attached(**warehouses: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with each warehouse attached read-only under its name."""
    con = duckdb.connect()
    for name, path in warehouses.items():
        con.execute(f"ATTACH '{path}' AS {name} (READ_ONLY)")
    return con


def column_types(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> dict:
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [catalog, schema, table],
        ).fetchall()
    )


def differences(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str]
) -> list[str]:
    """Rows of `table` in one warehouse and not the other (as multisets), in words."""
    selected = ", ".join(f'"{c}"' for c in columns)
    found = []
    for this, other in (("canonical", "vendor"), ("vendor", "canonical")):
        extra = con.execute(
            f"SELECT {selected} FROM {this}.{schema}.{table} EXCEPT ALL "
            f"SELECT {selected} FROM {other}.{schema}.{table}"
        ).fetchall()
        found += [f"only in {this}: {row}" for row in extra[:3]]
        if len(extra) > 3:
            found.append(f"... {len(extra)} rows only in {this}")
    return found


def test_exports_are_in_each_vendors_shape(exports: dict[str, Path]) -> None:
    """The converted companies hold vendor files, not canonical ones, for mapped tables."""
    for variant, (mapping, _) in VARIANTS.items():
        directory = exports[variant]
        for table in VENDOR_TABLES[mapping]:
            assert not (directory / f"{table}.csv").exists(), (variant, table)
    gbk = next(exports["fxiaoke-gbk"].glob("商机*.csv")).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    header = gbk.decode("gbk").splitlines()[0].split(",")
    assert {"商机编号", "商机阶段", "阶段状态", "预计成交日期", "商机金额"} <= set(header)
    assert "谈判审核" in gbk.decode("gbk")
    bom = next(exports["fxiaoke-utf8-bom"].glob("商机*.csv")).read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf") and "初步接洽" in bom.decode("utf-8-sig")
    assert len(list(exports["fxiaoke-xlsx"].glob("*.xlsx"))) == 3
    assert {p.name for p in exports["bamboohr"].glob("BambooHR - *.csv")} == {
        "BambooHR - Employee Report.csv",
        "BambooHR - Employment Status.csv",
        "BambooHR - Job Information.csv",
        "BambooHR - Compensation.csv",
    }
    assert (exports["workday"] / "All Workers.xlsx").is_file()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_vendor_export_loads_the_canonical_raw_tables(
    variant: str, canonical_warehouse: Path, vendor_warehouse: Callable[[str], Path]
) -> None:
    mapping = VARIANTS[variant][0]
    gaps = GAPS.get(mapping, {})
    with attached(canonical=canonical_warehouse, vendor=vendor_warehouse(variant)) as con:
        problems = []
        for table, contract in TABLES.items():
            canonical_types = column_types(con, "canonical", "raw", table)
            vendor_types = column_types(con, "vendor", "raw", table)
            for column in contract.columns:
                if canonical_types.get(column) != vendor_types.get(column):
                    problems.append(f"{table}.{column}: type {vendor_types.get(column)}")
            compared = [c for c in contract.columns if c not in gaps.get(table, set())]
            problems += [f"{table}: {d}" for d in differences(con, "raw", table, compared)]
        assert not problems, "\n".join(problems)
        # The documented gaps: empty in the vendor load, filled in the canonical one.
        for table, columns in gaps.items():
            for column in columns:
                filled = f'SELECT count("{column}") FROM {{}}.raw.{table}'
                assert con.execute(filled.format("vendor")).fetchone()[0] == 0, (table, column)
                assert con.execute(filled.format("canonical")).fetchone()[0] > 0, (table, column)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_mapping_check_accepts_the_vendor_export(variant: str, exports: dict[str, Path]) -> None:
    mapping = VARIANTS[variant][0]
    args = ["mapping", "check", mapping, "--source", str(exports[variant])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for table in VENDOR_TABLES[mapping]:
        [source] = [line for line in lines if line.startswith(f"{table} <- ")]
        assert f"{table}.csv" not in source, source  # read from the vendor's file


def test_fxiaoke_stage_label_of_another_sales_process_is_guessed_and_named(
    exports: dict[str, Path], tmp_path: Path
) -> None:
    """A tenant's own stage label (here 合同签订 on open deals) loads as the stage its words
    point to, and the check says which values: entry confirms it in fxiaoke.yaml."""
    source = tmp_path / "fxiaoke"
    shutil.copytree(exports["fxiaoke-utf8-bom"], source)
    [deals] = source.glob("商机*.csv")
    rows = list(csv.reader(io.StringIO(deals.read_text(encoding="utf-8-sig"))))
    stage, status = rows[0].index("商机阶段"), rows[0].index("阶段状态")
    relabelled = [r for r in rows[1:] if r[status] == "进行中" and r[stage] == "谈判审核"]
    assert relabelled
    for row in relabelled:
        row[stage] = "合同签订"
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    deals.write_text(text.getvalue(), encoding="utf-8-sig")
    result = CliRunner().invoke(app, ["mapping", "check", "fxiaoke", "--source", str(source)])
    assert result.exit_code == 0, result.output
    # The value, how many rows carry it, its guess and the values: entry to paste (README).
    assert f"'合同签订' ({len(relabelled)} row(s)) as Negotiation" in result.output
    assert '"合同签订": Negotiation   # guessed' in result.output
    assert "columns.stage.values" in result.output


def test_mapping_list_shows_the_vendor_mappings() -> None:
    result = CliRunner().invoke(app, ["mapping", "list"])
    assert result.exit_code == 0, result.output
    for name in ("fxiaoke", "bamboohr", "workday"):
        assert name in result.output


def test_bamboohr_load_builds_the_canonical_marts(
    small_warehouse: Path,
    vendor_warehouse: Callable[[str], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    canonical = small_warehouse  # the same small company, loaded and built without a mapping
    vendor = tmp_path_factory.mktemp(f"marts-{MARTS_VENDOR}") / "warehouse.duckdb"
    shutil.copyfile(vendor_warehouse(MARTS_VENDOR), vendor)
    run_repradar("transform", "--warehouse", str(vendor))
    with attached(canonical=canonical, vendor=vendor) as con:
        marts = {
            catalog: sorted(
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_catalog = ? AND table_schema = 'marts'",
                    [catalog],
                ).fetchall()
            )
            for catalog in ("canonical", "vendor")
        }
        assert marts["canonical"] and marts["vendor"] == marts["canonical"]
        problems = []
        for table in marts["canonical"]:
            types = column_types(con, "canonical", "marts", table)
            assert column_types(con, "vendor", "marts", table) == types, table
            problems += [f"{table}: {d}" for d in differences(con, "marts", table, list(types))]
        assert not problems, "\n".join(problems)
