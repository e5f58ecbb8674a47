"""Helpers the benchmark scripts share."""

from __future__ import annotations

import resource
import sys


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(message: str) -> None:
    """Progress to stderr, so stdout stays the tables for benchmarks/README.md."""
    print(message, file=sys.stderr, flush=True)
