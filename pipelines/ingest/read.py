"""Find the export files and read each one, verbatim and as text, into DuckDB.

Every value is staged as VARCHAR exactly as it appears in the file, so a row that fails
validation can be quarantined as it arrived. Rows are numbered as a spreadsheet numbers
them: the header is row 1, the first record row 2 (a quoted value spanning lines still
counts as one row). Parquet has no header: its first record is row 1.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import fnmatch
import hashlib
import io
import itertools
import math
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pandas as pd

from pipelines import settings
from pipelines.contract import TABLES
from pipelines.errors import UsageError
from pipelines.ingest import limits
from pipelines.ingest.encoding import CHUNK, detect_encoding
from pipelines.ingest.errors import FileRejected, excerpt
from pipelines.ingest.options import AUTO_HEADER_ROW, IngestOptions, TableSource
from pipelines.warehouse import lit, q

KINDS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
}


class SourceError(UsageError):
    """A source directory that cannot be read as one file per table."""


@dataclass(frozen=True)
class SourceFile:
    table: str
    path: Path
    kind: str
    spec: TableSource = field(default_factory=TableSource)  # how the mapping reads it


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int
    encoding: str | None  # None for binary formats


@dataclass
class MalformedRow:
    row: int
    reason: str
    raw_line: str


@dataclass
class StagedFile:
    """A file read into a temporary DuckDB table of text columns."""

    relation: str
    header: list[str]
    row_sql: str  # SQL giving each staged row's number in the file
    rows: int
    malformed: list[MalformedRow] = field(default_factory=list)
    source_header: list[str] = field(default_factory=list)  # of the file, when projected
    origins: dict[str, str] = field(default_factory=dict)  # contract column -> its origin


def _matching(files: list[Path], pattern: str) -> list[Path]:
    """The file of exactly that name (ignoring case), else the files the glob matches."""
    exact = [p for p in files if p.name.casefold() == pattern.casefold()]
    return exact or [p for p in files if fnmatch.fnmatchcase(p.name.casefold(), pattern.casefold())]


def matches(name: str, pattern: str) -> bool:
    """Whether a file of this name is what the mapping's `file:` pattern names."""
    return bool(_matching([Path(name)], pattern))


def _configured_candidates(table: str, files: list[Path], patterns: tuple[str, ...]) -> list[Path]:
    """The files matching the first of the mapping's patterns that matches any."""
    for pattern in patterns:
        candidates = _matching(files, pattern)
        if len(candidates) > 1:
            names = ", ".join(p.name for p in candidates)
            raise SourceError(
                f"{table}: the mapping's file {pattern!r} matches more than one file "
                f"({names}); keep one or make the pattern match one"
            )
        if candidates:
            return candidates
    return []


def _default_candidates(table: str, files: list[Path]) -> list[Path]:
    return [p for p in files if p.stem.lower() == table and p.suffix.lower() in KINDS]


def _refuse_link(table: str, path: Path) -> None:
    """Only regular files inside the source folder are read: a symbolic link could make
    an export of any file the pipeline can read (and print it in messages)."""
    if path.is_symlink():
        raise SourceError(
            f"{table}: {path.name} is a symbolic link; repradar reads only regular files "
            "inside the source folder (copy the file itself into the folder)"
        )


def discover(
    source: Path, options: IngestOptions
) -> tuple[dict[str, list[SourceFile]], list[Path], dict[str, list[str]]]:
    """The files of each contract table found in `source`, the files nothing will read,
    and the mapped file patterns that matched nothing, by table.

    A table the mapping names files for is read from the first pattern of each of its
    sources that matches (several tables may read one file, and one table several files);
    any other table from the one file named like it."""
    files = sorted(
        p
        for p in source.iterdir()
        if (p.is_file() or p.is_symlink()) and not p.name.startswith(".")
    )
    found: dict[str, list[SourceFile]] = {}
    unmatched: dict[str, list[str]] = {}
    claimed: set[Path] = set()
    for table in TABLES:
        for table_source in options.sources_of(table):
            if table_source.file:
                candidates = _configured_candidates(table, files, table_source.file)
                if not candidates:
                    unmatched.setdefault(table, []).append(" or ".join(table_source.file))
            else:
                candidates = _default_candidates(table, files)
            if len(candidates) > 1:
                names = ", ".join(p.name for p in candidates)
                raise SourceError(f"{table}: more than one file in {source} ({names}); keep one")
            if candidates:
                path = candidates[0]
                _refuse_link(table, path)
                kind = KINDS.get(path.suffix.lower(), "csv")
                found.setdefault(table, []).append(SourceFile(table, path, kind, table_source))
                claimed.add(path)
    return found, [p for p in files if p not in claimed], unmatched


def fingerprint(source: SourceFile, configured_encoding: str | None) -> Fingerprint:
    """SHA-256 of the bytes and, for text, the encoding (configured or detected)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_error_at: int | None = None
    size = 0
    first = b""
    longest = settings.whole_number(settings.MAX_FIELD_KB) * 1024
    lines = limits.RunLengths()
    with source.path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if not first:
                first = chunk[:4]
            digest.update(chunk)
            if source.kind == "csv" and lines.feed(chunk, longest):
                limits.reject_long_line(source.path, lines.line, longest)
            if source.kind == "csv" and utf8_error_at is None and configured_encoding is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    utf8_error_at = size + error.start
            size += len(chunk)
    most_rows = settings.whole_number(settings.MAX_ROWS)
    if source.kind == "csv" and lines.line - 1 > most_rows:
        raise limits.too_big(
            source.path,
            f"a file of {lines.line - 1:,} lines",
            f"at most {most_rows:,} rows per file (REPRADAR_MAX_ROWS)",
        )
    if source.kind != "csv":
        encoding = None
    elif configured_encoding is not None:
        encoding = configured_encoding.lower()
    else:
        encoding = detect_encoding(source.path, first, utf8_error_at)
    return Fingerprint(digest.hexdigest(), size, encoding)


def _unreadable(source: SourceFile, found: str, expected: str) -> FileRejected:
    return FileRejected(
        file=source.path.name,
        row=None,
        column=None,
        found=found,
        expected=expected,
        rule="file.readable",
    )


def _reject_empty(source: SourceFile) -> None:
    raise FileRejected(
        file=source.path.name,
        row=1,
        column=None,
        found="an empty file",
        expected="a header row naming the columns, then one row per record",
        rule="file.not_empty",
    )


def _transcode(path: Path, encoding: str, workdir: Path) -> Path:
    target = workdir / f"{path.stem}.utf8.csv"
    with (
        path.open("r", encoding=encoding, newline="") as text_in,
        target.open("w", encoding="utf-8", newline="") as text_out,
    ):
        while chunk := text_in.read(CHUNK):
            text_out.write(chunk)
    return target


DELIMITERS = (",", ";", "\t", "|")
HEADER_SEARCH_ROWS = 30  # `header_row: auto` looks for the header among these rows
HEADER_WIDTH_SHARE = 0.8  # ... as the first holding this share of the widest row's values


def header_row_of(rows: list[list[object]]) -> int:
    """The row number (from 1) of the header among a file's first rows: the first one
    about as wide as the widest, below report titles, run dates and prompts."""
    widths = [sum(1 for cell in row if str(cell or "").strip()) for row in rows]
    if not widths or max(widths) == 0:
        return 1
    wanted = max(1, math.ceil(HEADER_WIDTH_SHARE * max(widths)))
    return next(number for number, width in enumerate(widths, start=1) if width >= wanted)


def _auto_header(path: Path, source: SourceFile) -> SourceFile:
    """The source with `header_row: auto` resolved from the first lines of a CSV file."""
    if source.spec.header_row != AUTO_HEADER_ROW:
        return source
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        lines = [line for _, line in zip(range(HEADER_SEARCH_ROWS), handle, strict=False)]
    delimiters = (source.spec.delimiter,) if source.spec.delimiter else DELIMITERS
    records = max(
        (list(csv.reader(lines, delimiter=d, strict=False)) for d in delimiters),
        key=lambda rows: max((len(r) for r in rows), default=0),
    )
    return replace(source, spec=replace(source.spec, header_row=header_row_of(records)))


HEADER_TEXT = 4 * 1024 * 1024  # characters read to find the header record


def _dialect(path: Path, source: SourceFile) -> tuple[str, list[str]]:
    """The delimiter (configured, else the one that splits the header into the most
    fields) and the header's column names as DuckDB would name them: trimmed, an empty
    name as `column<i>`, a repeated one with `_<n>` (case-insensitively)."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        text = handle.read(HEADER_TEXT)
    records = iter(text.splitlines(keepends=True)[source.spec.header_row - 1 :])
    first = "".join(records)

    def header_of(delimiter: str) -> list[str]:
        return next(csv.reader(io.StringIO(first), delimiter=delimiter, strict=False), [])

    delimiter = source.spec.delimiter or max(DELIMITERS, key=lambda d: len(header_of(d)))
    names: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(header_of(delimiter)):
        name = raw.strip() or f"column{index}"
        count = seen.get(name.casefold(), 0)
        seen[name.casefold()] = count + 1
        names.append(name if count == 0 else f"{name}_{count}")
    if not names:
        _reject_empty(source)
    return delimiter, names


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    path: Path,
    options: list[str],
    header: list[str],
) -> None:
    """read_csv in strict mode (malformed quoting is a rejected line); lenient when a
    quoted header name spans lines, which DuckDB's strict parser cannot skip."""
    strict = not any("\n" in name or "\r" in name for name in header)
    con.execute(
        f"CREATE TEMP TABLE {relation} AS SELECT * FROM read_csv({lit(str(path))}, "
        f"{', '.join(options)}, strict_mode = {str(strict).lower()})"
    )


def _refuse_unclosed_quote(
    con: duckdb.DuckDBPyConnection, source: SourceFile, relation: str
) -> None:
    """A quote opened and never closed swallows the rest of the file into one value:
    refuse the file at that row rather than quarantine everything after it."""
    unclosed = con.execute(
        f"SELECT min(line) FROM {relation}_rejects "
        "WHERE error_message ILIKE '%unterminated quote%' AND contains(csv_line, chr(10)) "
        "AND len(rtrim(csv_line, chr(13) || chr(10))) > 0 "
        "AND contains(rtrim(csv_line, chr(13) || chr(10)), chr(10))"
    ).fetchone()[0]
    if unclosed is not None:
        raise FileRejected(
            file=source.path.name,
            row=int(unclosed),
            column=None,
            found='a quote (") that is never closed: the rest of the file would be one value',
            expected='quoted values closed by a quote, quotes inside them doubled ("")',
            rule="file.quoting",
        )


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    source: SourceFile,
    encoding: str,
    relation: str,
    workdir: Path,
) -> StagedFile:
    with source.path.open("rb") as handle:
        if not handle.read(4096).strip().removeprefix(codecs.BOM_UTF8).strip():
            _reject_empty(source)
    path = source.path
    if encoding not in ("utf-8", "utf-8-sig"):
        try:
            path = _transcode(source.path, encoding, workdir)
        except UnicodeError as error:
            raise FileRejected(
                file=source.path.name,
                row=None,
                column=None,
                found=f"bytes that are not valid {encoding} ({error.reason})",
                expected=f"text in {encoding}, as detected or configured; set `encoding:` in "
                "the mapping file to the file's real encoding",
                rule="file.encoding",
            ) from error
    source = _auto_header(path, source)
    delimiter, header = _dialect(path, source)
    columns = ", ".join(f"{lit(name)}: 'VARCHAR'" for name in header)
    options = [
        "auto_detect = false",
        "header = false",
        f"skip = {source.spec.header_row}",  # records: title rows and the header
        f"delim = {lit(delimiter)}",
        "quote = '\"'",
        "escape = '\"'",
        f"columns = {{{columns}}}",
        "store_rejects = true",
        f"rejects_table = '{relation}_rejects'",
        f"rejects_scan = '{relation}_scan'",
    ]
    try:
        _read_csv(con, relation, path, options, header)
    except duckdb.Error as error:
        raise _unreadable(
            source,
            f"a file DuckDB cannot parse as CSV ({excerpt(str(error).splitlines()[0])})",
            "comma, semicolon, tab or pipe separated text with a header row",
        ) from error
    _refuse_unclosed_quote(con, source, relation)
    malformed = [
        MalformedRow(int(line), f"{error_type.lower()}: {message}", (raw_line or "").strip("\r\n"))
        for line, error_type, message, raw_line in con.execute(
            f"SELECT line, min(error_type::VARCHAR), min(error_message), min(csv_line) "
            f"FROM {relation}_rejects GROUP BY line ORDER BY line"
        ).fetchall()
    ]
    con.execute(f"DROP TABLE IF EXISTS {relation}_rejects")
    con.execute(f"DROP TABLE IF EXISTS {relation}_scan")
    header = [row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()]
    rows, first_rowid = con.execute(f"SELECT count(*), min(rowid) FROM {relation}").fetchone()
    # Rows of a table created inside a transaction are numbered from a large offset.
    rowid = f"({relation}.rowid - {first_rowid or 0})"
    first = source.spec.header_row + 1  # the line of the first record
    row_sql = f"{rowid} + {first}"
    if malformed:
        # Staged row r sits after the malformed rows before it: shift by their count.
        con.execute(
            f"CREATE TEMP TABLE {relation}_skips AS SELECT line - {first} - (row_number() OVER "
            f"(ORDER BY line) - 1) AS first_shifted FROM (VALUES "
            + ", ".join(f"({m.row})" for m in malformed)
            + ") AS t(line)"
        )
        row_sql = (
            f"{rowid} + {first} + (SELECT count(*) FROM {relation}_skips "
            f"WHERE first_shifted <= {rowid})"
        )
    return StagedFile(relation, header, row_sql, rows, malformed)


def _stage_parquet(con: duckdb.DuckDBPyConnection, source: SourceFile, relation: str) -> StagedFile:
    try:
        columns = [
            row[0]
            for row in con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({lit(str(source.path))})"
            ).fetchall()
        ]
        taken = {c.casefold() for c in columns}
        row_column = "_file_row"
        while row_column.casefold() in taken:
            row_column = "_" + row_column
        as_text = ", ".join(f"CAST({q(c)} AS VARCHAR) AS {q(c)}" for c in columns)
        con.execute(
            f"CREATE TEMP TABLE {relation} AS SELECT {as_text}, file_row_number AS "
            f"{q(row_column)} FROM read_parquet({lit(str(source.path))}, file_row_number = true)"
        )
    except duckdb.Error as error:
        raise _unreadable(
            source,
            f"a file DuckDB cannot read as Parquet ({str(error).splitlines()[0]})",
            "a Parquet file",
        ) from error
    rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
    return StagedFile(relation, columns, f"{relation}.{q(row_column)} + 1", rows)


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet(workbook: openpyxl.Workbook, source: SourceFile) -> Any:
    """The configured sheet, else the one named like the table, else the first."""
    wanted = source.spec.sheet
    if wanted is None:
        if source.table in workbook.sheetnames:
            return workbook[source.table]
        return workbook.worksheets[0]
    if wanted in workbook.sheetnames:
        return workbook[wanted]
    workbook.close()
    raise _unreadable(
        source,
        f"no sheet {wanted!r} (the workbook has {', '.join(workbook.sheetnames)})",
        "the sheet named by `sheet:` in the mapping file",
    )


def _stage_excel(con: duckdb.DuckDBPyConnection, source: SourceFile, relation: str) -> StagedFile:
    limits.check_workbook(source.path)
    try:
        workbook = openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken workbook
        raise _unreadable(
            source, f"a file that is not a readable Excel workbook ({error})", "an .xlsx workbook"
        ) from error
    sheet = _sheet(workbook, source)
    rows = sheet.iter_rows(values_only=True)
    if source.spec.header_row == AUTO_HEADER_ROW:
        first = [list(cells) for _, cells in zip(range(HEADER_SEARCH_ROWS), rows, strict=False)]
        source = replace(source, spec=replace(source.spec, header_row=header_row_of(first)))
        rows = itertools.chain(first, rows)
    for _ in range(source.spec.header_row - 1):
        next(rows, None)  # title rows above the header
    header_cells = next(rows, None)
    if header_cells is None or all(cell is None for cell in header_cells):
        workbook.close()
        _reject_empty(source)
    header = [str(cell).strip() if cell is not None else "" for cell in header_cells]
    while header and not header[-1]:
        header.pop()  # formatted but empty columns at the right
    header = [name or f"column_{number}" for number, name in enumerate(header, start=1)]
    records = []
    for number, cells in enumerate(rows, start=source.spec.header_row + 1):
        if cells is None or all(cell is None for cell in cells):
            continue
        texts = [_cell_text(cell) for cell in cells[: len(header)]]
        records.append([number, *texts, *([None] * (len(header) - len(texts)))])
    workbook.close()
    frame = pd.DataFrame(records, columns=["_sheet_row", *header], dtype=object)
    con.register(f"{relation}_frame", frame)
    con.execute(f"CREATE TEMP TABLE {relation} AS SELECT * FROM {relation}_frame")
    con.unregister(f"{relation}_frame")
    return StagedFile(relation, header, f"{relation}._sheet_row", len(records))


def stage(
    con: duckdb.DuckDBPyConnection, source: SourceFile, encoding: str | None, relation: str
) -> StagedFile:
    """Read one file into the temporary table `relation`, every value as text."""
    if source.kind == "parquet":
        return _stage_parquet(con, source, relation)
    if source.kind == "excel":
        return _stage_excel(con, source, relation)
    with tempfile.TemporaryDirectory(prefix="repradar-ingest-") as workdir:
        return _stage_csv(con, source, encoding or "utf-8", relation, Path(workdir))


def drop_staging(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> None:
    """Drop a file's temporary tables (in an aborted transaction, the rollback will)."""
    try:
        for suffix in (
            "",
            "_skips",
            "_checked",
            "_mapped",
            "_mapped_checked",
            "_mapped_checked_merged",
        ):
            con.execute(f"DROP TABLE IF EXISTS {staged.relation}{suffix}")
    except duckdb.TransactionException:
        return
