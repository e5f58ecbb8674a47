"""Ids of runs (loads, builds, trainings, scorings)."""

from __future__ import annotations

import datetime as dt
import secrets


def new_run_id() -> str:
    """UTC time to the second plus 4 hex digits: sorts by time, unique in practice."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
