"""Writing generated invoices back to AirTable: upsert on `Invoice Key`, never a second row.

Each invoice has a push state: 'pending' (new, or changed since it was sent), 'sending' (a push
started) and 'pushed'. A push marks its invoices 'sending', upserts them 10 at a time, and marks
each chunk 'pushed' as AirTable confirms it. A failure (network, 429 beyond the retries, 5xx)
puts the rest back to 'pending' with the reason. A crash between AirTable's write and ours
leaves rows in 'sending': the next push reads the keys back from AirTable to learn their record
ids before sending again. Since every write is an upsert on the key, sending twice still leaves
exactly one row per key.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sales_core import ledger, store
from sales_core.access import Actor, require
from sales_core.airtable import AirtableSource
from sales_core.config import Settings
from sales_core.errors import AirtableError


@dataclass(frozen=True)
class PushOutcome:
    """What one push did."""

    pushed: int
    pending: int
    reconciled: int = 0
    error: str | None = None


_PENDING_SQL = """
SELECT invoice_key, number, contract_id, period_start, period_end, issue_date, due_date,
       amount, currency, status, paid_date, push_state, revision
FROM generated_invoices
WHERE push_state <> $pushed
ORDER BY number
"""


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "number": row["number"],
        "invoice_key": row["invoice_key"],
        "contract_ids": [row["contract_id"]],
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        "issue_date": row["issue_date"],
        "due_date": row["due_date"],
        "amount": row["amount"],
        "currency": row["currency"],
        "status": row["status"],
        "type": "ACCREC",
    }
    if row["paid_date"] is not None:
        fields["paid_date"] = row["paid_date"]
    return fields


def _mark_pushed(settings: Settings, confirmed: dict[str, str], revisions: dict[str, int]) -> None:
    """Record AirTable's confirmation of a chunk.

    Only the revision that was sent becomes 'pushed'; a row changed meanwhile has a newer
    revision and stays 'pending' (a change sets that), so the next push sends the change.
    """
    with store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        now = store.utcnow()
        for key, record_id in confirmed.items():
            store.execute(
                con,
                "UPDATE generated_invoices SET push_state = $pushed, airtable_id = $id, "
                "pushed_at = $now, push_error = NULL "
                "WHERE invoice_key = $key AND revision = $revision AND push_state = $sending",
                {"id": record_id, "now": now, "key": key, "revision": revisions.get(key)},
            )
            con.execute(
                "UPDATE generated_invoices SET airtable_id = ? WHERE invoice_key = ?",
                [record_id, key],
            )


# One push at a time in this process: two pushes of the same rows would send everything twice
# and take each other's in-flight rows for leftovers of a crash.
_push_lock = threading.Lock()


def push_pending(
    settings: Settings, *, actor: Actor, source: AirtableSource | None = None
) -> PushOutcome:
    """Send every generated invoice AirTable has not confirmed; never raises for AirTable faults.

    Returns how many were confirmed, how many stay pending, and the failure in words if any.
    Raises AccessDenied (nothing sent or written) unless `actor` is a biller.
    """
    require(actor, "biller", "push invoices to AirTable")
    with _push_lock:
        return _push_pending(settings, actor=actor, source=source)


def _push_pending(
    settings: Settings, *, actor: Actor, source: AirtableSource | None
) -> PushOutcome:
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = store.query(con, _PENDING_SQL)
    if not rows:
        return PushOutcome(pushed=0, pending=0)
    if not settings.airtable_configured:
        return PushOutcome(pushed=0, pending=len(rows), error="AirTable is not configured.")
    base = source or AirtableSource(settings)
    in_doubt = [r["invoice_key"] for r in rows if r["push_state"] == "sending"]
    reconciled = 0
    revisions = {r["invoice_key"]: int(r["revision"] or 0) for r in rows}
    pushed: dict[str, str] = {}

    def on_chunk(confirmed: dict[str, str]) -> None:
        _mark_pushed(settings, confirmed, revisions)
        pushed.update(confirmed)

    error: str | None = None
    try:
        if in_doubt:
            # A push stopped between AirTable's write and ours: learn what AirTable holds.
            known = base.ids_by_key("invoices", "invoice_key")
            found = {key: known[key][0] for key in in_doubt if key in known}
            reconciled = len(found)
            if found:
                with store.write_transaction(
                    settings.db_path, lock_timeout=settings.lock_timeout
                ) as con:
                    for key, record_id in found.items():
                        con.execute(
                            "UPDATE generated_invoices SET airtable_id = ? WHERE invoice_key = ?",
                            [record_id, key],
                        )
        with store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con:
            # Claim exactly the revisions read above; a row changed since stays 'pending'.
            for key, revision in revisions.items():
                store.execute(
                    con,
                    "UPDATE generated_invoices SET push_state = $sending "
                    "WHERE invoice_key = $key AND revision = $revision AND push_state <> $pushed",
                    {"key": key, "revision": revision},
                )
        base.upsert_by_key("invoices", [_fields(r) for r in rows], "invoice_key", on_chunk)
    except AirtableError as exc:
        error = str(exc)
    with store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        if error is not None:
            store.execute(
                con,
                "UPDATE generated_invoices SET push_state = $pending, push_error = $error "
                "WHERE push_state = $sending AND list_contains($keys, invoice_key)",
                {"error": error, "keys": list(revisions)},
            )
        numbers = [r["number"] for r in rows if r["invoice_key"] in pushed]
        con.execute(
            "INSERT INTO audit_log (logged_at, actor, action, month, invoice_numbers, detail) "
            "VALUES (?, ?, 'push', NULL, ?, ?)",
            [
                store.utcnow(),
                actor.label,
                numbers,
                f"{len(numbers)} sent"
                + (f"; failed: {error}" if error else "")
                + (f"; {reconciled} reconciled" if reconciled else ""),
            ],
        )
        remaining = ledger.pending_in(con)
    return PushOutcome(
        pushed=len(pushed), pending=int(remaining), reconciled=reconciled, error=error
    )
