"""A small file system to fill: a tmpfs mounted for one test (needs root; the test is
skipped, saying why, where mounting is not permitted)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

MiB = 1024 * 1024


@contextlib.contextmanager
def mounted_tmpfs(mount_point: Path, size_mib: int) -> Iterator[Path]:
    """An empty tmpfs of `size_mib` MiB at `mount_point`, unmounted afterwards."""
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def take_free_space(disk: Path, leave: int) -> Path:
    """Take every free byte of `disk` but `leave`, in a file `filler` (returned)."""
    filler = disk / "filler"
    remaining = shutil.disk_usage(disk).free - leave
    with filler.open("wb") as file:
        while remaining > 0:
            file.write(bytes(min(remaining, MiB)))
            remaining -= MiB
    return filler
