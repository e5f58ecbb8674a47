"""How amounts are written for people ("USD 1.2M"). Text from the data is made safe per
output by `pipelines.safe_text`."""

from __future__ import annotations

import math


def money(value: float | None, currency: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{currency} {value / size:,.1f}{suffix}".strip()
    return f"{currency} {value:,.0f}".strip()
