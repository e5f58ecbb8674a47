"""Limits on what ingest reads (settings `REPRADAR_MAX_XLSX_MB`, `REPRADAR_MAX_ROWS`,
`REPRADAR_MAX_FIELD_KB`), checked while streaming bytes, before anything is expanded."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from pipelines import settings
from pipelines.ingest.encoding import CHUNK
from pipelines.ingest.errors import FileRejected


class RunLengths:
    """Counts runs of bytes between separators (lines between newlines) across chunks
    and tells when one grows longer than a limit."""

    def __init__(self, separator: bytes = b"\n") -> None:
        self.separator = separator
        self.line = 1  # the run being read, counted from 1
        self.length = 0  # its bytes so far

    def feed(self, chunk: bytes, longest: int) -> bool:
        """Take the next chunk; True when a run is longer than `longest` (`line` is
        then that run's number)."""
        pieces = chunk.split(self.separator)
        lengths = [self.length + len(pieces[0]), *map(len, pieces[1:])]
        if max(lengths) > longest:
            self.line += next(i for i, n in enumerate(lengths) if n > longest)
            return True
        self.line += len(pieces) - 1
        self.length = lengths[-1] if len(pieces) > 1 else lengths[0]
        return False


def reject_long_line(path: Path, line: int, longest: int) -> None:
    raise FileRejected(
        file=path.name,
        row=line,
        column=None,
        found=f"a line longer than {longest // 1024:,} KB",
        expected="fields of at most REPRADAR_MAX_FIELD_KB kilobytes (raise it if such "
        "values are real)",
        rule="file.field_size",
    )


ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")


def too_big(path: Path, found: str, expected: str) -> FileRejected:
    return FileRejected(
        file=path.name,
        row=None,
        column=None,
        found=found,
        expected=expected,
        rule="file.size",
    )


def check_workbook(path: Path) -> None:
    """Refuse a workbook before openpyxl expands it: its uncompressed size (REPRADAR_
    MAX_XLSX_MB), the rows of any sheet (REPRADAR_MAX_ROWS) and the longest text in it
    (REPRADAR_MAX_FIELD_KB), counted while streaming the compressed parts."""
    largest = settings.whole_number(settings.MAX_XLSX_MB) * 1024 * 1024
    most_rows = settings.whole_number(settings.MAX_ROWS)
    longest = settings.whole_number(settings.MAX_FIELD_KB) * 1024
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return  # openpyxl says what is wrong with it
    with archive:
        parts = archive.infolist()
        declared = sum(part.file_size for part in parts)
        if declared > largest:
            raise too_big(
                path,
                f"a workbook of {declared / 1024 / 1024:,.0f} MB uncompressed",
                f"at most {largest // 1024 // 1024:,} MB (REPRADAR_MAX_XLSX_MB)",
            )
        for part in parts:
            if not part.filename.endswith(".xml") or not part.filename.startswith("xl/"):
                continue
            rows, tail, read_bytes = 0, b"", 0
            texts = RunLengths(b"<")  # text between two tags is one cell's value
            too_long = False
            with archive.open(part) as stream:
                while chunk := stream.read(CHUNK):
                    read_bytes += len(chunk)
                    if read_bytes > largest:
                        raise too_big(
                            path,
                            f"a part ({part.filename}) larger than its declared size",
                            f"at most {largest // 1024 // 1024:,} MB (REPRADAR_MAX_XLSX_MB)",
                        )
                    window = tail + chunk
                    rows += len(ROW_TAG.findall(window)) - len(ROW_TAG.findall(tail))
                    tail = window[-16:]
                    too_long = texts.feed(chunk, longest)
                    if too_long or rows > most_rows:
                        break
            if rows > most_rows:
                raise too_big(
                    path,
                    f"a sheet of more than {most_rows:,} rows ({part.filename})",
                    f"at most {most_rows:,} rows per file (REPRADAR_MAX_ROWS)",
                )
            if too_long:
                raise too_big(
                    path,
                    f"a cell longer than {longest // 1024:,} KB ({part.filename})",
                    "fields of at most REPRADAR_MAX_FIELD_KB kilobytes (raise it if such "
                    "values are real)",
                )
