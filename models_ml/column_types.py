"""A company's own column types, read as the estimators' pipelines take them."""

from __future__ import annotations

import numpy as np
import pandas as pd


def plain_types(X: pd.DataFrame) -> pd.DataFrame:
    """The columns in the types the pipelines take, whatever a company's export used:
    nullable integers, floats and booleans become float64 (NA -> NaN); dates and
    durations become days (since 1970-01-01, or long); pandas strings and categories
    become text with NaN for missing."""
    types = pd.api.types
    columns = {}
    for name in X.columns:
        column = X[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_convert(None)
        if types.is_datetime64_dtype(column):
            column = (column - pd.Timestamp(0)) / pd.Timedelta(days=1)
        elif types.is_timedelta64_dtype(column):
            column = column / pd.Timedelta(days=1)
        elif types.is_extension_array_dtype(column) and (
            types.is_numeric_dtype(column) or types.is_bool_dtype(column)
        ):
            column = column.astype("float64")
        elif not (types.is_numeric_dtype(column) or types.is_bool_dtype(column)):
            column = column.astype(object).where(column.notna(), np.nan)
        columns[name] = column
    return pd.DataFrame(columns, index=X.index)
