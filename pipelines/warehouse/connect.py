"""Connections to the warehouse: read-only for readers, read-write for the run that
holds the writer lock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.errors import WarehouseBusy
from pipelines.file_modes import PRIVATE_FILE
from pipelines.warehouse.lock import writer_lock
from pipelines.warehouse.space import is_disk_full


def connect_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection, or WarehouseBusy when another program holds the file. The
    file is set back to its owner only (0600) when it was made readable to others."""
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as error:
        raise WarehouseBusy(
            f"{path} is open in another program ({str(error).splitlines()[0]}); close "
            "it, then run again"
        ) from error
    path.chmod(PRIVATE_FILE)
    return con


def read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection: it never blocks a running pipeline."""
    return duckdb.connect(str(path), read_only=True)


@contextlib.contextmanager
def exclusive_connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection no other repradar run shares; WarehouseBusy if one is running."""
    with writer_lock(path):
        con = connect_for_writing(path)
        try:
            yield con
        finally:
            con.close()


def checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file, so a copy of the file is complete."""
    con = connect_for_writing(path)
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()


def checkpoint_committed(con: duckdb.DuckDBPyConnection) -> None:
    """CHECKPOINT after a COMMIT. On a full disk the committed rows stay in the
    write-ahead log, which the next connection replays: what was committed stands, so
    this returns quietly (any other error is raised)."""
    try:
        con.execute("CHECKPOINT")
    except duckdb.Error as error:
        if not is_disk_full(error):
            raise
