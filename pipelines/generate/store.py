"""A growable set of equal-length numpy columns: the simulator's in-memory tables."""

from __future__ import annotations

import numpy as np


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
