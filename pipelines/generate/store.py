"""The simulator's in-memory tables: growable numpy columns, append-only event logs, and
the sentinel values stored in them."""

from __future__ import annotations

import numpy as np

NEVER = np.iinfo(np.int64).max // 4  # day of an event that has not happened
LONG_AGO = -(10**6)  # day of an event too old to matter (a new hire's "last manager change")
NO_ONE = -1  # a missing person, account or opportunity row
TERM_VOLUNTARY, TERM_INVOLUNTARY = 1, 2  # codes of people["term_type"] (0: still employed)


class Columns:
    """Named numpy columns that grow together; rows are addressed by integer index."""

    def __init__(self, dtypes: dict[str, str | type], capacity: int = 1024) -> None:
        self._data = {name: np.zeros(capacity, dtype=dt) for name, dt in dtypes.items()}
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, name: str) -> np.ndarray:
        """The live rows of a column (a view: writes go to the store)."""
        return self._data[name][: self.size]

    def append(self, **values: np.ndarray) -> np.ndarray:
        """Add rows; every column must be given. Returns the new rows' indices."""
        if set(values) != set(self._data):
            missing = set(self._data) ^ set(values)
            raise ValueError(f"append needs exactly the store's columns; differs in {missing}")
        n = len(next(iter(values.values())))
        self._reserve(self.size + n)
        for name, column in values.items():
            self._data[name][self.size : self.size + n] = column
        rows = np.arange(self.size, self.size + n)
        self.size += n
        return rows

    def _reserve(self, needed: int) -> None:
        capacity = len(next(iter(self._data.values())))
        if needed <= capacity:
            return
        new_capacity = max(needed, capacity * 2)
        for name, column in self._data.items():
            grown = np.zeros(new_capacity, dtype=column.dtype)
            grown[: self.size] = column[: self.size]
            self._data[name] = grown


class EventLog:
    """Append-only columns collected in chunks and joined once at the end."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self._chunks: list[dict[str, np.ndarray]] = []

    def add(self, **columns: np.ndarray | int | float | str | None) -> None:
        if set(columns) != set(self.names):
            raise ValueError(f"expected columns {self.names}, got {tuple(columns)}")
        lengths = {np.size(v) for v in columns.values() if np.ndim(v) > 0}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {lengths}")
        n = lengths.pop() if lengths else 1
        if n:
            self._chunks.append({k: np.broadcast_to(v, n).copy() for k, v in columns.items()})

    def columns(self) -> dict[str, np.ndarray]:
        """Every column joined; empty integer columns when nothing was logged."""
        if not self._chunks:
            return {k: np.zeros(0, dtype=np.int64) for k in self.names}
        return {k: np.concatenate([c[k] for c in self._chunks]) for k in self.names}
