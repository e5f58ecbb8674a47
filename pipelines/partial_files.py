"""Files that appear whole or not at all: each is written to a hidden partial sibling
named after the writing process, then renamed into place. A partial file a killed process
left behind is removed by the next writer of the same directory; one that a running
process is still writing is left alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def partial_path(path: Path) -> Path:
    """Where this process writes `path` before it is renamed into place."""
    return path.with_name(f".{path.name}.{os.getpid()}{PARTIAL_SUFFIX}")


def _process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_left_over_partials(directory: Path, name_pattern: str = "*") -> list[Path]:
    """Remove the partial files (or directories) of `name_pattern` in `directory` whose
    process is gone; returns what was removed."""
    removed = []
    for left_over in directory.glob(f".{name_pattern}.*{PARTIAL_SUFFIX}"):
        pid = left_over.name.removesuffix(PARTIAL_SUFFIX).rsplit(".", 1)[-1]
        if not pid.isdigit() or not _process_is_running(int(pid)):
            if left_over.is_dir() and not left_over.is_symlink():
                shutil.rmtree(left_over, ignore_errors=True)
            else:
                left_over.unlink(missing_ok=True)
            removed.append(left_over)
    return removed
