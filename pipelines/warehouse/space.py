"""Disk space: checked before a step writes a big file, and a full disk turned into one
clear message (`DiskFull`: where, how much is needed, how much is free) instead of an
OSError or DuckDB traceback. Imports nothing heavy (the command line uses it)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from pipelines.errors import DiskFull

# DuckDB reports the operating system's ENOSPC in words, inside its own error classes.
DUCKDB_DISK_FULL = "No space left on device"
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def human_size(size: int) -> str:
    """Bytes in words: 512 B, 9.8 KiB, 26.0 MiB, 1.2 GiB."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"


def is_disk_full(error: BaseException) -> bool:
    """An OSError for a full disk or quota, or an error caused by one (DuckDB's)."""
    if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
        return True
    return mentions_disk_full(str(error))


def mentions_disk_full(message: str) -> bool:
    """A message (dbt's error, a failed node's) that says the disk was full."""
    return DUCKDB_DISK_FULL in message


def free_space(path: Path) -> int:
    """Bytes free on the file system of `path` (or of its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return 0


def disk_full(directory: Path, needed: int, what: str) -> DiskFull:
    """The error for `what` (in words) needing `needed` bytes in `directory`."""
    return DiskFull(
        f"no space left on the device of {directory} for {what}: it needs "
        f"{human_size(needed)} free there, {human_size(free_space(directory))} is free; "
        "nothing was changed. Free some space, then run again"
    )


def unexpected_disk_full(error: BaseException) -> str:
    """The message for a full disk no step turned into a `DiskFull` of its own."""
    where = getattr(error, "filename", None) or str(error).splitlines()[0]
    return f"no space left on the device ({where}); free some space, then run again"


def fsync_directory(directory: Path) -> None:
    """Make the entries of `directory` (a file renamed into it) survive a power loss."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
