"""Risk drivers in plain words, for HR: "pay 12% below band", not "pay_below_band=0.12"."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from models_ml.features import PROMOTION_EXPECTED_MONTHS


def _score(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _pay(row: pd.Series) -> str:
    return f"pay {abs(row['pay_vs_band']):.0%} below the band midpoint"


def _promotion(row: pd.Series) -> str:
    return (
        f"no promotion for {int(row['months_since_promotion'])} months "
        f"(typical: {PROMOTION_EXPECTED_MONTHS})"
    )


def _manager(row: pd.Series) -> str:
    months = row["months_since_manager_change"]
    if pd.isna(months) or months < 1:
        return "new manager this month"
    return f"new manager {int(months)} month{'s' if months >= 2 else ''} ago"


def _engagement(row: pd.Series) -> str:
    now, change = row["last_engagement"], row.get("engagement_change")
    if pd.notna(change) and change < 0:
        return f"engagement fell from {_score(now - change)} to {_score(now)} of 5"
    return f"engagement {_score(now)} of 5 in the last survey"


def _satisfaction(row: pd.Series) -> str:
    return f"satisfaction {_score(row['last_satisfaction'])} of 5 in the last survey"


def _intent(row: pd.Series) -> str:
    return f"intent to stay {_score(row['last_intent_to_stay'])} of 5 in the last survey"


def _peers(row: pd.Series) -> str:
    count = int(row["team_voluntary_exits_6m"])
    return f"{count} teammate{'s' if count != 1 else ''} left in the last 6 months"


def _first_year(row: pd.Series) -> str:
    return f"first year in the job ({int(row['tenure_months'])} months in)"


def _attainment(row: pd.Series) -> str:
    return f"quota attainment {row['attainment_3m']:.0%} over the last 3 months"


PHRASES: dict[str, Callable[[pd.Series], str]] = {
    "pay_below_band": _pay,
    "promotion_overdue_months": _promotion,
    "new_manager_6m": _manager,
    "last_engagement": _engagement,
    "last_satisfaction": _satisfaction,
    "last_intent_to_stay": _intent,
    "team_voluntary_exits_6m": _peers,
    "first_year": _first_year,
    "attainment_shortfall_3m": _attainment,
}


# Which way a feature is a warning sign: +1 higher is riskier, -1 lower is. A model may
# still give a feature the other sign (correlated survey answers share one effect); such a
# contribution is real but is no reason an HR partner could act on, so it is not shown.
WARNING_DIRECTION = {
    "attainment_shortfall_3m": 1,
    "pay_below_band": 1,
    "promotion_overdue_months": 1,
    "new_manager_6m": 1,
    "last_engagement": -1,
    "last_satisfaction": -1,
    "last_intent_to_stay": -1,
    "team_voluntary_exits_6m": 1,
    "first_year": 1,
}


def is_warning_sign(feature: str, value: object, typical: object) -> bool:
    """The value is on the worrying side of the typical value (or the feature has no
    known direction, or either value is missing)."""
    direction = WARNING_DIRECTION.get(feature)
    if direction is None or pd.isna(value) or typical is None or pd.isna(typical):
        return True
    return (float(value) - float(typical)) * direction > 0


MISSING = {
    "last_engagement": "no survey answer on record",
    "last_satisfaction": "no survey answer on record",
    "last_intent_to_stay": "no survey answer on record",
    "pay_below_band": "no pay or band on record",
    "attainment_shortfall_3m": "no quota on record for the last 3 months",
    "promotion_overdue_months": "no hire or promotion date on record",
}


def describe(feature: str, row: pd.Series) -> str:
    """One driver in words; a feature without a phrase is named with its value."""
    if pd.isna(row.get(feature)) and feature in MISSING:
        return MISSING[feature]
    phrase = PHRASES.get(feature)
    if phrase is not None:
        try:
            return phrase(row)
        except (KeyError, TypeError, ValueError):
            pass
    value = row.get(feature)
    return f"{feature.replace('_', ' ')}: {value if pd.notna(value) else 'missing'}"
