"""The warehouse layer every step depends on: where the DuckDB file is, the writer lock,
connections, run ids, SQL quoting, disk space, and reads of what the raw schema holds.

Steps depend on this package and on the contract, never on each other's modules.
"""

from pipelines.errors import WarehouseBusy
from pipelines.warehouse.connect import (
    checkpoint,
    checkpoint_committed,
    connect_for_writing,
    exclusive_connection,
    read_only,
)
from pipelines.warehouse.contents import empty_raw_tables, raw_row_counts
from pipelines.warehouse.ids import new_run_id
from pipelines.warehouse.lock import refuse_if_writing, writer_lock
from pipelines.warehouse.paths import remove_database, resolve_warehouse, scratch_copy_path
from pipelines.warehouse.space import (
    disk_full,
    free_space,
    fsync_directory,
    human_size,
    is_disk_full,
    mentions_disk_full,
    unexpected_disk_full,
)
from pipelines.warehouse.sql import lit, q

__all__ = [
    "WarehouseBusy",
    "checkpoint",
    "checkpoint_committed",
    "connect_for_writing",
    "disk_full",
    "empty_raw_tables",
    "exclusive_connection",
    "free_space",
    "fsync_directory",
    "human_size",
    "is_disk_full",
    "lit",
    "mentions_disk_full",
    "new_run_id",
    "q",
    "raw_row_counts",
    "read_only",
    "refuse_if_writing",
    "remove_database",
    "resolve_warehouse",
    "scratch_copy_path",
    "unexpected_disk_full",
    "writer_lock",
]
