"""Hand-made export files for ingest tests: a few valid rows per table, edited per case.

`row(table, n, **changes)` is the n-th valid row of a table with some values replaced;
`write_csv`, `write_xlsx` and `write_parquet` write rows under the contract's header (or
a given one) so each test shows only the values it is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.contract import TABLES


def _valid(table: str, n: int) -> dict[str, str]:
    """The n-th (1, 2, ...) valid row of `table`, every value as text."""
    if table == "crm_users":
        return {
            "user_id": f"U{n}",
            "employee_id": f"E{n}",
            "name": f"User {n}",
            "email": f"user{n}@example.com",
            "team": "SMB East 1",
            "region": "East",
            "manager_user_id": "",
            "is_active": "true",
        }
    if table == "crm_accounts":
        return {
            "account_id": f"A{n}",
            "name": f"Account {n}",
            "industry": "Retail",
            "segment": "SMB",
            "region": "East",
            "owner_user_id": "U1",
            "created_at": "2023-01-15",
            "is_key_account": "false",
        }
    if table == "crm_opportunities":
        return {
            "opportunity_id": f"O{n}",
            "account_id": "A1",
            "owner_user_id": "U1",
            "created_at": "2024-01-10",
            "close_date": "2024-03-05",
            "stage": "Proposal",
            "is_closed": "false",
            "is_won": "false",
            "amount": f"{1000 * n}.50",
            "currency": "USD",
            "lead_source": "Inbound",
        }
    if table == "hr_employees":
        return {
            "employee_id": f"E{n}",
            "name": f"Employee {n}",
            "email": f"employee{n}@example.com",
            "hire_date": "2020-02-01",
            "termination_date": "",
            "termination_type": "",
            "termination_reason": "",
            "job_title": "Account Executive",
            "job_level": "3",
            "team": "SMB East 1",
            "manager_employee_id": "",
            "location": "Boston",
            "gender": "F",
            "birth_year": "1990",
        }
    if table == "hr_performance_reviews":
        return {"employee_id": f"E{n}", "review_date": "2024-06-30", "rating": "3"}
    raise ValueError(f"no valid rows written for {table} yet")


def row(table: str, n: int, **changes: str) -> dict[str, str]:
    """The n-th valid row of `table` with `changes` applied (unknown columns are errors)."""
    values = _valid(table, n)
    unknown = set(changes) - set(values)
    if unknown:
        raise ValueError(f"{table} has no column(s) {', '.join(sorted(unknown))}")
    return {**values, **changes}


def rows(table: str, count: int) -> list[dict[str, str]]:
    """`count` valid rows of `table`, numbered 1..count."""
    return [row(table, n) for n in range(1, count + 1)]


def csv_lines(
    table: str,
    records: Iterable[dict[str, str]],
    *,
    columns: Sequence[str] | None = None,
    delimiter: str = ",",
) -> list[str]:
    """Header line and one line per record (values unquoted: keep them free of delimiters)."""
    header = list(columns) if columns is not None else list(TABLES[table].columns)
    return [delimiter.join(header)] + [
        delimiter.join(record.get(c, "") for c in header) for record in records
    ]


def write_lines(
    directory: Path, name: str, lines: Iterable[str], *, encoding: str = "utf-8"
) -> Path:
    """Write text lines (each ended by a newline) to `directory/name` in `encoding`."""
    path = directory / name
    path.write_bytes("".join(f"{line}\n" for line in lines).encode(encoding))
    return path


def write_csv(
    directory: Path,
    table: str,
    records: Iterable[dict[str, str]],
    *,
    columns: Sequence[str] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    name: str | None = None,
) -> Path:
    """`directory/<table>.csv` (or `name`) with the contract's header (or `columns`)."""
    lines = csv_lines(table, records, columns=columns, delimiter=delimiter)
    return write_lines(directory, name or f"{table}.csv", lines, encoding=encoding)


def write_xlsx(
    directory: Path, table: str, header: Sequence[str], cells: Iterable[Sequence[object]]
) -> Path:
    """`directory/<table>.xlsx`: one sheet named after the table, typed cells as given."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = table
    sheet.append(list(header))
    for record in cells:
        sheet.append(list(record))
    path = directory / f"{table}.xlsx"
    workbook.save(path)
    return path


def write_parquet(directory: Path, table: str, columns: dict[str, list[object]]) -> Path:
    """`directory/<table>.parquet` with the given typed columns."""
    path = directory / f"{table}.parquet"
    pq.write_table(pa.table(columns), path)
    return path
