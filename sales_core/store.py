"""DuckDB: the schema and its migrations, short-lived connections, and the data version.

DuckDB lets one process at a time open a file, so nothing here keeps a connection: every read
or write opens one, does its work and closes it. When another process holds the file we retry
for a few seconds, then say so in words (`StoreBusyError`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sales_core.config import CRITERIA, criterion_attr
from sales_core.errors import SchemaVersionError, StoreBusyError, StoreError
from sales_core.migrations import MIGRATIONS, Migration

Connection = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class Column:
    """One column of a current table: its SQL type and the Arrow type used to load it."""

    name: str
    sql: str
    arrow: pa.DataType


def _text(name: str) -> Column:
    return Column(name, "VARCHAR", pa.string())


def _date(name: str) -> Column:
    return Column(name, "DATE", pa.date32())


def _money(name: str) -> Column:
    return Column(name, "DECIMAL(18, 2)", pa.decimal128(18, 2))


def _int(name: str) -> Column:
    return Column(name, "INTEGER", pa.int32())


def _links(name: str) -> Column:
    return Column(name, "VARCHAR[]", pa.list_(pa.string()))


_ID = Column("id", "VARCHAR PRIMARY KEY", pa.string())
_CREATED = Column("created_time", "TIMESTAMP", pa.timestamp("us"))

# The current tables: one row per record that passed validation in the latest sync.
TABLE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "opportunities": (
        _ID,
        Column("name", "VARCHAR NOT NULL", pa.string()),
        _text("organization"),
        _text("stage"),
        _money("value"),
        _text("currency"),
        _int("probability_rating"),
        _date("expected_close"),
        _date("target_start"),
        _date("target_end"),
        _text("category"),
        _text("owner_name"),
        _text("owner_email"),
        _date("last_activity"),
        _text("lost_reason"),
        _CREATED,
    ),
    "contracts": (
        _ID,
        Column("name", "VARCHAR NOT NULL", pa.string()),
        _text("community"),
        _links("opportunity_ids"),
        _text("status"),
        _date("start_date"),
        _date("end_date"),
        _text("billing_frequency"),
        _money("monthly_fee"),
        _money("amount"),
        _text("currency"),
        Column("css_pct", "DECIMAL(9, 6)", pa.decimal128(9, 6)),
        _text("service_type"),
        _int("payment_terms"),
        _text("billing_email"),
        _CREATED,
    ),
    "invoices": (
        _ID,
        _text("number"),
        _text("invoice_key"),
        _links("contract_ids"),
        _text("contract_id"),  # the first linked contract, for joins
        _date("period_start"),
        _date("period_end"),
        _date("issue_date"),
        _date("due_date"),
        _money("amount"),
        _text("currency"),
        _text("status"),
        _date("paid_date"),
        _text("type"),
        _CREATED,
    ),
    "qualifications": (
        _ID,
        Column("assessment_key", "VARCHAR NOT NULL", pa.string()),
        _links("opportunity_ids"),
        _text("opportunity_id"),  # the first linked opportunity, for joins
        _text("assessed_by"),
        _date("assessed_on"),
        *(_text(criterion_attr(c)) for c in CRITERIA),
        *(_text(f"{criterion_attr(c)}_notes") for c in CRITERIA),
        _int("score"),
        _text("recommendation"),
        _CREATED,
    ),
}


_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def migrate(con: Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Apply the migrations not yet recorded, each in one transaction with its record.

    A database that has a migration this code does not know was written by a newer release:
    it is refused (`SchemaVersionError`) before anything is touched.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    known = {m.version for m in migrations}
    if unknown := sorted(done - known):
        raise SchemaVersionError(
            f"This database has schema version {max(unknown)}, newer than this code knows "
            f"(up to {max(known)}): it was written by a newer release of sales-core. "
            "Upgrade the app (git pull, then make run) or point SALES_DB at another file."
        )
    applied: list[int] = []
    for migration in migrations:
        if migration.version in done:
            continue
        con.begin()
        try:
            for statement in migration.statements:
                con.execute(statement)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [migration.version, migration.name, utcnow()],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        applied.append(migration.version)
    return applied


def utcnow() -> datetime:
    """Now, in UTC, without a timezone (the store's TIMESTAMP columns are UTC)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    """Another process holds the file, or another transaction wrote the same rows first."""
    text = str(exc).lower()
    if isinstance(exc, duckdb.IOException):
        return "lock" in text
    return isinstance(exc, duckdb.TransactionException) and "conflict" in text


def _named(exc: duckdb.Error, path: Path) -> StoreError:
    """A database error in words, with DuckDB's own message (it never holds a secret)."""
    if _is_lock_conflict(exc):
        return StoreBusyError(
            "Another write to the local database happened at the same time; try again."
        )
    kind = type(exc).__name__.removesuffix("Exception").removesuffix("Error") or "database"
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
    return StoreError(f"The local database {path} failed ({kind} error): {first_line[:400]}")


def _open(path: Path, lock_timeout: float) -> Connection:
    if path.exists() and not path.is_file():
        raise StoreError(
            f"SALES_DB={path} is not a database file (it is a directory or a device). "
            "Set SALES_DB to the path of a DuckDB file, e.g. data/sales.duckdb."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the folder for SALES_DB={path}: {exc.strerror or exc}."
        ) from None
    deadline = time.monotonic() + lock_timeout
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.Error as exc:
            if not (isinstance(exc, duckdb.IOException) and _is_lock_conflict(exc)):
                raise StoreError(
                    f"Cannot open SALES_DB={path} as a DuckDB database: "
                    f"{str(exc).strip().splitlines()[0][:300]}"
                ) from None
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"The database {path} is in use by another process (a sync or an invoice "
                    f"run?) and stayed locked for {lock_timeout:g} s. Try again in a moment."
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


@contextmanager
def connect(db_path: Path | str, *, lock_timeout: float = 10.0) -> Iterator[Connection]:
    """Open the store for one short piece of work, migrating it on first use in this process.

    A file locked by another process is retried for up to `lock_timeout` seconds, then reported
    as `StoreBusyError`. Any other database error inside the block comes out as a `StoreError`
    that names it (only a lock or write conflict is "busy"). The connection is always closed.
    """
    path = Path(db_path)
    con = _open(path, lock_timeout)
    try:
        key = str(path.resolve())
        if key not in _migrated:
            with _migrate_lock:
                migrate(con)
                _migrated.add(key)
        yield con
    except duckdb.Error as exc:
        raise _named(exc, path) from exc
    finally:
        con.close()


@contextmanager
def registered(con: Connection, **tables: pa.Table) -> Iterator[Connection]:
    """Arrow tables visible to SQL under these names for the block, then forgotten.

    If the block failed, a failure to unregister (the transaction is aborted by then) is
    ignored so that the first error is the one reported.
    """
    for name, table in tables.items():
        con.register(name, table)
    failed = False
    try:
        yield con
    except BaseException:
        failed = True
        raise
    finally:
        for name in tables:
            try:
                con.unregister(name)
            except duckdb.Error:
                if not failed:
                    raise


@contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """One write transaction: committed when the block ends, rolled back on any error."""
    con.begin()
    try:
        yield con
        con.commit()
    except BaseException:
        con.rollback()
        raise


@contextmanager
def write_transaction(db_path: Path | str, *, lock_timeout: float = 10.0) -> Iterator[Connection]:
    """A short connection holding one write transaction: committed at the end, or rolled back."""
    with connect(db_path, lock_timeout=lock_timeout) as con, transaction(con):
        yield con


def bump_data_version(con: Connection) -> int:
    """Mark that the data changed (inside the caller's transaction); returns the new version."""
    row = con.execute(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
        "WHERE key = 'data_version' RETURNING value"
    ).fetchall()
    return int(row[0][0])


def data_version(db_path: Path | str, *, lock_timeout: float = 10.0) -> int:
    """A number that changes whenever the data changes: the key for caching query results."""
    with connect(db_path, lock_timeout=lock_timeout) as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
    return int(row[0][0])


def arrow_table(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (column name -> Python value) as an Arrow table with the store's exact types."""
    columns = TABLE_COLUMNS[table]
    schema = pa.schema([pa.field(c.name, c.arrow) for c in columns])
    data = {c.name: [row.get(c.name) for row in rows] for c in columns}
    return pa.Table.from_pydict(data, schema=schema)


def query(con: Connection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Run a read query with bound parameters; rows as dicts."""
    result = con.execute(sql, params or [])
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
