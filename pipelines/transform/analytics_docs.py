"""`repradar docs --analysts`: the catalog of the analyst database, one self-contained
HTML page made from the table and column comments the publication wrote. It documents
only what analysts can open; the dbt catalog (`repradar docs`) documents the HR warehouse."""

from __future__ import annotations

from html import escape
from pathlib import Path

from pipelines.errors import RepradarError
from pipelines.file_modes import give_shared_mode, shared_directory
from pipelines.partial_files import partial_path
from pipelines.transform.publish import analytics_path
from pipelines.warehouse import read_only

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>repradar: the analyst database</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 2rem; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }}
code {{ background: #f4f4f4; padding: 0 .2rem; }}
</style></head><body>
<h1>The analyst database</h1>
<p><code>{path}</code>: {count} tables in the schema <code>marts</code>, with no person in
them. Open it read-only: <code>duckdb -readonly {path}</code>.</p>
{tables}
</body></html>
"""


def _table_html(name: str, description: str | None, columns: list[tuple]) -> str:
    rows = "\n".join(
        f"<tr><td><code>{escape(column)}</code></td><td>{escape(kind)}</td>"
        f"<td>{escape(text or '')}</td></tr>"
        for column, kind, text in columns
    )
    return (
        f'<h2 id="{escape(name)}">marts.{escape(name)}</h2>\n'
        f"<p>{escape(description or 'No description.')}</p>\n"
        "<table><tr><th>column</th><th>type</th><th>what it is</th></tr>\n"
        f"{rows}</table>"
    )


def write_analytics_docs(warehouse: Path, out: Path) -> Path:
    """The catalog page of the analyst database beside `warehouse`, written to
    `out`/analytics.html with the shared mode (analysts read it); returns the page."""
    analytics = analytics_path(warehouse)
    if not analytics.is_file():
        raise RepradarError(f"no analyst database at {analytics}: run `repradar transform` first")
    with read_only(analytics) as con:
        tables = con.execute(
            "SELECT table_name, comment FROM duckdb_tables() "
            "WHERE database_name = current_database() ORDER BY table_name"
        ).fetchall()
        columns = con.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "WHERE database_name = current_database() ORDER BY table_name, column_index"
        ).fetchall()
    sections = [
        _table_html(name, description, [c[1:] for c in columns if c[0] == name])
        for name, description in tables
    ]
    page = shared_directory(out) / "analytics.html"
    partial = partial_path(page)
    partial.write_text(
        PAGE.format(path=escape(str(analytics)), count=len(tables), tables="\n".join(sections)),
        encoding="utf-8",
    )
    give_shared_mode(partial)
    partial.replace(page)
    return page
