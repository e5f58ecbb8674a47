"""The warehouse's writer lock: one writing repradar run at a time."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pipelines.errors import WarehouseBusy
from pipelines.warehouse.paths import remove_database, scratch_copy_path


def _note_holder(lock: IO[str], holder: str) -> None:
    """Write who holds the lock into the lock file, for the message of a run that finds it
    taken. A courtesy: a full disk must not stop the run here."""
    with contextlib.suppress(OSError):
        lock.seek(0)
        lock.truncate()
        lock.write(holder)
        lock.flush()


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Hold the warehouse's writer lock (`<warehouse>.lock`); WarehouseBusy if taken.

    Every repradar step that writes the warehouse (ingest, transform, train, score,
    alerts) takes it, so two runs never write the same file at once. Only the holder
    makes a scratch copy of the warehouse (`scratch_copy_path`), so one found when the
    lock is taken was left by a run that was killed: it is removed, freeing its space.
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
        remove_database(scratch_copy_path(path))
        _note_holder(
            lock, f"pid {os.getpid()}, started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
        )
        try:
            yield
        finally:
            _note_holder(lock, "")


def refuse_if_writing(path: Path) -> None:
    """WarehouseBusy now when another run writes `path`, for a step that works for a while
    before it takes the lock (training), so it is not refused only at the end."""
    with writer_lock(path):
        pass
