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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from sales_core.errors import (
    DatabaseSettingError,
    SchemaVersionError,
    StoreBusyError,
    StoreError,
)
from sales_core.migrations import MIGRATIONS, Migration
from sales_core.vocabulary import bind

Connection = duckdb.DuckDBPyConnection


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
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.name, utcnow()],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        applied.append(migration.version)
    return applied


def utcnow(*, precise: bool = False) -> datetime:
    """Now, in UTC, without a timezone (the store's TIMESTAMP columns are UTC), to the second
    unless `precise` (for ordering events that may fall in the same second)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now if precise else now.replace(microsecond=0)


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
        raise DatabaseSettingError(
            f"SALES_DB={path} is not a database file (it is a directory or a device). "
            "Set SALES_DB to the path of a DuckDB file, e.g. data/sales.duckdb."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseSettingError(
            f"Cannot create the folder for SALES_DB={path}: {exc.strerror or exc}."
        ) from None
    deadline = time.monotonic() + lock_timeout
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.Error as exc:
            if not (isinstance(exc, duckdb.IOException) and _is_lock_conflict(exc)):
                raise DatabaseSettingError(
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
                if key not in _migrated:  # another thread may have migrated it meanwhile
                    migrate(con)
                    _migrated.add(key)
        yield con
    except duckdb.Error as exc:
        raise _named(exc, path) from exc
    finally:
        con.close()


# The connection each thread holds open for its block of `held`, by (thread, file).
_held: dict[tuple[int, str], Connection] = {}


def _hold_key(db_path: Path | str) -> tuple[int, str]:
    return threading.get_ident(), str(Path(db_path).resolve())


def _try_open(path: Path) -> Connection | None:
    """A connection to an existing database file, or None when it cannot be had at once."""
    if not path.is_file():
        return None
    try:
        return _open(path, lock_timeout=0)
    except StoreError:
        return None


@contextmanager
def held(db_path: Path | str) -> Iterator[None]:
    """Keep the database open for the block, so that every `connect` inside it, from any
    thread of this process, joins the open DuckDB instance instead of starting one afresh.

    Starting DuckDB costs about 15 ms each time, whatever the data, and a page render opens a
    dozen short connections. The file is locked against other processes for the block only
    (one render), as it is for each short connection, and not during long work that does not
    use it (`released`). A file that is missing, locked by another process or not a database
    is not held: the first `connect` inside says why, as it would without the block.
    """
    key = _hold_key(db_path)
    if key in _held:  # already held by this thread: the outer block lets go
        yield
        return
    con = _try_open(Path(db_path))
    if con is not None:
        _held[key] = con
    try:
        yield
    finally:
        con = _held.pop(key, None)
        if con is not None:
            con.close()


@contextmanager
def released(db_path: Path | str) -> Iterator[None]:
    """Let go of the database this thread holds (`held`) for a block of long work that does
    not use it (fetching from AirTable, writing PDFs, sending mail), so that another process
    is not kept waiting meanwhile; held again afterwards. Outside `held`, nothing happens."""
    key = _hold_key(db_path)
    con = _held.pop(key, None)
    if con is None:
        yield
        return
    con.close()
    try:
        yield
    finally:
        again = _try_open(Path(db_path))
        if again is not None:
            _held[key] = again


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


def bump_data_version(con: Connection, *, history: bool = True) -> int:
    """Mark that the data changed (inside the caller's transaction, after its changes); returns
    the new version. The summaries of the invoice history are rebuilt for it, unless the caller
    says the change leaves the history alone (`history=False`: an email marked sent, a MANIAC-T
    assessment): current summaries then stay current without the rebuild."""
    from sales_core import summaries  # it reads and writes through this module

    kept = not history and summaries.current(con)
    row = con.execute(
        "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
        "WHERE key = 'data_version' RETURNING value"
    ).fetchall()
    version = int(row[0][0])
    if history:
        summaries.refresh(con, version)
    elif kept:
        summaries.stamp(con, version)
    return version


def data_version(db_path: Path | str, *, lock_timeout: float = 10.0) -> int:
    """A number that changes whenever the data changes: the key for caching query results."""
    with connect(db_path, lock_timeout=lock_timeout) as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
    return int(row[0][0])


def execute(con: Connection, sql: str, params: dict[str, Any] | None = None) -> Connection:
    """Run one statement with named parameters, the vocabulary words it names included."""
    return con.execute(sql, bind(sql, params))


def frame(
    con: Connection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> pd.DataFrame:
    """Run a read query into a DataFrame whose money columns hold `Decimal`s (`.df()` would
    give floats); dates and timestamps come back as pandas datetimes, as with `.df()`."""
    bound = params if isinstance(params, list) else bind(sql, params)
    table = con.sql(sql, params=bound).to_arrow_table()
    return table.to_pandas(date_as_object=False)


def query(
    con: Connection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run a read query with bound parameters (named ones gain the vocabulary); rows as dicts."""
    result = con.execute(sql, params if isinstance(params, list) else bind(sql, params))
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
