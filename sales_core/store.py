"""DuckDB: the schema and its migrations, short-lived connections, and the data version.

DuckDB lets one process at a time open a file, so nothing here keeps a connection: every read
or write opens one, does its work and closes it. When another process holds the file we retry
for a few seconds, then say so in words (`StoreBusyError`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sales_core.config import CRITERIA, criterion_attr
from sales_core.errors import StoreBusyError

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


def _create_table(name: str, columns: tuple[Column, ...]) -> str:
    body = ",\n    ".join(f"{c.name} {c.sql}" for c in columns)
    return f"CREATE TABLE {name} (\n    {body}\n)"


def _migration_1(con: Connection) -> None:
    """The current tables, sync runs, quarantine, opportunity history and meta."""
    for name, columns in TABLE_COLUMNS.items():
        con.execute(_create_table(name, columns))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    con.execute("INSERT INTO meta VALUES ('data_version', '0')")
    con.execute("CREATE SEQUENCE sync_run_ids START 1")
    con.execute(
        """
        CREATE TABLE sync_runs (
            id BIGINT PRIMARY KEY DEFAULT nextval('sync_run_ids'),
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL,
            status VARCHAR NOT NULL,      -- 'ok' or 'failed'
            opportunities INTEGER,
            contracts INTEGER,
            invoices INTEGER,
            qualifications INTEGER,
            rejected INTEGER,
            warnings INTEGER,
            requests INTEGER,
            error VARCHAR
        )
        """
    )
    con.execute(
        """
        CREATE TABLE quarantine (
            sync_run_id BIGINT NOT NULL,
            table_name VARCHAR NOT NULL,
            record_id VARCHAR NOT NULL,
            field VARCHAR NOT NULL,
            problem VARCHAR NOT NULL,
            raw_value VARCHAR,
            severity VARCHAR NOT NULL     -- 'rejected' (not loaded) or 'warning' (loaded)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE opportunity_history (
            opportunity_id VARCHAR NOT NULL,
            observed_at TIMESTAMP NOT NULL,
            sync_run_id BIGINT NOT NULL,
            change VARCHAR NOT NULL,      -- 'created', 'changed' or 'deleted'
            name VARCHAR,
            stage VARCHAR,
            value DECIMAL(18, 2),
            currency VARCHAR,
            probability_rating INTEGER
        )
        """
    )


def _migration_2(con: Connection) -> None:
    """Assessments saved here (MANIAC-T) and the latest assessment of each opportunity.

    `assessments` is the local record of every save, never overwritten; `airtable_id` and
    `pushed_at` stay NULL until the upsert into AirTable's Qualifications table succeeded.
    `latest_assessment` merges them with the synced `qualifications` (a local row wins over the
    synced copy of the same key) and keeps the newest per opportunity.
    """
    criteria = ",\n            ".join(
        f"{criterion_attr(c)} VARCHAR NOT NULL, {criterion_attr(c)}_notes VARCHAR" for c in CRITERIA
    )
    con.execute(
        f"""
        CREATE TABLE assessments (
            assessment_key VARCHAR PRIMARY KEY,
            opportunity_id VARCHAR NOT NULL,
            assessed_by VARCHAR NOT NULL,
            assessed_on DATE NOT NULL,
            saved_at TIMESTAMP NOT NULL,
            {criteria},
            score INTEGER NOT NULL,
            recommendation VARCHAR NOT NULL,
            airtable_id VARCHAR,
            pushed_at TIMESTAMP,
            push_error VARCHAR
        )
        """
    )
    con.execute(
        """
        CREATE VIEW latest_assessment AS
        WITH every AS (
            SELECT assessment_key, opportunity_id, assessed_by, assessed_on, score,
                   recommendation, saved_at AS recorded_at, 'local' AS origin
            FROM assessments
            UNION ALL
            SELECT q.assessment_key, q.opportunity_id, q.assessed_by, q.assessed_on, q.score,
                   q.recommendation, q.created_time AS recorded_at, 'airtable' AS origin
            FROM qualifications AS q
            WHERE q.opportunity_id IS NOT NULL
              AND q.assessment_key NOT IN (SELECT assessment_key FROM assessments)
        )
        SELECT * EXCLUDE (rank) FROM (
            SELECT *, row_number() OVER (
                PARTITION BY opportunity_id
                ORDER BY assessed_on DESC NULLS LAST, recorded_at DESC NULLS LAST,
                         assessment_key DESC
            ) AS rank
            FROM every
        ) WHERE rank = 1
        """
    )


def _migration_3(con: Connection) -> None:
    """The invoices generated here, and the audit log of who did what to them.

    `generated_invoices` is the local ledger of the invoice run: the key and the number are
    unique, rows are never deleted (a mistake is voided), and `push_state` tracks the write-back
    to AirTable: 'pending' (not sent, or changed since), 'sending' (a push started and did not
    report back: reconciled by reading the keys back) and 'pushed'.
    """
    con.execute(
        """
        CREATE TABLE generated_invoices (
            invoice_key VARCHAR PRIMARY KEY,
            number VARCHAR NOT NULL UNIQUE,
            contract_id VARCHAR NOT NULL,
            contract_name VARCHAR NOT NULL,
            community VARCHAR NOT NULL,
            billing_email VARCHAR,
            period_start DATE NOT NULL,
            period_end DATE NOT NULL,
            days INTEGER NOT NULL,
            amount DECIMAL(18, 2) NOT NULL,
            currency VARCHAR NOT NULL,
            issue_date DATE NOT NULL,
            due_date DATE NOT NULL,
            payment_terms INTEGER NOT NULL,
            proration VARCHAR NOT NULL,
            description VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            paid_date DATE,
            void_reason VARCHAR,
            run_month VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            push_state VARCHAR NOT NULL,
            airtable_id VARCHAR,
            pushed_at TIMESTAMP,
            push_error VARCHAR
        )
        """
    )
    con.execute("CREATE SEQUENCE audit_ids START 1")
    con.execute(
        """
        CREATE TABLE audit_log (
            id BIGINT PRIMARY KEY DEFAULT nextval('audit_ids'),
            logged_at TIMESTAMP NOT NULL,
            actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            month VARCHAR,
            invoice_numbers VARCHAR[] NOT NULL,
            detail VARCHAR
        )
        """
    )


def _migration_4(con: Connection) -> None:
    """A revision counter on generated invoices, so a push knows exactly which state it sent."""
    con.execute("ALTER TABLE generated_invoices ADD COLUMN revision INTEGER DEFAULT 0")


def _migration_5(con: Connection) -> None:
    """Who saved each local assessment: the signed-in email (or the demo's unnamed user).

    `assessed_by` stays what the person typed (they may record someone else's assessment).
    """
    con.execute("ALTER TABLE assessments ADD COLUMN saved_by VARCHAR")


def _migration_6(con: Connection) -> None:
    """`receivables`: every invoice the dashboards count, whether synced or made here.

    Invoices generated here show before they reach AirTable (or, on the demo data, at all); an
    invoice both made here and synced back counts once, with the local state (after a sync the
    two agree, see ledger.adopt_airtable_changes; before a push the local one is newer).
    """
    con.execute(
        """
        CREATE VIEW receivables AS
        SELECT i.* FROM invoices AS i
        WHERE i.invoice_key IS NULL
           OR i.invoice_key NOT IN (SELECT invoice_key FROM generated_invoices)
        UNION ALL
        SELECT coalesce(g.airtable_id, 'local:' || g.invoice_key) AS id, g.number, g.invoice_key,
               [g.contract_id] AS contract_ids, g.contract_id, g.period_start, g.period_end,
               g.issue_date, g.due_date, g.amount, g.currency, g.status, g.paid_date,
               'ACCREC' AS type, g.created_at AS created_time
        FROM generated_invoices AS g
        """
    )


Migration = tuple[int, str, Callable[[Connection], None]]

# Append only: a migration, once released, is never edited; add a new one instead.
MIGRATIONS: list[Migration] = [
    (1, "current tables, sync runs, quarantine, opportunity history", _migration_1),
    (2, "local MANIAC-T assessments and the latest per opportunity", _migration_2),
    (3, "generated invoices and the audit log", _migration_3),
    (4, "a revision counter on generated invoices", _migration_4),
    (5, "who saved each local assessment", _migration_5),
    (6, "every invoice the dashboards count, synced or made here", _migration_6),
]

_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def migrate(con: Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply the migrations not yet recorded, each in one transaction with its record."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied: list[int] = []
    for version, name, apply in migrations if migrations is not None else MIGRATIONS:
        if version in done:
            continue
        con.begin()
        try:
            apply(con)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        applied.append(version)
    return applied


def utcnow() -> datetime:
    """Now, in UTC, without a timezone (the store's TIMESTAMP columns are UTC)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    text = str(exc)
    return "lock" in text.lower() or "Conflicting lock" in text


@contextmanager
def connect(db_path: Path | str, *, lock_timeout: float = 10.0) -> Iterator[Connection]:
    """Open the store for one short piece of work, migrating it on first use in this process.

    A file locked by another process is retried for up to `lock_timeout` seconds, then reported
    as `StoreBusyError`. The connection is always closed on the way out.
    """
    path = Path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout
    delay = 0.02
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"The database {path} is in use by another process (a sync or an invoice "
                    f"run?) and stayed locked for {lock_timeout:g} s. Try again in a moment."
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    try:
        key = str(path.resolve())
        if key not in _migrated:
            with _migrate_lock:
                migrate(con)
                _migrated.add(key)
        yield con
    finally:
        con.close()


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
