"""Month grid of the simulation. Days are integers: days since 1970-01-01."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

EPOCH = dt.date(1970, 1, 1)
SECONDS_PER_HOUR = 3_600
SECONDS_PER_DAY = 86_400
DAYS_PER_MONTH = 30.44  # average Gregorian month, for "months since" a day
DAYS_PER_YEAR = 365.25


def to_day(value: dt.date) -> int:
    return (value - EPOCH).days


def end_of_previous_month(today: dt.date) -> dt.date:
    return today.replace(day=1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Calendar:
    """The simulated months: index 0 is the first month of the export window.

    Negative indices are the pipeline-seeding months before the window, in which only
    opportunities are created so that the window opens with a realistic open pipeline.
    """

    as_of: dt.date
    months: int
    seed_months: int = 6

    def _month(self, index: int) -> dt.date:
        total = self.as_of.year * 12 + (self.as_of.month - 1) - (self.months - 1) + index
        return dt.date(total // 12, total % 12 + 1, 1)

    def start(self, index: int) -> int:
        return to_day(self._month(index))

    def end(self, index: int) -> int:
        """Last day of the month (inclusive)."""
        return self.start(index + 1) - 1

    def month_of_year(self, index: int) -> int:
        return self._month(index).month

    def year_offset(self, index: int) -> int:
        """Whole calendar years since the window's first year (drives band drift)."""
        return self._month(index).year - self._month(0).year

    @property
    def as_of_day(self) -> int:
        return to_day(self.as_of)

    @property
    def window_start(self) -> int:
        return self.start(0)

    def random_days(self, rng: np.random.Generator, index: int, n: int) -> np.ndarray:
        """n uniformly random days inside month `index`."""
        return rng.integers(self.start(index), self.end(index) + 1, size=n)
