"""Realistic defects for ingestion tests (`repradar generate --dirty`).

Each defect is applied to a few rows chosen by the seed and recorded in a manifest
(`_truth/dirty_manifest.csv`): table, defect, the CSV line it sits on (the header is
line 1), the key of the row, the column and the bad value. Encoding defects apply to a
whole file and have no line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.contract import TABLES

CHINESE_COMPANY_NAMES = (
    "上海华信科技有限公司",
    "北京中科软件股份有限公司",
    "深圳市腾达电子有限公司",
    "杭州云帆信息技术有限公司",
    "广州市恒通物流有限公司",
)
FILE_ENCODINGS = {"crm_accounts": "gbk", "hr_employees": "utf-8-sig"}
DROPPED_COLUMN = ("hr_engagement_surveys", "intent_to_stay")


def _key_text(row: pd.Series, key: tuple[str, ...]) -> str:
    def text(value: object) -> str:
        if isinstance(value, pd.Timestamp) and value == value.normalize():
            return value.date().isoformat()
        return str(value)

    return "|".join(text(row[k]) for k in key)


@dataclass
class Defects:
    """The dirty tables and the manifest of what was done to them."""

    tables: dict[str, pd.DataFrame]
    rng: np.random.Generator
    manifest: list[dict] = field(default_factory=list)

    def _rows(self, table: str, n: int, where: pd.Series | None = None) -> np.ndarray:
        frame = self.tables[table]
        candidates = np.arange(len(frame)) if where is None else np.nonzero(where.to_numpy())[0]
        taken = {m["position"] for m in self.manifest if m["table"] == table}
        candidates = np.array([c for c in candidates if c not in taken])
        return np.sort(self.rng.choice(candidates, size=min(n, len(candidates)), replace=False))

    def _as_text(self, table: str, column: str) -> None:
        """Make a column text so it can hold values of the wrong type."""
        frame = self.tables[table]
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            fmt = (
                "%Y-%m-%d %H:%M:%S"
                if (series.dt.second.fillna(0) != 0).any() or (series.dt.hour.fillna(0) != 0).any()
                else "%Y-%m-%d"
            )
            text = series.dt.strftime(fmt)
        elif pd.api.types.is_bool_dtype(series):
            text = series.map({True: "true", False: "false"})
        elif pd.api.types.is_float_dtype(series):
            text = series.map(lambda v: None if pd.isna(v) else f"{v:g}")
        else:
            text = series.map(lambda v: None if pd.isna(v) else str(v))
        frame[column] = text.astype(object).where(series.notna(), None)

    def corrupt(self, table: str, defect: str, column: str, rows: np.ndarray, values) -> None:
        self._as_text(table, column)
        frame = self.tables[table]
        key = TABLES[table].key
        values = np.broadcast_to(np.asarray(values, dtype=object), len(rows))
        for position, value in zip(rows, values, strict=True):
            frame.iat[position, frame.columns.get_loc(column)] = value
            self.manifest.append(
                {
                    "table": table,
                    "defect": defect,
                    "position": int(position),
                    "key": _key_text(frame.iloc[position], key),
                    "column": column,
                    "value": "" if value is None else str(value),
                }
            )

    def duplicate(self, table: str, n: int) -> None:
        frame = self.tables[table]
        rows = self._rows(table, n)
        copies = frame.iloc[rows]
        self.tables[table] = pd.concat([frame, copies], ignore_index=True)
        key = TABLES[table].key
        for offset, (_, row) in enumerate(copies.iterrows()):
            self.manifest.append(
                {
                    "table": table,
                    "defect": "duplicate_row",
                    "position": len(frame) + offset,
                    "key": _key_text(row, key),
                    "column": "",
                    "value": "",
                }
            )

    def file_defect(self, table: str, defect: str, column: str = "", value: str = "") -> None:
        self.manifest.append(
            {
                "table": table,
                "defect": defect,
                "position": -1,
                "key": "",
                "column": column,
                "value": value,
            }
        )

    def manifest_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(
            self.manifest, columns=["table", "defect", "position", "key", "column", "value"]
        )
        frame.insert(2, "line", np.where(frame["position"] >= 0, frame["position"] + 2, -1))
        return frame.drop(columns="position")


def make_dirty(
    tables: dict[str, pd.DataFrame], seed: int
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, str]]:
    """Apply every defect; returns dirty tables, the manifest and per-file encodings."""
    d = Defects({k: v.copy() for k, v in tables.items()}, np.random.default_rng(seed + 7919))
    opps = d.tables["crm_opportunities"]
    closed = opps["is_closed"]
    d.corrupt(
        "crm_opportunities",
        "unparseable_date",
        "created_at",
        d._rows("crm_opportunities", 2),
        ["not a date", "2024-13-45"],
    )
    bad_order = d._rows("crm_opportunities", 2, closed)
    earlier = (
        tables["crm_opportunities"]["created_at"].iloc[bad_order] - pd.Timedelta(days=30)
    ).dt.strftime("%Y-%m-%d")
    d.corrupt(
        "crm_opportunities", "close_before_created", "close_date", bad_order, earlier.to_numpy()
    )
    d.corrupt(
        "crm_opportunities",
        "unknown_stage",
        "stage",
        d._rows("crm_opportunities", 2, ~closed),
        "Qualified",
    )
    d.corrupt(
        "crm_opportunities",
        "mixed_case_stage",
        "stage",
        d._rows("crm_opportunities", 1, opps["stage"] == "Closed Won"),
        "closed won",
    )
    d.corrupt(
        "crm_opportunities",
        "orphan_owner",
        "owner_user_id",
        d._rows("crm_opportunities", 2),
        "U99999",
    )
    d.corrupt("crm_opportunities", "blank_amount", "amount", d._rows("crm_opportunities", 3), None)
    negative = d._rows("crm_opportunities", 2)
    d.corrupt(
        "crm_opportunities",
        "negative_amount",
        "amount",
        negative,
        [f"{-v:g}" for v in tables["crm_opportunities"]["amount"].iloc[negative]],
    )
    d.duplicate("crm_opportunities", 3)

    history = d.tables["crm_opportunity_stage_history"]
    d.corrupt(
        "crm_opportunity_stage_history",
        "unknown_stage",
        "stage",
        d._rows("crm_opportunity_stage_history", 2, history["stage"] == "Contacted"),
        "Discovery",
    )
    d.corrupt(
        "crm_opportunity_stage_history",
        "mixed_case_stage",
        "stage",
        d._rows("crm_opportunity_stage_history", 2, history["stage"] == "Proposal"),
        ["PROPOSAL", " proposal "],
    )

    d.corrupt(
        "crm_activities", "orphan_owner", "owner_user_id", d._rows("crm_activities", 2), "U99998"
    )
    d.corrupt(
        "crm_activities",
        "impossible_date",
        "occurred_at",
        d._rows("crm_activities", 1),
        "2099-01-01 09:00:00",
    )
    d.duplicate("crm_activities", 2)

    employees = d.tables["hr_employees"]
    d.corrupt(
        "hr_employees", "unparseable_date", "hire_date", d._rows("hr_employees", 1), "31/31/2020"
    )
    leavers = d._rows("hr_employees", 1, employees["termination_date"].notna())
    before_hire = (
        tables["hr_employees"]["hire_date"].iloc[leavers] - pd.Timedelta(days=10)
    ).dt.strftime("%Y-%m-%d")
    d.corrupt(
        "hr_employees",
        "termination_before_hire",
        "termination_date",
        leavers,
        before_hire.to_numpy(),
    )
    d.corrupt(
        "hr_compensation", "negative_amount", "base_salary", d._rows("hr_compensation", 1), "-1"
    )
    d.duplicate("hr_engagement_surveys", 2)

    accounts = d.tables["crm_accounts"]
    renamed = d._rows("crm_accounts", len(CHINESE_COMPANY_NAMES))
    accounts.loc[accounts.index[renamed], "name"] = list(CHINESE_COMPANY_NAMES[: len(renamed)])
    for table, encoding in FILE_ENCODINGS.items():
        d.file_defect(table, "encoding", value=encoding)
    table, column = DROPPED_COLUMN
    d.tables[table] = d.tables[table].drop(columns=column)
    d.file_defect(table, "missing_column", column=column)
    return d.tables, d.manifest_frame(), dict(FILE_ENCODINGS)
