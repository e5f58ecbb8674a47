"""Pseudonymous keys of people: `employee_key` = HMAC-SHA256 of the HR employee id under a
secret key, computed here in Python so the key never reaches SQL, dbt's `target/`, view
definitions, logs or docs.

Before every build the keys are written to the table `pseudonyms.keys` (kind, source id,
pseudonym) of the copy being built; the staging models join it. A fingerprint of the key
(`pseudonyms.key_check`, an HMAC of a fixed text: it does not reveal the key) stops a build
made with another key from mixing two sets of pseudonyms with the score history: change
the key with `repradar pseudonyms rotate`, which rewrites the stored history to the new key.

The list of forgotten people (`pipelines.erasure`) is keyed by a key of its own, random,
stored in `ops.forget_list_key` only wrapped by the pseudonym key (XOR with an HMAC of a
fixed text under it): rotation re-wraps it, so the list keeps matching after a rotation,
and without the pseudonym key the stored hashes cannot be tested against employee ids.

The key comes from $REPRADAR_PSEUDONYM_KEY, else the Prefect Secret block named by
$REPRADAR_PSEUDONYM_KEY_BLOCK, else the key file `pseudonym.key` that `repradar demo`
writes beside its own warehouse. There is no default.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import duckdb
import pandas as pd

from pipelines import settings
from pipelines.errors import UsageError
from pipelines.file_modes import PRIVATE_FILE

SCHEMA = "pseudonyms"
KEY_FILE = "pseudonym.key"
MIN_KEY_LENGTH = 32
EMPLOYEE = "employee"
CRM_USER = "crm-user"
SOURCES = {EMPLOYEE: ("hr_employees", "employee_id"), CRM_USER: ("crm_users", "user_id")}
FINGERPRINT_TEXT = b"repradar pseudonym key check"
WRAP_TEXT = b"repradar forget-list key wrap"
FORGET_KEY_TABLE = "ops.forget_list_key"


class PseudonymKeyMismatch(UsageError):
    """The configured key is not the one the warehouse's pseudonyms were made with."""


def key_file(warehouse: Path) -> Path:
    """The demo's key file beside its warehouse."""
    return warehouse.with_name(KEY_FILE)


def write_demo_key(warehouse: Path) -> Path:
    """A new random key for a demo warehouse, in a file only its owner can read."""
    path = key_file(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "w") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    return path


def checked_key(text: str, origin: str) -> bytes:
    """`text` as a key, refused (naming where it came from, never its value) when short."""
    key = text.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise UsageError(
            f"the pseudonym key from {origin} is too short: it needs at least "
            f'{MIN_KEY_LENGTH} characters (make one with `python -c "import secrets; '
            f'print(secrets.token_urlsafe(48))"`)'
        )
    return key.encode("utf-8")


def _from_block(name: str) -> str:
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(name).get())
    except ValueError as error:
        raise UsageError(
            f"{settings.PSEUDONYM_KEY_BLOCK.name}: no Prefect Secret block named {name!r}"
        ) from error


def pseudonym_key(warehouse: Path) -> bytes:
    """The configured key (see the module's docstring); UsageError when there is none."""
    if (text := settings.pseudonym_key()) is not None:
        return checked_key(text, settings.PSEUDONYM_KEY.name)
    if (block := settings.pseudonym_key_block()) is not None:
        return checked_key(_from_block(block), f"the Prefect Secret block {block!r}")
    path = key_file(warehouse)
    if path.is_file():
        return checked_key(path.read_text(encoding="utf-8"), str(path))
    raise UsageError(
        f"no pseudonym key: set {settings.PSEUDONYM_KEY.name} to a secret of at least "
        f"{MIN_KEY_LENGTH} characters (or {settings.PSEUDONYM_KEY_BLOCK.name} to a Prefect "
        "Secret block holding one); every build needs it to compute employee keys"
    )


def pseudonym(key: bytes, kind: str, source_id: str) -> str:
    """The pseudonym of one person: hex HMAC-SHA256 of `kind:id` (an employee's and a CRM
    user's never collide)."""
    return hmac.new(key, f"{kind}:{source_id}".encode(), hashlib.sha256).hexdigest()


def fingerprint(key: bytes) -> str:
    """What identifies a key without revealing it."""
    return hmac.new(key, FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:16]


def _ids(con: duckdb.DuckDBPyConnection, table: str, column: str) -> list[str]:
    present = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'raw' AND table_name = ? AND column_name = ?",
        [table, column],
    ).fetchone()
    if not present or not present[0]:
        return []
    rows = con.execute(
        f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM raw."{table}" '
        f'WHERE "{column}" IS NOT NULL'
    ).fetchall()
    return [value for (value,) in rows]


def pseudonym_table(con: duckdb.DuckDBPyConnection, key: bytes) -> pd.DataFrame:
    """kind, source_id, pseudonym for every employee id and CRM user id in `raw`."""
    rows = [
        (kind, source_id, pseudonym(key, kind, source_id))
        for kind, (table, column) in SOURCES.items()
        for source_id in _ids(con, table, column)
    ]
    return pd.DataFrame(rows, columns=["kind", "source_id", "pseudonym"], dtype="string")


def stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint of the key the warehouse's pseudonyms were made with, if any."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = 'key_check'",
        [SCHEMA],
    ).fetchone()
    if not exists or not exists[0]:
        return None
    row = con.execute(f"SELECT fingerprint FROM {SCHEMA}.key_check").fetchone()
    return row[0] if row else None


def check_key(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """PseudonymKeyMismatch when the warehouse's pseudonyms were made with another key."""
    stored = stored_fingerprint(con)
    if stored is not None and stored != fingerprint(key):
        raise PseudonymKeyMismatch(
            "the pseudonym key is not the one this warehouse's employee keys and score "
            f"history were made with (key fingerprint {stored}, configured "
            f"{fingerprint(key)}): configure that key again, or move the warehouse to the "
            "new key with `repradar pseudonyms rotate --old-key-stdin`"
        )


def write_pseudonyms(con: duckdb.DuckDBPyConnection, key: bytes) -> int:
    """Replace `pseudonyms.keys` with the keys of everyone in `raw` and record the key's
    fingerprint; PseudonymKeyMismatch when the warehouse was made with another key."""
    check_key(con, key)
    table = pseudonym_table(con, key)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.register("new_pseudonyms", table)
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {SCHEMA}.keys (kind VARCHAR NOT NULL, "
            "source_id VARCHAR NOT NULL, pseudonym VARCHAR NOT NULL, "
            "PRIMARY KEY (kind, source_id))"
        )
        con.execute(f"INSERT INTO {SCHEMA}.keys SELECT * FROM new_pseudonyms")
    finally:
        con.unregister("new_pseudonyms")
    con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.key_check (fingerprint VARCHAR NOT NULL)")
    con.execute(f"INSERT INTO {SCHEMA}.key_check VALUES (?)", [fingerprint(key)])
    return len(table)


def stored_key_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every stored employee key that dbt does not rebuild: the
    score history (`ml`) and the alerts (`ops`: `subject_key` is a rep's key for rep
    alerts, a team or a date otherwise, which no pseudonym equals)."""
    rows = con.execute(
        """SELECT c.schema_name, c.table_name, c.column_name
        FROM duckdb_columns() AS c
        JOIN duckdb_tables() AS t USING (database_name, schema_name, table_name)
        WHERE c.database_name = current_database() AND c.schema_name IN ('ml', 'ops')
            AND (c.column_name = 'employee_key' OR suffix(c.column_name, '_employee_key')
                OR (c.table_name = 'alert_outbox' AND c.column_name = 'subject_key'))
        ORDER BY ALL"""
    ).fetchall()
    return [(schema, table, column) for schema, table, column in rows]


def _pad(key: bytes) -> bytes:
    return hmac.new(key, WRAP_TEXT, hashlib.sha256).digest()


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def forget_list_key(con: duckdb.DuckDBPyConnection, key: bytes, *, create: bool) -> bytes | None:
    """The key of the forget list, unwrapped with the pseudonym key `key`; a new random
    one is made and stored wrapped when there is none and `create`, else None.
    PseudonymKeyMismatch when it was wrapped by another key."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {FORGET_KEY_TABLE} (wrapped VARCHAR, key_check VARCHAR)"
    )
    row = con.execute(f"SELECT wrapped, key_check FROM {FORGET_KEY_TABLE}").fetchone()
    if row is not None:
        wrapped, check = row
        if check != fingerprint(key):
            raise PseudonymKeyMismatch(
                f"the forget list's key is wrapped by another pseudonym key (fingerprint "
                f"{check}, configured {fingerprint(key)})"
            )
        return _xor(bytes.fromhex(wrapped), _pad(key))
    if not create:
        return None
    list_key = secrets.token_bytes(32)
    con.execute(
        f"INSERT INTO {FORGET_KEY_TABLE} VALUES (?, ?)",
        [_xor(list_key, _pad(key)).hex(), fingerprint(key)],
    )
    return list_key


def _rewrap_forget_list_key(con: duckdb.DuckDBPyConnection, old: bytes, new: bytes) -> None:
    list_key = forget_list_key(con, old, create=False)
    if list_key is not None:
        con.execute(
            f"UPDATE {FORGET_KEY_TABLE} SET wrapped = ?, key_check = ?",
            [_xor(list_key, _pad(new)).hex(), fingerprint(new)],
        )


def rekey_history(con: duckdb.DuckDBPyConnection, old_key: bytes, new_key: bytes) -> int:
    """Rewrite every stored employee key made with `old_key` to the one `new_key` makes,
    re-wrap the forget list's key and record `new_key` as the warehouse's; returns how
    many values changed.
    UsageError when `old_key` is not the warehouse's or equals `new_key`."""
    if fingerprint(old_key) == fingerprint(new_key):
        raise UsageError(
            "the old key given is the configured key: configure the new key first "
            f"({settings.PSEUDONYM_KEY.name} or {settings.PSEUDONYM_KEY_BLOCK.name}), then "
            "give the old one on standard input"
        )
    stored = stored_fingerprint(con)
    if stored != fingerprint(old_key):
        raise PseudonymKeyMismatch(
            "the old key given is not the one this warehouse's employee keys were made with "
            f"(warehouse key fingerprint {stored}, old key given {fingerprint(old_key)})"
        )
    old = pseudonym_table(con, old_key)
    new = pseudonym_table(con, new_key)
    mapping = old.merge(new, on=["kind", "source_id"], suffixes=("_old", "_new"))
    con.register("rekeyed", mapping[["pseudonym_old", "pseudonym_new"]])
    changed = 0
    try:
        for schema, table, column in stored_key_columns(con):
            target = f'{schema}."{table}"'
            (count,) = con.execute(
                f'SELECT count(*) FROM {target} WHERE "{column}" IN '
                "(SELECT pseudonym_old FROM rekeyed)"
            ).fetchone() or (0,)
            con.execute(
                f'UPDATE {target} SET "{column}" = rekeyed.pseudonym_new FROM rekeyed '
                f'WHERE {target}."{column}" = rekeyed.pseudonym_old'
            )
            changed += count
    finally:
        con.unregister("rekeyed")
    _rewrap_forget_list_key(con, old_key, new_key)
    con.execute(f"UPDATE {SCHEMA}.key_check SET fingerprint = ?", [fingerprint(new_key)])
    return changed
