"""The leadership report: sections, real chart images, a PDF that renders to pages,
aggregates only (no names, small groups suppressed), hostile strings shown as text."""

from __future__ import annotations

import base64
import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pypdfium2 as pdfium
import pytest

from pipelines.report.content import SECTION_TITLES
from pipelines.report.data import (
    MIN_GROUP,
    OTHER_REASONS,
    pool_small_groups,
    quarter_start,
    read_report_data,
    reporting_periods,
)
from tests.conftest import HOSTILE, run_repradar
from tests.marts import query

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(operated: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("report")
    finished = run_repradar("report", "--warehouse", str(operated), "--out", str(out))
    [html] = out.glob("*.html")
    [pdf] = out.glob("*.pdf")
    document = pdfium.PdfDocument(str(pdf))
    pages = [document[i] for i in range(len(document))]
    return {
        "stdout": finished.stdout,
        "html": html.read_text(encoding="utf-8"),
        "pdf_text": "\n".join(page.get_textpage().get_text_range() for page in pages),
        "images": [page.render(scale=0.5).to_pil() for page in pages],
    }


def people_names(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "SELECT name FROM raw.hr_employees UNION SELECT name FROM raw.crm_users"
        ).fetchall()
    return {name for (name,) in names if name}


def test_report_command_prints_where_the_html_and_pdf_are(report: dict) -> None:
    assert re.search(r"HTML: .*leadership-report-2026-10-31\.html", report["stdout"])
    assert re.search(r"PDF:  .*leadership-report-2026-10-31\.pdf", report["stdout"])


def test_html_has_every_section(report: dict) -> None:
    for title in SECTION_TITLES:
        assert f"<h2>{title}</h2>" in report["html"].replace("&amp;", "&"), title


def test_charts_are_real_images_embedded_in_the_page(report: dict) -> None:
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', report["html"])
    assert len(images) == 5
    for encoded in images:
        png = base64.b64decode(encoded)
        assert png.startswith(PNG_SIGNATURE) and len(png) > 5_000
    assert not re.search(r'(src|href)="https?://', report["html"]), "must be self-contained"


def test_pdf_renders_to_pages_with_every_section(report: dict) -> None:
    assert len(report["images"]) >= 3
    for title in SECTION_TITLES:
        assert title in report["pdf_text"], title
    for image in report["images"]:
        colours = image.convert("L").getextrema()
        assert colours[0] < 100 < colours[1], "a page with content, not blank"


def test_no_employee_name_appears_in_the_report(report: dict, operated: Path) -> None:
    names = people_names(operated)
    assert len(names) > 100
    leaked = [n for n in names if n in report["html"] or n in report["pdf_text"]]
    assert leaked == []


def test_hostile_account_names_are_shown_as_text(report: dict) -> None:
    html = report["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;Sons&lt;/b&gt;" in html
    assert "<script" not in html.lower()
    assert "<b>Sons" not in html
    assert f"{HOSTILE} & <b>Sons</b>" in report["pdf_text"]


def test_suppressed_teams_show_no_figures(operated: Path, tmp_path: Path) -> None:
    """A team the mart suppressed (under 5 reps) is listed without a single figure."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(operated, copy)
    with duckdb.connect(str(copy)) as con:
        [(team,)] = con.execute(
            "SELECT min(team) FROM marts.mart_risk_by_team WHERE NOT is_company_total"
        ).fetchall()
        con.execute(
            """UPDATE marts.mart_risk_by_team SET is_suppressed = true, reps = NULL,
                high_risk_reps = NULL, medium_risk_reps = NULL, expected_exits_3m = NULL,
                revenue_at_risk = NULL, book_revenue_12m = NULL, expected_exits_band = NULL,
                high_risk_reps_band = NULL, revenue_at_risk_rounded = NULL WHERE team = ?""",
            [team],
        )
    run_repradar("report", "--warehouse", str(copy), "--out", str(tmp_path))
    [html] = tmp_path.glob("*.html")
    row = re.search(rf"<tr class=\"muted\"><td>{re.escape(team)}</td>(.*?)</tr>", html.read_text())
    assert row is not None
    assert re.findall(r"<td[^>]*>(.*?)</td>", row.group(1)) == ["suppressed", "", "", ""]


def test_risk_by_team_is_shown_in_bands_and_never_as_exact_sums(
    report: dict, operated: Path
) -> None:
    """Exact team sums would give one rep's risk away when they move between teams."""
    teams = query(
        operated,
        "SELECT * FROM marts.mart_risk_by_team WHERE NOT is_suppressed AND NOT is_company_total",
    )
    assert not teams.empty
    section = report["html"].split("<h2>Expected exits and revenue at risk by team</h2>")[1]
    section = section.split("<h2>")[0]
    for team in teams.itertuples():
        row = re.search(rf"<td>{re.escape(team.team)}</td>(.*?)</tr>", section)
        assert row is not None, team.team
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        assert cells[1:3] == [team.high_risk_reps_band, team.expected_exits_band]
        assert f"{team.expected_exits_3m:.1f}" not in cells
        assert cells[3].startswith("about ")


def test_funnel_figures_are_the_marts_figures(operated: Path) -> None:
    data = read_report_data(operated)
    with duckdb.connect(str(operated), read_only=True) as con:
        funnel = con.execute("SELECT * FROM marts.mart_funnel_conversion").df()
    window = funnel[
        (funnel["cohort_month"] > pd.Timestamp("2025-10-31"))
        & (funnel["cohort_month"] <= pd.Timestamp("2026-10-31"))
    ]
    expected = window.groupby("stage_name")[["entered", "advanced"]].sum()
    reported = data.funnel.set_index("stage_name")
    pd.testing.assert_series_equal(
        reported["advanced"] / reported["entered"],
        (expected["advanced"] / expected["entered"]).reindex(reported.index),
        check_names=False,
    )
    assert data.biggest_drop_stage == (expected["advanced"] / expected["entered"]).idxmin()


def test_bookings_kpi_compares_the_last_three_months_with_the_three_before(operated: Path) -> None:
    data = read_report_data(operated)
    with duckdb.connect(str(operated), read_only=True) as con:
        won = con.execute(
            "SELECT close_date, amount FROM marts.fct_opportunities WHERE is_won"
        ).df()
    won["close_date"] = pd.to_datetime(won["close_date"])
    current = won[won["close_date"].between("2026-08-01", "2026-10-31")]["amount"].sum()
    prior = won[won["close_date"].between("2026-05-01", "2026-07-31")]["amount"].sum()
    bookings = {k.name: k for k in data.kpis}["Bookings"]
    assert bookings.current == pytest.approx(float(current))
    assert bookings.prior == pytest.approx(float(prior))


def test_exit_reasons_cover_the_last_four_quarters() -> None:
    assert quarter_start(dt.date(2026, 10, 31), quarters_back=4) == dt.date(2025, 10, 1)
    assert quarter_start(dt.date(2026, 5, 31), quarters_back=4) == dt.date(2025, 4, 1)
    assert quarter_start(dt.date(2026, 5, 31)) == dt.date(2026, 4, 1)


def test_reporting_periods_are_complete_months() -> None:
    current, prior = reporting_periods(dt.date(2026, 11, 23))
    assert (current.start, current.end) == (dt.date(2026, 8, 1), dt.date(2026, 10, 31))
    assert (prior.start, prior.end) == (dt.date(2026, 5, 1), dt.date(2026, 7, 31))
    current, _ = reporting_periods(dt.date(2026, 10, 31))
    assert current.end == dt.date(2026, 10, 31)


def test_small_exit_reasons_are_pooled_and_a_small_pool_is_hidden() -> None:
    reasons = pd.DataFrame(
        {"exit_reason": ["Pay", "Manager", "Relocation", "Other job"], "exits": [9, 3, 2, 1]}
    )
    pooled = pool_small_groups(reasons, "exit_reason", "exits", OTHER_REASONS)
    assert pooled.to_dict("records") == [
        {"exit_reason": "Pay", "exits": 9},
        {"exit_reason": OTHER_REASONS, "exits": 6},
    ]
    tiny = reasons[reasons["exits"] < 3]
    assert pool_small_groups(tiny, "exit_reason", "exits", OTHER_REASONS).empty
    assert MIN_GROUP == 5
