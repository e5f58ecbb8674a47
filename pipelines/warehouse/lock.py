"""The warehouse's writer lock: one writing repradar run at a time."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from pipelines.errors import WarehouseBusy


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Hold the warehouse's writer lock (`<warehouse>.lock`); WarehouseBusy if taken.

    Every repradar step that writes the warehouse (ingest, transform, train, score,
    alerts) takes it, so two runs never write the same file at once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with lock_path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise WarehouseBusy(
                f"another repradar run is writing {path} ({holder}); wait for it to "
                "finish, then run again"
            ) from error
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
        lock.flush()
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()
