"""Every setting read from the environment, with its default, in one place.

The README's "Settings" table lists the same variables (a test keeps the two in step).
Secrets (channel URLs, the pseudonym key) are read here and never logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import UsageError


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default (None: unset) and what it does."""

    name: str
    default: str | None
    meaning: str
    read_by: (
        str  # "repradar" (this module), "dbt" (profiles.yml / dbt_project.yml), "prefect.yaml"
        # or "notebook" (notebooks/analyst_starter.py, which stands alone)
    )


WAREHOUSE = Setting(
    "REPRADAR_WAREHOUSE",
    "data/warehouse.duckdb",
    "the HR warehouse file when `--warehouse` is not given",
    "repradar",
)
ANALYTICS = Setting(
    "REPRADAR_ANALYTICS",
    None,
    "the analyst database the starter notebook opens (else `analytics.duckdb` beside "
    "`REPRADAR_WAREHOUSE`, else `data/demo/analytics.duckdb`)",
    "notebook",
)
ALERT_URLS = Setting(
    "REPRADAR_ALERT_URLS",
    None,
    "HR alert channels: apprise URLs (mailtos://, slack://, workflows://, json://, ...), "
    "separated by whitespace; secret",
    "repradar",
)
ALERT_BLOCKS = Setting(
    "REPRADAR_ALERT_BLOCKS",
    None,
    "HR alert channels: Prefect notification block slugs (`type/name`), separated by whitespace",
    "repradar",
)
REPORT_URLS = Setting(
    "REPRADAR_REPORT_URLS",
    None,
    "the leadership list for the weekly report: apprise URLs; secret",
    "repradar",
)
REPORT_BLOCKS = Setting(
    "REPRADAR_REPORT_BLOCKS",
    None,
    "the leadership list: Prefect notification block slugs",
    "repradar",
)
ALERT_DAILY_CAP = Setting(
    "REPRADAR_ALERT_DAILY_CAP",
    "20",
    "most alerts delivered per day when `--cap` is not given",
    "repradar",
)
PSEUDONYM_KEY = Setting(
    "REPRADAR_PSEUDONYM_KEY",
    None,
    "the secret key of the pseudonymous `employee_key` (HMAC-SHA256 of the employee id), at "
    "least 32 characters; needed by every build (else `REPRADAR_PSEUDONYM_KEY_BLOCK`, else the "
    "demo's own key file); secret",
    "repradar",
)
PSEUDONYM_KEY_BLOCK = Setting(
    "REPRADAR_PSEUDONYM_KEY_BLOCK",
    None,
    "name of a Prefect Secret block holding the pseudonym key (when `REPRADAR_PSEUDONYM_KEY` "
    "is not set)",
    "repradar",
)
RETENTION_MONTHS = Setting(
    "REPRADAR_RETENTION_MONTHS",
    "36",
    "months after a leaver's termination date (counted back from the exports' latest date) "
    "after which every build erases their person-level rows",
    "repradar",
)
RISK_HORIZON_MONTHS = Setting(
    "REPRADAR_RISK_HORIZON_MONTHS",
    "3",
    "the horizon of the risk shown (bands, alerts, report): 1, 3, 6 or 12 months; the "
    "scores and HR marts keep all four. Read by `transform` (the snapshots' label), then "
    "`train` and `score` follow it",
    "dbt",
)
FAIRNESS_MITIGATION = Setting(
    "REPRADAR_FAIRNESS_MITIGATION",
    "none",
    "`none`, `gender` or `age_band`: with an attribute, training fits a High cut-off per "
    "group of it (equal true-positive rates on the backtest) and scoring bands each rep "
    "with their group's cut-off; the model card shows the measured effect either way",
    "repradar",
)
MITIGATION_CHOICES = ("none", "gender", "age_band")
SPARK_MASTER = Setting(
    "REPRADAR_SPARK_MASTER", "local[2]", "Spark master of the `spark` target", "dbt"
)
SPARK_DRIVER_MEMORY = Setting(
    "REPRADAR_SPARK_DRIVER_MEMORY", "2g", "Spark driver memory of the `spark` target", "dbt"
)
SPARK_DIR = Setting(
    "REPRADAR_SPARK_DIR",
    "spark-state",
    "Spark's metastore and scratch directory; set by `transform --target spark` "
    "(`spark/` next to the warehouse)",
    "dbt",
)
RAW_PARQUET = Setting(
    "REPRADAR_RAW_PARQUET",
    "",
    "where the raw tables are handed to Spark as Parquet; set by `transform --target spark`",
    "dbt",
)
SPARK_LOG4J = Setting(
    "REPRADAR_SPARK_LOG4J",
    "spark/log4j2.properties",
    "Spark's log4j2 configuration; set by `transform --target spark`",
    "dbt",
)
MAX_XLSX_MB = Setting(
    "REPRADAR_MAX_XLSX_MB",
    "512",
    "largest uncompressed size (MB) of an .xlsx workbook ingest will open; checked before reading",
    "repradar",
)
MAX_ROWS = Setting(
    "REPRADAR_MAX_ROWS",
    "5000000",
    "most rows ingest reads from one source file (a sheet's declared size is checked first)",
    "repradar",
)
MAX_FIELD_KB = Setting(
    "REPRADAR_MAX_FIELD_KB",
    "1024",
    "longest value (KB) of one field in a CSV or Excel export; a longer one rejects the file at "
    "its line",
    "repradar",
)
SHARED_MODE = Setting(
    "REPRADAR_SHARED_MODE",
    "0640",
    "file mode (octal) of what is made to be shared: the report and the analyst database; "
    "everything else repradar writes is 0600, its folders 0700",
    "repradar",
)
HOME = Setting(
    "REPRADAR_HOME",
    None,
    "the repository a Prefect worker runs the deployments in (`prefect deploy`)",
    "prefect.yaml",
)

SETTINGS = (
    WAREHOUSE,
    ANALYTICS,
    ALERT_URLS,
    ALERT_BLOCKS,
    REPORT_URLS,
    REPORT_BLOCKS,
    ALERT_DAILY_CAP,
    PSEUDONYM_KEY,
    PSEUDONYM_KEY_BLOCK,
    RETENTION_MONTHS,
    RISK_HORIZON_MONTHS,
    FAIRNESS_MITIGATION,
    SPARK_MASTER,
    SPARK_DRIVER_MEMORY,
    SPARK_DIR,
    RAW_PARQUET,
    SPARK_LOG4J,
    MAX_XLSX_MB,
    MAX_ROWS,
    MAX_FIELD_KB,
    SHARED_MODE,
    HOME,
)


def value(setting: Setting) -> str | None:
    """The variable's value, else its default (an empty value counts as set)."""
    return os.environ.get(setting.name, setting.default)


def warehouse_path() -> Path:
    """$REPRADAR_WAREHOUSE, else data/warehouse.duckdb."""
    return Path(value(WAREHOUSE) or str(WAREHOUSE.default))


def split_list(text: str | None) -> list[str]:
    """A list setting: entries separated by whitespace."""
    return (text or "").split()


CHANNEL_SETTINGS = {"hr": (ALERT_URLS, ALERT_BLOCKS), "leadership": (REPORT_URLS, REPORT_BLOCKS)}


def channel_urls(audience: str) -> list[str]:
    """The apprise URLs configured for an audience (`hr` or `leadership`)."""
    return split_list(value(CHANNEL_SETTINGS[audience][0]))


def channel_blocks(audience: str) -> list[str]:
    """The Prefect notification block slugs configured for an audience."""
    return split_list(value(CHANNEL_SETTINGS[audience][1]))


def alert_daily_cap() -> str:
    """The raw daily cap (the alerts step checks that it is a whole number)."""
    return value(ALERT_DAILY_CAP) or str(ALERT_DAILY_CAP.default)


def whole_number(setting: Setting) -> int:
    """A setting that must be a positive whole number (UsageError naming it otherwise)."""
    text = value(setting) or str(setting.default)
    if not text.strip().isdigit() or int(text) <= 0:
        raise UsageError(f"{setting.name} must be a positive whole number, not {text!r}")
    return int(text)


def fairness_mitigation() -> str:
    """$REPRADAR_FAIRNESS_MITIGATION: none, gender or age_band (UsageError otherwise)."""
    text = (value(FAIRNESS_MITIGATION) or "none").strip()
    if text not in MITIGATION_CHOICES:
        raise UsageError(
            f"{FAIRNESS_MITIGATION.name} must be one of {', '.join(MITIGATION_CHOICES)}, "
            f"not {text!r}"
        )
    return text


def shared_mode() -> int:
    """$REPRADAR_SHARED_MODE as a mode: octal, read and write bits only, never writable by
    others than the owner (UsageError naming the setting otherwise)."""
    text = (value(SHARED_MODE) or str(SHARED_MODE.default)).strip().removeprefix("0o")
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777 or mode & 0o111 or mode & 0o022 or not mode & 0o400:
        raise UsageError(
            f"{SHARED_MODE.name} must be an octal file mode the owner can read and only the "
            f"owner can write, without execute bits (such as 0640 or 0600), not {text!r}"
        )
    return mode


def pseudonym_key() -> str | None:
    """$REPRADAR_PSEUDONYM_KEY (secret: never log it), or None when unset or empty."""
    return value(PSEUDONYM_KEY) or None


def pseudonym_key_block() -> str | None:
    """$REPRADAR_PSEUDONYM_KEY_BLOCK: the Prefect Secret block with the key, or None."""
    return (value(PSEUDONYM_KEY_BLOCK) or "").strip() or None
