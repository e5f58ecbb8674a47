"""Write contract tables as CSV or Parquet, byte-for-byte reproducible.

CSV: UTF-8, comma separated, a header line, ISO dates (2025-03-31) and timestamps
(2025-03-31 14:05:00), booleans as true/false, empty fields for missing values.
A table may be written in another encoding (GBK) or with a byte-order mark on request:
that is how `--dirty` produces the encodings real exports arrive in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pipelines.contract import BOOLEAN, DATE, DECIMAL, INTEGER, TABLES, TIMESTAMP

ARROW_TYPES = {
    DATE: pa.date32(),
    TIMESTAMP: pa.timestamp("s"),
    BOOLEAN: pa.bool_(),
    INTEGER: pa.int64(),
    DECIMAL: pa.float64(),
}


def _arrow_column(series: pd.Series, kind: str | None) -> pa.Array:
    if series.dtype == object or kind is None or kind not in ARROW_TYPES:
        values = series.astype(object).where(series.notna(), None)
        return pa.array(values.map(lambda v: v if v is None else str(v)), type=pa.string())
    if kind == DATE:
        return pa.array(
            series.to_numpy().astype("datetime64[D]"),
            type=pa.date32(),
            mask=series.isna().to_numpy(),
        )
    if kind == TIMESTAMP:
        return pa.array(
            series.to_numpy().astype("datetime64[s]"),
            type=pa.timestamp("s"),
            mask=series.isna().to_numpy(),
        )
    return pa.array(series.to_numpy(), type=ARROW_TYPES[kind])


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """Arrow table with the contract's types; columns made text by defects stay text."""
    kinds = TABLES[name].columns if name in TABLES else {}
    arrays = [_arrow_column(frame[c], kinds.get(c)) for c in frame.columns]
    return pa.table(arrays, names=[str(c) for c in frame.columns])


def write_table(
    name: str, frame: pd.DataFrame, directory: Path, fmt: str, encoding: str = "utf-8"
) -> Path:
    table = to_arrow(name, frame)
    if fmt == "parquet":
        path = directory / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        return path
    path = directory / f"{name}.csv"
    options = pacsv.WriteOptions(quoting_style="needed")
    if encoding == "utf-8":
        pacsv.write_csv(table, path, options)
        return path
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, options)
    text = sink.getvalue().to_pybytes().decode("utf-8")
    path.write_bytes(text.encode(encoding))
    return path


def write_truth(tables: dict[str, pd.DataFrame], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        write_table(name, frame, directory, "csv")
