"""The validation report of a run: one self-contained HTML page per load.

Written to `<reports>/<load_id>.html` and copied to `<reports>/latest.html`. Every value
from the data is HTML-escaped.
"""

from __future__ import annotations

import shutil
from html import escape
from pathlib import Path

from pipelines.file_modes import private_directory
from pipelines.ingest.load import FileLoad, IngestResult

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f6f8fa; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.loaded { color: #1a7f37; } .rejected, .reject_file { color: #cf222e; font-weight: 600; }
.warn { color: #9a6700; } .not_applied, .unchanged { color: #57606a; }
"""


def _cell(value: object, numeric: bool = False) -> str:
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    css = ' class="n"' if numeric else ""
    return f"<td{css}>{escape(str(value))}</td>"


def _files_table(files: list[FileLoad]) -> str:
    head = (
        "<tr><th>file</th><th>table</th><th>status</th><th>read</th><th>loaded</th>"
        "<th>quarantined</th><th>new</th><th>updated</th><th>unchanged</th>"
        "<th>encoding</th><th>sha256</th></tr>"
    )
    rows = [
        "<tr>"
        + _cell(f.source_file)
        + _cell(f.table)
        + f'<td class="{escape(f.status)}">{escape(f.status)}</td>'
        + "".join(
            _cell(v)
            for v in (
                f.rows_read,
                f.rows_loaded,
                f.rows_quarantined,
                f.rows_inserted,
                f.rows_updated,
                f.rows_unchanged,
            )
        )
        + _cell(f.encoding or "")
        + _cell(f.checksum[:12])
        + "</tr>"
        for f in files
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def _rules_section(f: FileLoad) -> str:
    parts = [f"<h3>{escape(f.source_file)}</h3>"]
    if f.message:
        parts.append(f"<p>{escape(f.message)}</p>")
    if f.outcomes:
        head = (
            "<tr><th>rule</th><th>expectation</th><th>policy</th><th>rows failing</th>"
            "<th>first failure</th></tr>"
        )
        rows = "".join(
            "<tr>"
            + _cell(o.rule)
            + _cell(o.expectation)
            + f'<td class="{escape(o.policy)}">{escape(o.policy)}</td>'
            + _cell(o.failed)
            + _cell(o.example)
            + "</tr>"
            for o in f.outcomes
        )
        parts.append(f"<table>{head}{rows}</table>")
    elif f.status in ("loaded", "not_applied"):
        parts.append("<p>Every rule passed.</p>")
    return "".join(parts)


def render(result: IngestResult) -> str:
    verdict = (
        "Rejected: nothing was changed in the warehouse."
        if result.rejections
        else "Loaded. Rows that failed a rule are in the quarantine schema."
    )
    rejected = "".join(f"<li>{escape(str(r))}</li>" for r in result.rejections)
    missing = ", ".join(result.missing_tables) or "none"
    ignored = ", ".join(result.ignored_files) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>repradar validation report {escape(result.load_id)}</title><style>{STYLE}</style></head>
<body>
<h1>Validation report</h1>
<p>Load <code>{escape(result.load_id)}</code> of <code>{escape(str(result.source))}</code> into
<code>{escape(str(result.warehouse))}</code>.</p>
<p class="{escape(result.status)}">{escape(verdict)}</p>
{f"<ul>{rejected}</ul>" if rejected else ""}
<h2>Files</h2>
{_files_table(result.files)}
<p>Tables without a file: {escape(missing)}. Files not read: {escape(ignored)}.</p>
<h2>Rules that failed</h2>
{"".join(_rules_section(f) for f in result.files)}
<p>Quarantined rows: <code>SELECT * FROM quarantine.&lt;table&gt; WHERE _load_id =
'{escape(result.load_id)}'</code>. Every rule is in
<code>pipelines/ingest/expectations/&lt;table&gt;.json</code>.</p>
</body></html>
"""


def write(result: IngestResult, directory: Path) -> Path:
    """Write the report and point latest.html at it; returns its path."""
    private_directory(directory)
    path = directory / f"{result.load_id}.html"
    path.write_text(render(result), encoding="utf-8")
    shutil.copyfile(path, directory / "latest.html")
    return path
