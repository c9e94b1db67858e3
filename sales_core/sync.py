"""The sync: source -> validated rows -> one write transaction.

1. Fetch every table (AirTable or the demo files) completely; no database connection is open
   meanwhile, so the app and a cron sync never wait on each other for long.
2. Validate: each record becomes a model or is rejected; problems go to the quarantine table.
3. Write everything in one transaction: the current tables, the opportunity history (a row when
   a sync sees an opportunity appear, change or disappear), the quarantine and the sync run.

A failure anywhere before the commit leaves the previous data exactly as it was; the failed run
is recorded with its reason in words. A record that is rejected keeps its previous good version
in the current tables until it is fixed, so one bad edit in AirTable loses nothing here.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

import pyarrow as pa

from sales_core import assessments, reconcile, schema, store
from sales_core.airtable import AirtableSource, PageCallback, RecordsCallback
from sales_core.config import TABLE_KEYS, FieldMapping, Settings, without_userinfo
from sales_core.demo import DemoSource
from sales_core.errors import (
    AirtableError,
    AirtableForbiddenError,
    DatabaseSettingError,
    SalesError,
    StoreBusyError,
    SyncError,
    TableNotFoundError,
)
from sales_core.models import OPTIONAL_TABLES, SYNCED, Entity, Problem
from sales_core.records import build_entity, compile_fields, parse_values

Progress = Callable[[str], None]

# Which link fields point at which table, for the dangling-link check.
LINKS: dict[str, tuple[str, str]] = {
    "contracts": ("opportunity_ids", "opportunities"),
    "invoices": ("contract_ids", "contracts"),
    "qualifications": ("opportunity_ids", "opportunities"),
    "charges": ("contract_ids", "contracts"),
}


# One sync at a time per process: two sessions of the app pressing "Sync now" together would
# otherwise both replace the same tables and one would fail on a write conflict.
_sync_lock = threading.Lock()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a sync builds its rows.

    A sync allocates hundreds of thousands of small objects that all stay alive until the
    write; each automatic collection rescans them, which measured as about half the time of
    validation at 100k records. Nothing here makes reference cycles that need the collector.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Source(Protocol):
    """Where records come from: AirTable or the demo files."""

    name: str
    mapping: FieldMapping

    @property
    def request_count(self) -> int: ...

    def table_ids(self) -> dict[str, str]: ...

    def fetch_table(
        self,
        table_key: str,
        on_page: PageCallback | None = None,
        *,
        on_records: RecordsCallback | None = None,
    ) -> list[dict[str, Any]]: ...


@dataclass
class Validated:
    """The outcome of validating every fetched table."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rejected_ids: dict[str, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)  # optional tables the base lacks

    @property
    def rejected(self) -> int:
        """How many records were not loaded."""
        return sum(len(ids) for ids in self.rejected_ids.values())

    @property
    def warnings(self) -> int:
        """How many problems were only warnings (the record loaded)."""
        return sum(1 for p in self.problems if p.severity == "warning")


@dataclass
class SyncResult:
    """What one sync did; `to_json()` is what `sales-core sync --json` prints."""

    run_id: int | None
    source: str
    status: str
    started_at: datetime
    finished_at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    warnings: int = 0
    requests: int = 0
    error: str | None = None
    # The sync's first step: the assessments saved here and not yet in AirTable are pushed, so
    # that they come back with the fetch. How many went, and why the rest did not.
    pushed_assessments: int = 0
    push_error: str | None = None
    missing_tables: list[str] = field(default_factory=list)  # optional tables the base lacks

    @property
    def missing_text(self) -> str:
        """What the base lacks and what cannot be done without it ('' when nothing)."""
        return " ".join(
            f"The base has no {table.title()} table, needed to {OPTIONAL_TABLES[table]}."
            for table in self.missing_tables
        )

    @property
    def push_text(self) -> str:
        """What the sync's push did, in words ('' when it had nothing to send)."""
        if self.push_error:
            return f"Saved assessments not yet in AirTable: {self.push_error}"
        if self.pushed_assessments:
            n = self.pushed_assessments
            return f"First sent {n} saved assessment{'s' if n != 1 else ''} to AirTable."
        return ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat() + "Z"
        data["finished_at"] = self.finished_at.isoformat() + "Z"
        data["seconds"] = round((self.finished_at - self.started_at).total_seconds(), 3)
        return data


def make_source(settings: Settings, name: str | None = None) -> Source:
    """The source to read: 'airtable', 'demo', or None for AirTable when configured, else demo."""
    name = name or settings.source_name
    if name == "demo":
        return DemoSource(settings.demo_dir)
    if name == "airtable":
        if not settings.airtable_configured:
            raise SyncError(
                "AirTable is not configured: set AIRTABLE_API_KEY and AIRTABLE_BASE_ID "
                "(environment or [airtable] in .streamlit/secrets.toml)."
            )
        return AirtableSource(settings)
    raise SyncError(f"Unknown source '{name}': use 'airtable' or 'demo'.")


def _row(entity: Entity) -> dict[str, Any]:
    """A validated record as a row of the store's current table (links as lists)."""
    row = dict(entity.__dict__)  # the model's fields, defaults included (model_dump is slower)
    for name, value in row.items():
        if type(value) is tuple:
            row[name] = list(value)
    return row


def validate(raw: dict[str, list[dict[str, Any]]], mapping: FieldMapping) -> Validated:
    """Every fetched record -> a store row or a rejection, and the problems found."""
    with _collector_paused():
        return _validate(raw, mapping)


class _Checker:
    """Validates records as they arrive, table by table, page by page.

    A table that starts over (an expired cursor) throws away what it had: `add` with a newer
    attempt resets that table. `finish` adds the dangling-link warnings, which need every table.
    """

    def __init__(self, mapping: FieldMapping) -> None:
        self.mapping = mapping
        self.out = Validated()
        self.entities: dict[str, list[Entity]] = {}
        self.problems: dict[str, list[Problem]] = {}
        self.fetched_ids: dict[str, set[str]] = {}
        self.seen: dict[str, set[str]] = {}
        self.attempt: dict[str, int] = {}
        self.compiled = {k: compile_fields(k, mapping) for k in TABLE_KEYS}
        for table_key in TABLE_KEYS:
            self._reset(table_key)

    def _reset(self, table_key: str) -> None:
        self.entities[table_key] = []
        self.problems[table_key] = []
        self.fetched_ids[table_key] = set()
        self.seen[table_key] = set()
        self.out.rows[table_key] = []
        self.out.rejected_ids[table_key] = []

    def add(self, table_key: str, records: list[dict[str, Any]], attempt: int = 1) -> None:
        """Check one page of records of one table."""
        if attempt != self.attempt.get(table_key, attempt):
            self._reset(table_key)
        self.attempt[table_key] = attempt
        compiled, mapping = self.compiled[table_key], self.mapping
        seen, rows = self.seen[table_key], self.out.rows[table_key]
        found, rejected = self.problems[table_key], self.out.rejected_ids[table_key]
        for record in records:
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                self.fetched_ids[table_key].add(record["id"])
            values, problems = parse_values(table_key, record, compiled)
            entity = None
            if values is not None:
                entity, more = build_entity(table_key, values, mapping)
                problems += more
            if problems:
                found.extend(problems)
            if entity is None or values is None:
                if problems and problems[0].record_id != "(none)":
                    rejected.append(problems[0].record_id)
                continue
            if entity.id in seen:
                found.append(
                    Problem(
                        table=table_key,
                        record_id=entity.id,
                        field="id",
                        problem="the same record id came twice; kept the first",
                    )
                )
                continue
            seen.add(entity.id)
            self.entities[table_key].append(entity)
            rows.append(_row(entity))

    def missing(self, table_key: str) -> None:
        """The base has no such (optional) table: it loads empty, and the sync says so."""
        self._reset(table_key)
        self.out.missing_tables.append(table_key)

    def finish(self) -> Validated:
        """Every table is in: add the links to missing records and return the outcome."""
        for table_key in TABLE_KEYS:
            self.out.problems.extend(self.problems[table_key])
        for table_key, (attr, target) in LINKS.items():
            field_name = self.mapping.field_name(table_key, attr)
            known = self.fetched_ids[target]
            for entity in self.entities[table_key]:
                missing = [i for i in getattr(entity, attr) if i not in known]
                if missing:
                    self.out.problems.append(
                        Problem(
                            table=table_key,
                            record_id=entity.id,
                            field=field_name,
                            problem=f"links to {len(missing)} record(s) that do not exist in "
                            f"{self.mapping.table(target)}",
                            raw_value=", ".join(missing),
                            severity="warning",
                        )
                    )
        return self.out


def _validate(raw: dict[str, list[dict[str, Any]]], mapping: FieldMapping) -> Validated:
    """A table missing from `raw` is empty, or, when optional, one the base does not have."""
    checker = _Checker(mapping)
    for table_key in TABLE_KEYS:
        if table_key in raw or table_key not in OPTIONAL_TABLES:
            checker.add(table_key, raw.get(table_key, []))
        else:
            checker.missing(table_key)
    return checker.finish()


_DONE = object()


def fetch_and_validate(source: Source, progress: Progress | None = None) -> Validated:
    """Fetch every table and validate each page while the next one is on its way.

    A thread fetches (it mostly waits on the network, which releases the interpreter) and hands
    pages over a queue; this thread checks them meanwhile, and also relays the progress messages
    (a Streamlit page may only be drawn from its own thread). Any failure of the fetch is raised
    here, before anything is written.
    """
    handover: queue.Queue[object] = queue.Queue(maxsize=32)
    failures: list[BaseException] = []

    def fetch() -> None:
        try:
            for table_key in TABLE_KEYS:
                name = source.mapping.table(table_key)
                handover.put(("progress", f"Reading {name}…"))

                def on_page(key: str, count: int, name: str = name) -> None:
                    handover.put(("progress", f"Reading {name}: {count:,} records"))

                def on_records(key: str, attempt: int, page: list[dict[str, Any]]) -> None:
                    handover.put(("page", (key, attempt, page)))

                try:
                    source.fetch_table(table_key, on_page, on_records=on_records)
                except (TableNotFoundError, AirtableForbiddenError):
                    if table_key not in OPTIONAL_TABLES:
                        raise
                    handover.put(("missing", table_key))
        except BaseException as exc:  # handed to the caller's thread below
            failures.append(exc)
        finally:
            handover.put(_DONE)

    with _collector_paused():
        checker = _Checker(source.mapping)
        worker = threading.Thread(target=fetch, name="sync-fetch", daemon=True)
        worker.start()
        while (item := handover.get()) is not _DONE:
            kind, payload = cast("tuple[str, Any]", item)
            if kind == "progress":
                if progress is not None:
                    progress(payload)
            elif kind == "missing":
                checker.missing(payload)
            else:
                table_key, attempt, page = payload
                checker.add(table_key, page, attempt)
        worker.join()
        if failures:
            raise failures[0]
        return checker.finish()


def fetch_all(source: Source, progress: Progress | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every record of every table, complete, before anything is written."""
    raw: dict[str, list[dict[str, Any]]] = {}

    def on_page(table_key: str, count: int) -> None:
        if progress is not None:
            progress(f"Reading {source.mapping.table(table_key)}: {count:,} records")

    for table_key in TABLE_KEYS:
        if progress is not None:
            progress(f"Reading {source.mapping.table(table_key)}…")
        try:
            raw[table_key] = source.fetch_table(table_key, on_page)
        except (TableNotFoundError, AirtableForbiddenError):
            if table_key not in OPTIONAL_TABLES:
                raise
    return raw


_QUARANTINE_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("record_id", pa.string()),
        ("field", pa.string()),
        ("problem", pa.string()),
        ("raw_value", pa.string()),
        ("severity", pa.string()),
    ]
)

_HISTORY_CHANGED = """
INSERT INTO opportunity_history (opportunity_id, observed_at, sync_run_id, change, name, stage,
                                 value, currency, probability_rating)
SELECT s.id, $now, $run, CASE WHEN o.id IS NULL THEN 'created' ELSE 'changed' END,
       s.name, s.stage, s.value, s.currency, s.probability_rating
FROM staged AS s LEFT JOIN opportunities AS o ON o.id = s.id
WHERE o.id IS NULL
   OR o.stage IS DISTINCT FROM s.stage
   OR o.value IS DISTINCT FROM s.value
   OR o.currency IS DISTINCT FROM s.currency
   OR o.probability_rating IS DISTINCT FROM s.probability_rating
"""

_HISTORY_DELETED = """
INSERT INTO opportunity_history (opportunity_id, observed_at, sync_run_id, change, name, stage,
                                 value, currency, probability_rating)
SELECT o.id, $now, $run, 'deleted', o.name, o.stage, o.value, o.currency, o.probability_rating
FROM opportunities AS o
WHERE o.id NOT IN (SELECT id FROM staged) AND o.id NOT IN (SELECT id FROM kept)
"""


@dataclass(frozen=True)
class TableIds:
    """The AirTable table ids a sync read (table key -> `tbl…`), or why it has none."""

    base_id: str | None
    ids: dict[str, str] = field(default_factory=dict)
    note: str | None = None  # why there are no links ("" when there are)
    keep: bool = False  # the schema could not be read this time: keep the ids stored before


# Where a record link's table id comes from, for the pages and the README.
SCHEMA_SCOPE = "schema.bases:read"


def read_table_ids(source: Source, base_id: str | None) -> TableIds:
    """The table ids from the source's schema, or none and why; never fails the sync."""
    try:
        ids = source.table_ids()
    except AirtableForbiddenError:
        return TableIds(
            base_id,
            note=f"the token may not read the base's schema (it needs the {SCHEMA_SCOPE} scope)",
        )
    except AirtableError as exc:  # a passing failure: the ids stored before still hold
        return TableIds(base_id, note=f"the base's schema could not be read: {exc}", keep=True)
    if not ids:
        return TableIds(base_id, note="the records are not in AirTable")
    return TableIds(base_id, ids=ids, note="")


def _store_table_ids(con: store.Connection, table_ids: TableIds) -> None:
    if table_ids.keep:
        return
    con.execute("DELETE FROM airtable_tables")
    if table_ids.base_id:
        for table_key, table_id in table_ids.ids.items():
            con.execute(
                "INSERT INTO airtable_tables (table_key, base_id, table_id) VALUES (?, ?, ?)",
                [table_key, table_ids.base_id, table_id],
            )
    con.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('record_links', ?)",
        [table_ids.note or ""],
    )


def load(
    con: store.Connection,
    validated: Validated,
    *,
    source: str,
    started_at: datetime,
    requests: int,
    fetched_from: datetime | None = None,
    table_ids: TableIds | None = None,
) -> int:
    """Write one validated sync in the caller's transaction; returns the sync run's id.

    `fetched_from` is when the source began to be read (default `started_at`); `table_ids`,
    when given, replace the stored AirTable table ids.
    """
    now = store.utcnow()
    counts = {k: len(v) for k, v in validated.rows.items()}
    run_id = int(
        con.execute(
            "INSERT INTO sync_runs (started_at, finished_at, source, status, opportunities, "
            "contracts, invoices, qualifications, charges, rejected, warnings, requests) "
            "VALUES (?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [
                started_at,
                now,
                source,
                counts["opportunities"],
                counts["contracts"],
                counts["invoices"],
                counts["qualifications"],
                # None: the base has no Charges table (the Invoices page says what it misses).
                None if "charges" in validated.missing_tables else counts["charges"],
                validated.rejected,
                validated.warnings,
                requests,
            ],
        ).fetchall()[0][0]
    )
    for table_key in TABLE_KEYS:
        model = SYNCED[table_key]
        staged = schema.arrow_table(model, validated.rows[table_key])
        names = ", ".join(c.attr for c in schema.columns(model))
        kept = pa.table({"id": pa.array(validated.rejected_ids[table_key], pa.string())})
        with store.registered(con, staged=staged, kept=kept):
            if table_key == "opportunities":
                params = {"now": now, "run": run_id}
                con.execute(_HISTORY_CHANGED, params)
                con.execute(_HISTORY_DELETED, params)
            # Write only what changed: most syncs change a few records of many thousands.
            # Rejected records keep their last good version until they are fixed.
            con.execute(
                f"DELETE FROM {table_key} "
                "WHERE id NOT IN (SELECT id FROM staged) AND id NOT IN (SELECT id FROM kept)"
            )
            con.execute(
                f"INSERT OR REPLACE INTO {table_key} ({names}) "
                f"SELECT {names} FROM staged EXCEPT SELECT {names} FROM {table_key}"
            )
    problems = pa.Table.from_pylist(
        [p.model_dump(exclude={"table"}) | {"table_name": p.table} for p in validated.problems],
        schema=_QUARANTINE_SCHEMA,
    )
    with store.registered(con, problems=problems):
        con.execute(
            "INSERT INTO quarantine (sync_run_id, table_name, record_id, field, problem, "
            "raw_value, severity) "
            "SELECT ?, table_name, record_id, field, problem, raw_value, severity FROM problems",
            [run_id],
        )
    if table_ids is not None:
        _store_table_ids(con, table_ids)
    # Its conflicts are listed on Data health.
    reconcile.adopt_airtable_changes(con, fetched_from or started_at)
    store.bump_data_version(con)
    return run_id


def _record_failure(
    settings: Settings, source: str, started_at: datetime, requests: int, error: str
) -> int | None:
    try:
        with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
            rows = con.execute(
                "INSERT INTO sync_runs (started_at, finished_at, source, status, requests, error) "
                "VALUES (?, ?, ?, 'failed', ?, ?) RETURNING id",
                [started_at, store.utcnow(), source, requests, error],
            ).fetchall()
            return int(rows[0][0])
    except SalesError:
        return None


def run_sync(
    settings: Settings,
    source: Source | str | None = None,
    progress: Progress | None = None,
) -> SyncResult:
    """Copy the source into the store in one transaction, or change nothing and say why.

    Returns the result of a successful sync; raises SyncError (after recording the failed run)
    when anything went wrong. The previous data is then exactly as it was.
    """
    if not _sync_lock.acquire(blocking=False):
        raise SyncError("Another sync is already running; wait for it to finish.")
    try:
        return _run_sync(settings, source, progress)
    finally:
        _sync_lock.release()


def _run_sync(
    settings: Settings, source: Source | str | None, progress: Progress | None
) -> SyncResult:
    started_at = store.utcnow()
    src: Source | None = None
    source_name = source if isinstance(source, str) else (source.name if source else None)
    try:
        src = (
            source
            if source is not None and not isinstance(source, str)
            else make_source(settings, source if isinstance(source, str) else None)
        )
        source_name = src.name
        # The requests to the source take seconds to minutes: the file is not held meanwhile.
        with store.released(settings.db_path):
            pushed = assessments.push_pending(settings, src, progress)  # never raises
            fetched_from = store.utcnow(precise=True)
            # One request, before the records: the table ids for the links (never fails).
            table_ids = read_table_ids(src, settings.base_id if src.name == "airtable" else None)
        with _collector_paused():
            with store.released(settings.db_path):
                validated = fetch_and_validate(src, progress)
            if progress is not None:
                progress("Writing to the local database…")
            with store.write_transaction(
                settings.db_path, lock_timeout=settings.lock_timeout
            ) as con:
                run_id = load(
                    con,
                    validated,
                    source=src.name,
                    started_at=started_at,
                    requests=src.request_count,
                    fetched_from=fetched_from,
                    table_ids=table_ids,
                )
    except DatabaseSettingError:
        raise  # SALES_DB is wrong: there is no database to record the failed run in
    except Exception as exc:
        if isinstance(exc, SalesError):
            message = without_userinfo(str(exc))
        else:
            message = f"Unexpected error {type(exc).__name__}: {without_userinfo(str(exc))[:300]}"
        requests = src.request_count if src is not None else 0
        name = source_name or settings.source_name
        if isinstance(exc, StoreBusyError):
            message += " Nothing was written."
        _record_failure(settings, name, started_at, requests, message)
        raise SyncError(
            f"Sync from {name} failed: {message} The previous data is unchanged."
        ) from exc
    finished = store.utcnow()
    return SyncResult(
        run_id=run_id,
        source=src.name,
        status="ok",
        started_at=started_at,
        finished_at=finished,
        counts={k: len(v) for k, v in validated.rows.items()},
        rejected=validated.rejected,
        warnings=validated.warnings,
        requests=src.request_count,
        pushed_assessments=pushed.pushed,
        push_error=pushed.error,
        missing_tables=list(validated.missing_tables),
    )
