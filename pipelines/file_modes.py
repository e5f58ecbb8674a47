"""Who may read what repradar writes.

Everything repradar writes holds or derives from people data (the HR warehouse and its
rebuild copies, models and model cards, validation reports, dbt's target/ and logs, the
file outbox, generated exports), so every repradar process creates its files 0600 and its
folders 0700 (umask 077), and the folders it owns are set back to 0700 on each run. What
leadership is given (the report) gets `REPRADAR_SHARED_MODE` (default 0640).
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines import settings

PRIVATE_UMASK = 0o077
PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700


def keep_files_private() -> None:
    """Create every later file 0600 and folder 0700 in this process."""
    os.umask(PRIVATE_UMASK)


def private_directory(path: Path) -> Path:
    """`path` as a folder only its owner can open, whatever mode it had before."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIRECTORY)
    return path


def give_shared_mode(path: Path) -> None:
    """Give a file made to be shared (the report, the analyst database) the shared mode
    ($REPRADAR_SHARED_MODE)."""
    path.chmod(settings.shared_mode())


def shared_directory(path: Path) -> Path:
    """`path` as a folder; the folders this creates get the shared mode (with the search
    bit where it lets read), so leadership can reach the files in it. A folder that was
    already there keeps its mode."""
    mode = settings.shared_mode()
    mode |= (mode & 0o444) >> 2
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        folder.chmod(mode)
    return path
