"""The outbox: everything this app writes to AirTable, with one state model and one push.

Each row that AirTable must hear of carries the outbox columns on its own table (`push_state`,
`revision`, `airtable_id`, `pushed_at`, `push_error`), so that a change and its place in the
queue are one UPDATE in one transaction. `QUEUES` names those tables: the invoices made here,
the MANIAC-T assessments saved here, the payments recorded on invoices synced from AirTable,
and the credit notes made here.

- A change sets `push_state` 'pending' and increments `revision` (`QUEUED`).
- Most queues upsert on their key; one (`SYNCED_INVOICES`) updates records AirTable made, by id.
- A push claims the revisions it read ('sending'), upserts them on their key 10 at a time, and
  marks each chunk 'pushed' as AirTable confirms it, but only the revision it sent: a row
  changed meanwhile stays 'pending' and goes out next time.
- A failure (network, 429 beyond the retries, 5xx) puts the rest back to 'pending' with the
  reason. A crash between AirTable's write and ours leaves rows 'sending': the next push reads
  the keys back from AirTable to learn their record ids first. Every write is an upsert on the
  key, so sending twice still leaves one AirTable record per key.

A push is always an explicit step of its caller (the Push button, `invoices push`, a save, or
the sync, which pushes assessments first and reports it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sales_core import store
from sales_core.config import Settings, without_userinfo
from sales_core.errors import SalesError
from sales_core.vocabulary import PushState

if TYPE_CHECKING:  # the AirTable boundary (pyairtable) is imported only by a push
    from sales_core.airtable import AirtableSource


@dataclass(frozen=True)
class Queue:
    """One kind of record written to AirTable: its local table, key and AirTable table."""

    name: str  # what the counts and messages call it
    table: str  # the local table carrying the outbox columns
    key: str  # its key column, also the product field AirTable upserts on
    airtable_table: str  # the product table key of the AirTable boundary
    order: str  # the order rows are sent in
    # Rows change records AirTable made (the key is the record id): updated by id, never
    # created, and sending one again is harmless.
    by_record_id: bool = False


INVOICES = Queue("invoices", "generated_invoices", "invoice_key", "invoices", "number")
ASSESSMENTS = Queue(
    "assessments", "assessments", "assessment_key", "qualifications", "saved_at, assessment_key"
)
# Payments recorded here on invoices synced from AirTable: their record's new state.
SYNCED_INVOICES = Queue(
    "synced invoices", "synced_invoice_changes", "airtable_id", "invoices", "number", True
)
# Credit notes made here: rows of AirTable's Invoices table (ACCRECCREDIT), upserted on their key.
CREDIT_NOTES = Queue("credit notes", "credit_notes", "invoice_key", "invoices", "number")
QUEUES = (INVOICES, ASSESSMENTS, SYNCED_INVOICES, CREDIT_NOTES)

# The SET clause of any change that AirTable must hear of (bind `$pending`, through the
# vocabulary of store.execute).
QUEUED = "push_state = $pending, revision = revision + 1"


@dataclass(frozen=True)
class PushOutcome:
    """What one push did."""

    attempted: int = 0
    pushed: int = 0
    pending: int = 0  # still waiting afterwards (also rows changed during the push)
    reconciled: int = 0  # record ids learnt from AirTable after an interrupted push
    error: str | None = None
    held: int = 0  # waiting for a person to settle a conflict

    def plus(self, other: PushOutcome) -> PushOutcome:
        """Two pushes as one outcome (the first error stands)."""
        return PushOutcome(
            attempted=self.attempted + other.attempted,
            pushed=self.pushed + other.pushed,
            pending=self.pending + other.pending,
            reconciled=self.reconciled + other.reconciled,
            error=self.error or other.error,
            held=self.held + other.held,
        )

    @property
    def failed(self) -> int:
        """How many of those attempted are still waiting."""
        return self.attempted - self.pushed


def pending_count(con: store.Connection, queue: Queue) -> int:
    """How many rows of `queue` AirTable has not confirmed (new, changed, or in flight)."""
    sql = f"SELECT count(*) FROM {queue.table} WHERE push_state <> $pushed"
    return int(store.execute(con, sql).fetchall()[0][0])


def pending_counts(con: store.Connection) -> dict[str, int]:
    """`pending_count` of every queue, by name."""
    return {queue.name: pending_count(con, queue) for queue in QUEUES}


def pending_rows(con: store.Connection, queue: Queue) -> list[dict[str, Any]]:
    sql = f"SELECT * FROM {queue.table} WHERE push_state <> $pushed ORDER BY {queue.order}"
    return store.query(con, sql)


# One push per queue at a time in this process: two pushes of the same rows would send
# everything twice and take each other's in-flight rows for leftovers of a crash.
_locks = {queue.name: threading.Lock() for queue in QUEUES}

Fields = Callable[[dict[str, Any]], dict[str, Any]]
Audit = Callable[[store.Connection, list[dict[str, Any]], str | None, int], None]
# Before sending: key -> why a row must wait (a conflict for a person), given the rows to send.
Hold = Callable[["AirtableSource", list[dict[str, Any]]], dict[str, str]]
# After AirTable confirmed a chunk: the fields it now holds, by key (in the confirming
# transaction).
Confirmed = Callable[[store.Connection, dict[str, dict[str, Any]]], None]


@dataclass(frozen=True)
class Hooks:
    """What a queue adds to the push: its audit line, a check before sending, and what to
    record of a confirmed chunk."""

    audit: Audit | None = None
    hold: Hold | None = None
    confirmed: Confirmed | None = None


def push(
    settings: Settings,
    queue: Queue,
    fields: Fields,
    *,
    source: AirtableSource | None = None,
    hooks: Hooks = Hooks(),
    progress: Callable[[str], None] | None = None,
) -> PushOutcome:
    """Send every row of `queue` AirTable has not confirmed; never raises for AirTable faults.

    `fields` turns a local row into the AirTable fields to send (product names). `hooks.audit`,
    if given, records the push inside the closing transaction: (connection, rows sent, error,
    reconciled). Rows `hooks.hold` names stay pending with its reason as their push error.
    """
    with _locks[queue.name]:
        return _push(settings, queue, fields, source=source, hooks=hooks, progress=progress)


def _set_airtable_ids(con: store.Connection, queue: Queue, ids: dict[str, str]) -> None:
    for key, record_id in ids.items():
        con.execute(
            f"UPDATE {queue.table} SET airtable_id = ? WHERE {queue.key} = ?", [record_id, key]
        )


def _confirm(
    settings: Settings,
    queue: Queue,
    confirmed: dict[str, str],
    revisions: dict[str, int],
    sent: dict[str, dict[str, Any]],
    hook: Confirmed | None,
) -> set[str]:
    """Record AirTable's confirmation of a chunk: only the revision that was sent is 'pushed'.

    Returns the keys that became 'pushed' (a row changed meanwhile stays 'pending').
    """
    done: set[str] = set()
    with store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        now = store.utcnow(precise=True)  # a sync compares it with when it began to read
        for key in confirmed:
            done.update(
                row[0]
                for row in store.execute(
                    con,
                    f"UPDATE {queue.table} SET push_state = $pushed, pushed_at = $now, "
                    f"push_error = NULL WHERE {queue.key} = $key AND revision = $revision "
                    f"AND push_state = $sending RETURNING {queue.key}",
                    {"now": now, "key": key, "revision": revisions.get(key)},
                ).fetchall()
            )
        _set_airtable_ids(con, queue, confirmed)
        if hook is not None:
            hook(con, {key: sent[key] for key in confirmed if key in sent})
        store.bump_data_version(con)
    return done


def _push(
    settings: Settings,
    queue: Queue,
    fields: Fields,
    *,
    source: AirtableSource | None,
    hooks: Hooks,
    progress: Callable[[str], None] | None,
) -> PushOutcome:
    timeout = settings.lock_timeout
    with store.connect(settings.db_path, lock_timeout=timeout) as con:
        rows = pending_rows(con, queue)
    if not rows:
        return PushOutcome()
    if not settings.airtable_configured:
        return PushOutcome(pending=len(rows), error="AirTable is not configured.")
    if progress is not None:
        progress(f"Sending {len(rows)} {queue.name} to AirTable…")
    if source is None:
        from sales_core.airtable import AirtableSource

        source = AirtableSource(settings)
    base = source
    in_doubt = [
        r[queue.key]
        for r in rows
        if r["push_state"] == PushState.SENDING and not queue.by_record_id
    ]
    revisions = {r[queue.key]: int(r["revision"] or 0) for r in rows}
    pushed: set[str] = set()
    claimed: set[str] = set()
    reconciled = 0
    sent: dict[str, dict[str, Any]] = {}
    held: dict[str, str] = {}

    def on_chunk(confirmed: dict[str, str]) -> None:
        pushed.update(_confirm(settings, queue, confirmed, revisions, sent, hooks.confirmed))

    error: str | None = None
    # AirTable's answers can take seconds: the file is not held meanwhile (store.released).
    with store.released(settings.db_path):
        try:
            if in_doubt:
                # A push stopped between AirTable's write and ours: learn what AirTable holds.
                known = base.ids_by_key(queue.airtable_table, queue.key)
                found = {key: known[key][0] for key in in_doubt if key in known}
                reconciled = len(found)
                if found:
                    with store.write_transaction(settings.db_path, lock_timeout=timeout) as con:
                        _set_airtable_ids(con, queue, found)
                    for row in rows:  # what is sent next knows the record exists
                        if row[queue.key] in found:
                            row["airtable_id"] = found[row[queue.key]]
            if hooks.hold is not None:
                held = {k: why for k, why in hooks.hold(base, rows).items() if k in revisions}
            with store.write_transaction(settings.db_path, lock_timeout=timeout) as con:
                # Claim exactly the revisions read above. A row changed since (here, or by a sync
                # adopting AirTable's state) is not claimed, and not sent with its old content.
                for key, revision in revisions.items():
                    if key in held:
                        continue
                    claimed.update(
                        row[0]
                        for row in store.execute(
                            con,
                            f"UPDATE {queue.table} SET push_state = $sending "
                            f"WHERE {queue.key} = $key "
                            f"AND revision = $revision AND push_state <> $pushed "
                            f"RETURNING {queue.key}",
                            {"key": key, "revision": revision},
                        ).fetchall()
                    )
            sent.update({r[queue.key]: fields(r) for r in rows if r[queue.key] in claimed})
            sending = list(sent.values())
            if sending and queue.by_record_id:
                base.update_by_id(queue.airtable_table, sending, queue.key, on_chunk)
            elif sending:
                base.upsert_by_key(queue.airtable_table, sending, queue.key, on_chunk)
        except Exception as exc:  # a push never fails its caller: the rows wait for the next one
            text = without_userinfo(str(exc))
            error = (
                text
                if isinstance(exc, SalesError)
                else f"Unexpected error {type(exc).__name__}: {text[:300]}"
            )
    with store.write_transaction(settings.db_path, lock_timeout=timeout) as con:
        for key, why in held.items():
            store.execute(
                con,
                f"UPDATE {queue.table} SET push_error = $why WHERE {queue.key} = $key "
                f"AND push_state <> $pushed",
                {"why": why, "key": key},
            )
        if error is not None:
            store.execute(
                con,
                f"UPDATE {queue.table} SET push_state = $pending, push_error = $error "
                f"WHERE push_state = $sending AND {queue.key} IN (SELECT unnest($keys))",
                {"error": error, "keys": list(revisions)},
            )
        if hooks.audit is not None:
            hooks.audit(con, [r for r in rows if r[queue.key] in pushed], error, reconciled)
        remaining = pending_count(con, queue)
        store.bump_data_version(con)
    return PushOutcome(
        attempted=len(claimed),
        pushed=len(pushed),
        pending=remaining,
        reconciled=reconciled,
        error=error,
        held=len(held),
    )
