"""The shipped CRM mappings: Salesforce, HubSpot and Zoho CRM exports of a company load
as that company, and build the same marts.

`tests/vendor_crm_exports.py` rewrites the small generated company (seed 3, 20 reps, 12
months) in each vendor's export shape; `repradar ingest --mapping <vendor>` must then give
the raw tables of the canonical company loaded without a mapping, column for column.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.contract import TABLES
from tests.conftest import REPO, ingest_cli, run_repradar
from tests.vendor_crm_exports import (
    CONVERTERS,
    hubspot_user_keys,
    read_company,
    with_user_keys,
)

VENDORS = tuple(CONVERTERS)
MAPPINGS = REPO / "pipelines" / "ingest" / "mappings"
# What `mapping check` must show for each vendor: its files, and contract columns next to
# the vendor columns that feed them.
CHECK_SHOWS = {
    "salesforce": (
        ("Opportunity.csv",),
        ("OpportunityHistory.csv",),
        ("close_date", "CloseDate"),
        ("entered_at", "CreatedDate"),
        ("occurred_at", "CompletedDateTime"),
    ),
    "hubspot": (
        ("deals",),
        ("account_id", "Associated Company IDs (Primary)"),
        ("owner_user_id", "Company owner"),
        ("entered_at", 'Date entered "Contract Sent (Sales Pipeline)"'),
    ),
    "zoho": (
        ("Deals_001.csv",),
        ("Stage_History_001.csv",),
        ("close_date", "Closing Date"),
        ("entered_at", "Modified Time"),
    ),
}


def raw_tables(warehouse: Path) -> dict[str, pd.DataFrame]:
    """Every raw table, contract columns only, in key order."""
    frames = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, table in TABLES.items():
            columns = ", ".join(f'"{c}"' for c in table.columns)
            frames[name] = con.execute(f"SELECT {columns} FROM raw.{name}").df()
    return frames


def in_key_order(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    return frame.sort_values(list(TABLES[table].key)).reset_index(drop=True)


def quarantined(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = {
            t: con.execute(f"SELECT count(*) FROM quarantine.{t}").fetchone()[0] for t in TABLES
        }
    return {t: n for t, n in counts.items() if n}


def check_mapping(vendor: str, source: Path):
    return CliRunner().invoke(app, ["mapping", "check", vendor, "--source", str(source)])


@pytest.fixture(scope="module")
def canonical_raw(small_warehouse: Path) -> dict[str, pd.DataFrame]:
    """The raw tables of the small company loaded without a mapping."""
    return raw_tables(small_warehouse)


@pytest.fixture(scope="module", params=VENDORS)
def vendor(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def exports(small_company_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small company as each vendor exports it."""
    root = tmp_path_factory.mktemp("vendor_exports")
    return {name: convert(small_company_dir, root / name) for name, convert in CONVERTERS.items()}


@pytest.fixture(scope="module")
def load(exports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """`load(vendor)`: the vendor's export loaded with its shipped mapping (once)."""
    root = tmp_path_factory.mktemp("vendor_loads")
    loaded: dict[str, Path] = {}

    def load_vendor(name: str) -> Path:
        if name not in loaded:
            warehouse = root / f"{name}.duckdb"
            result = ingest_cli(exports[name], warehouse, "--mapping", name)
            assert result.exit_code == 0, f"{name}: {result.output}"
            loaded[name] = warehouse
        return loaded[name]

    return load_vendor


def test_vendor_export_loads_as_the_canonical_company(
    vendor: str, load, canonical_raw, small_company_dir: Path
) -> None:
    warehouse = load(vendor)
    assert quarantined(warehouse) == {}
    expected = canonical_raw
    if vendor == "hubspot":  # HubSpot's exports name owners: users are keyed by name
        expected = with_user_keys(canonical_raw, hubspot_user_keys(read_company(small_company_dir)))
    loaded = raw_tables(warehouse)
    for table in TABLES:
        pd.testing.assert_frame_equal(
            in_key_order(loaded[table], table),
            in_key_order(expected[table], table),
            obj=f"{vendor} raw.{table}",
        )


def shipped_stage_values(vendor: str) -> dict[str, str]:
    mapping = yaml.safe_load((MAPPINGS / f"{vendor}.yaml").read_text(encoding="utf-8"))
    return mapping["tables"]["crm_opportunity_stage_history"]["columns"]["stage"]["values"]


@pytest.mark.parametrize(
    ("vendor", "file", "opportunity", "stage", "entered", "extra_stages"),
    [
        (
            "salesforce",
            "OpportunityHistory.csv",
            "OpportunityId",
            "StageName",
            "CreatedDate",
            {"Value Proposition", "Id. Decision Makers", "Perception Analysis"},
        ),
        (
            "zoho",
            "Stage_History_001.csv",
            "Deal Name.id",
            "Stage",
            "Modified Time",
            {"Value Proposition", "Identify Decision Makers", "Closed-Lost to Competition"},
        ),
    ],
)
def test_stage_history_exports_repeat_stages_on_later_days(
    exports: dict[str, Path], vendor, file, opportunity, stage, entered, extra_stages
) -> None:
    """The vendor lists a stage again on a later day (an amount change, or a second vendor
    stage of the same repradar stage): only `keep_earliest` gives the canonical dates."""
    history = pd.read_csv(exports[vendor] / file, dtype=str)
    assert extra_stages <= set(history[stage])
    values = {k.lower(): v for k, v in shipped_stage_values(vendor).items()}
    history["_stage"] = history[stage].map(lambda s: values.get(s.lower(), s))
    history["_day"] = pd.to_datetime(history[entered], format="mixed").dt.date
    days = history.groupby([opportunity, "_stage"])["_day"].nunique()
    assert (days > 1).sum() > 500


@pytest.fixture(scope="module")
def marts_built(small_warehouse: Path, load, tmp_path_factory: pytest.TempPathFactory):
    """The canonical small company's marts, and `repradar transform` of the Salesforce load."""
    salesforce = tmp_path_factory.mktemp("marts-salesforce") / "warehouse.duckdb"
    shutil.copyfile(load("salesforce"), salesforce)
    run_repradar("transform", "--warehouse", str(salesforce))
    return small_warehouse, salesforce


def test_salesforce_export_builds_the_same_marts(marts_built: tuple[Path, Path]) -> None:
    canonical, salesforce = marts_built
    with duckdb.connect(str(canonical), read_only=True) as con:
        con.execute(f"ATTACH '{salesforce}' AS sf (READ_ONLY)")
        marts = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() AND table_schema = 'marts' ORDER BY 1"
            ).fetchall()
        ]
        assert "fct_opportunities" in marts and "mart_funnel_conversion" in marts
        for mart in marts:
            rows = con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0]
            assert rows == con.execute(f"SELECT count(*) FROM sf.marts.{mart}").fetchone()[0], mart
            for one, other in (("marts", "sf.marts"), ("sf.marts", "marts")):
                missing = con.execute(
                    f"SELECT count(*) FROM (SELECT * FROM {one}.{mart} "
                    f"EXCEPT ALL SELECT * FROM {other}.{mart})"
                ).fetchone()[0]
                assert missing == 0, f"{mart}: {missing} rows of {one} not in {other}"


def test_an_unmapped_vendor_stage_loads_as_guessed_and_the_load_lists_it(
    exports: dict[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "salesforce"
    shutil.copytree(exports["salesforce"], source)
    opportunities = pd.read_csv(source / "Opportunity.csv", dtype=str, keep_default_na=False)
    open_deals = opportunities.index[opportunities["IsClosed"] == "false"]
    opportunities.loc[open_deals[:3], "StageName"] = "Discovery"
    opportunities.loc[open_deals[3:5], "StageName"] = "Verbal Commit"
    opportunities.to_csv(source / "Opportunity.csv", index=False, quoting=csv.QUOTE_ALL)
    warehouse = tmp_path / "warehouse.duckdb"

    result = ingest_cli(source, warehouse, "--mapping", "salesforce")

    assert result.exit_code == 0, result.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        message = con.execute(
            "SELECT message FROM ops.load_log WHERE source_file = 'Opportunity.csv'"
        ).fetchone()[0]
        stages = dict(
            con.execute(
                "SELECT opportunity_id, stage FROM raw.crm_opportunities WHERE opportunity_id "
                "IN (SELECT UNNEST(?))",
                [list(opportunities.loc[open_deals[:5], "Id"])],
            ).fetchall()
        )
    assert set(stages.values()) == {"Needs Analysis"} and len(stages) == 3
    assert "'Discovery' (3 row(s)) as Needs Analysis" in message
    assert "quarantined, no guess: 'Verbal Commit' (2 row(s))" in message
    assert re.search(r'^\s*"Verbal Commit": \?\?\?', message, re.M)


def test_mapping_check_shows_each_vendors_columns(vendor: str, exports: dict[str, Path]) -> None:
    result = check_mapping(vendor, exports[vendor])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for names in CHECK_SHOWS[vendor]:
        assert any(all(n in line for n in names) for line in lines), f"{vendor}: {names}"


def test_mapping_list_names_the_crm_mappings() -> None:
    result = CliRunner().invoke(app, ["mapping", "list"])
    assert result.exit_code == 0, result.output
    for name in VENDORS:
        assert name in result.output
