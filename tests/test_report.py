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
    OTHER_REASONS,
    quarter_start,
    read_report_data,
    reporting_periods,
)
from pipelines.transform.publish import analytics_path
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


def published_copy(operated: Path, folder: Path) -> Path:
    """The analyst database of the daily run alone, in `folder`, with no HR warehouse
    beside it; returns where the warehouse would be."""
    shutil.copyfile(analytics_path(operated), folder / "analytics.duckdb")
    return folder / "warehouse.duckdb"


def test_the_report_needs_only_the_analyst_database(operated: Path, tmp_path: Path) -> None:
    warehouse = published_copy(operated, tmp_path)
    finished = run_repradar("report", "--warehouse", str(warehouse), "--out", str(tmp_path))
    assert "reading the analyst database" in finished.stderr
    assert not warehouse.exists()
    assert len(list(tmp_path.glob("leadership-report-*.html"))) == 1


def test_without_an_analyst_database_the_report_says_to_build_one(tmp_path: Path) -> None:
    (tmp_path / "warehouse.duckdb").touch()
    finished = run_repradar(
        "report", "--warehouse", str(tmp_path / "warehouse.duckdb"), check=False
    )
    assert finished.returncode == 1
    assert f"no analyst database at {tmp_path / 'analytics.duckdb'}" in finished.stderr


def test_suppressed_teams_show_no_figures(operated: Path, tmp_path: Path) -> None:
    """A team the mart suppressed (under 5 reps) is listed without a single figure."""
    warehouse = published_copy(operated, tmp_path)
    with duckdb.connect(str(analytics_path(warehouse))) as con:
        [(team,)] = con.execute(
            "SELECT min(team) FROM marts.mart_risk_by_team WHERE NOT is_company_total"
        ).fetchall()
        con.execute(
            """UPDATE marts.mart_risk_by_team SET is_suppressed = true, reps = NULL,
                expected_exits_band = NULL, high_risk_reps_band = NULL,
                revenue_at_risk_rounded = NULL WHERE team = ?""",
            [team],
        )
    run_repradar("report", "--warehouse", str(warehouse), "--out", str(tmp_path))
    [html] = tmp_path.glob("*.html")
    row = re.search(rf"<tr class=\"muted\"><td>{re.escape(team)}</td>(.*?)</tr>", html.read_text())
    assert row is not None
    assert re.findall(r"<td[^>]*>(.*?)</td>", row.group(1)) == ["suppressed", "", "", ""]


def test_a_suppressed_count_shows_as_suppressed_never_as_a_smaller_sum(
    operated: Path, tmp_path: Path
) -> None:
    """Voluntary exits over 3 months with one month suppressed are at least the other
    two plus one, never just the other two; with every month published, the sum."""
    warehouse = published_copy(operated, tmp_path)
    with duckdb.connect(str(analytics_path(warehouse))) as con:
        con.execute(
            "UPDATE marts.mart_headcount_attrition SET voluntary_exits = 5 "
            "WHERE is_company_total AND month_start BETWEEN DATE '2026-05-01' AND '2026-10-01'"
        )
        con.execute(
            "UPDATE marts.mart_headcount_attrition SET voluntary_exits = NULL "
            "WHERE is_company_total AND month_start = DATE '2026-09-01'"
        )
    data = read_report_data(warehouse)
    voluntary = {k.name: k for k in data.kpis}["Voluntary exits"]
    assert voluntary.current is None and voluntary.current_at_least == 11
    assert voluntary.prior == 15 and voluntary.prior_at_least is None
    run_repradar("report", "--warehouse", str(warehouse), "--out", str(tmp_path))
    [html] = tmp_path.glob("*.html")
    row = re.search(
        r"<td>Voluntary exits</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td>", html.read_text()
    )
    assert row is not None and row.groups() == ("at least 11", "15")


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


def test_exit_reasons_are_the_published_ones_with_the_pool_last(operated: Path) -> None:
    data = read_report_data(operated)
    published = query(
        analytics_path(operated),
        "SELECT exit_reason, sum(exits) AS exits FROM marts.mart_exit_reasons "
        "WHERE exit_quarter > DATE '2025-10-01' AND exit_quarter <= DATE '2026-10-31' "
        "AND exit_reason <> ? GROUP BY exit_reason",
        [OTHER_REASONS],
    )
    named = data.exit_reasons[data.exit_reasons["exit_reason"] != OTHER_REASONS]
    assert dict(zip(named["exit_reason"], named["exits"], strict=True)) == dict(
        zip(published["exit_reason"], published["exits"], strict=True)
    )
    assert (named["exits"] >= 5).all()
    assert data.exit_reasons["exit_reason"].iloc[-1] == OTHER_REASONS


def test_attainment_bands_are_the_published_ones(operated: Path) -> None:
    data = read_report_data(operated)
    published = query(
        analytics_path(operated),
        "SELECT attainment_band, reps, reps_with_quota FROM marts.mart_quota_attainment "
        "WHERE window_end_month = DATE '2026-10-01' ORDER BY band_order",
    )
    assert data.attainment["band"].tolist() == published["attainment_band"].tolist()
    pd.testing.assert_series_equal(
        data.attainment["reps"], published["reps"], check_names=False, check_dtype=False
    )
    assert data.reps_with_quota.value == published["reps_with_quota"].iloc[0] >= 5
