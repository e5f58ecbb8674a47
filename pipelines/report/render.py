"""Draw the report content as one self-contained HTML file and as a PDF.

HTML: a Jinja2 template with autoescaping on, charts embedded as data: URIs, print CSS.
PDF: ReportLab; every string goes through `escape` because ReportLab paragraphs parse
their text as markup, and is plain text (`safe_text`) with table cells capped in length,
so no control character reaches the PDF and no name can make a row taller than a page
(ReportLab's LayoutError).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from pipelines.report.content import ReportContent, Section, Table
from pipelines.safe_text import plain, table_cell

PARAGRAPH_LIMIT = 2000  # characters of one PDF paragraph (a lead, a bullet)
TONE_COLOURS = {
    "good": colors.HexColor("#1e7b34"),
    "bad": colors.HexColor("#c0392b"),
    "muted": colors.HexColor("#9aa5b1"),
}


def render_html(content: ReportContent, charts: dict[str, bytes], generated_at: dt.datetime) -> str:
    environment = Environment(
        loader=PackageLoader("pipelines.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
    )
    template = environment.get_template("report.html.j2")
    return template.render(
        content=content,
        charts={name: base64.b64encode(png).decode("ascii") for name, png in charts.items()},
        generated_at=f"{generated_at:%Y-%m-%d %H:%M} UTC",
    )


def _text(text: str) -> str:
    """Text of a PDF paragraph: plain, at most PARAGRAPH_LIMIT characters, as markup."""
    return escape(plain(text, PARAGRAPH_LIMIT))


def _cell(text: str) -> str:
    """Text of a PDF table cell: `safe_text.table_cell`, as markup."""
    return escape(table_cell(text))


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    return {
        "title": sheet["Title"],
        "subtitle": ParagraphStyle("subtitle", parent=sheet["Normal"], textColor="#52606d"),
        "heading": ParagraphStyle(
            "heading", parent=sheet["Heading2"], textColor="#2f5d8a", spaceBefore=8
        ),
        "body": ParagraphStyle("body", parent=sheet["Normal"], fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", parent=sheet["Normal"], fontSize=8, leading=10),
        "note": ParagraphStyle("note", parent=sheet["Normal"], fontSize=7.5, textColor="#52606d"),
    }


def _pdf_table(table: Table, styles: dict[str, ParagraphStyle], width: float) -> PdfTable:
    cells = [[Paragraph(f"<b>{_text(h)}</b>", styles["cell"]) for h in table.headers]]
    cells += [[Paragraph(_cell(cell), styles["cell"]) for cell in row] for row in table.rows]
    first = width * 0.34
    rest = (width - first) / max(1, len(table.headers) - 1)
    drawn = PdfTable(cells, colWidths=[first] + [rest] * (len(table.headers) - 1), repeatRows=1)
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f5f7fa")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#e4e7eb")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for index, tone in enumerate(table.tones, start=1):
        if tone in TONE_COLOURS:
            commands.append(("TEXTCOLOR", (0, index), (-1, index), TONE_COLOURS[tone]))
    drawn.setStyle(TableStyle(commands))
    return drawn


def _pdf_section(
    section: Section, charts: dict[str, bytes], styles: dict[str, ParagraphStyle], width: float
) -> list:
    parts: list = [
        Paragraph(_text(section.title), styles["heading"]),
        Paragraph(_text(section.lead), styles["body"]),
    ]
    if section.chart:
        parts.append(Image(io.BytesIO(charts[section.chart]), width=width, height=width * 0.4))
    if section.table:
        parts.append(_pdf_table(section.table, styles, width))
    if section.bullets:
        parts.append(
            ListFlowable(
                [ListItem(Paragraph(_text(b), styles["body"])) for b in section.bullets],
                bulletType="bullet",
            )
        )
    return [KeepTogether(parts), Spacer(1, 4 * mm)]


def render_pdf(
    content: ReportContent, charts: dict[str, bytes], generated_at: dt.datetime, path: Path
) -> None:
    styles = _styles()
    document = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=content.title,
        author="repradar",
    )
    story: list = [
        Paragraph(_text(content.title), styles["title"]),
        Paragraph(_text(content.subtitle), styles["subtitle"]),
        Spacer(1, 4 * mm),
    ]
    for section in content.sections:
        story += _pdf_section(section, charts, styles, document.width)
    story.append(
        Paragraph(
            _text(f"{content.footnote} Generated {generated_at:%Y-%m-%d %H:%M} UTC by repradar."),
            styles["note"],
        )
    )
    document.build(story)
