"""Invoices made here that AirTable also holds: what each side changed, and who wins.

Each invoice made here remembers the last state both sides agreed on (`airtable_seen`: the
AirTable fields as its last push or sync left them). Against that state:

- a push sends only the fields changed here since (the fields this app owns: status, paid date,
  void reason), plus the key; the document fields (number, contract, period, dates, amount,
  currency, type) go out once, with the push that creates the record;
- a sync takes every field changed only in AirTable that people may change there: the due date,
  and the state when the state diagram allows the move (also in several steps, and also when
  both sides moved and AirTable went further along it);
- a field changed on both sides to different values, a step back, or a document field changed in
  AirTable is a conflict: it is listed (`invoice_conflicts`, on Data health and the Invoices
  page), the invoice's push is held, and neither side is overwritten until a person resolves it.
  A push also reads AirTable's current values of the fields it is about to send, so an edit
  made there after the last sync is a conflict too, never overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from sales_core import store
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.invoice import reachable
from sales_core.vocabulary import InvoiceType, PushState

if TYPE_CHECKING:
    from sales_core.access import Actor
    from sales_core.airtable import AirtableSource

# The fields this app changes after an invoice is created: its state.
STATE = ("status", "paid_date", "void_reason")
# Fields people may change in AirTable that this app never changes: taken by each sync.
TAKEN = ("due_date",)
# The document: written by the run, sent once; a change in AirTable is listed, never taken.
DOCUMENT = (
    "number",
    "contract_ids",
    "period_start",
    "period_end",
    "issue_date",
    "amount",
    "currency",
    "type",
)
TRACKED = STATE + TAKEN + DOCUMENT

# What people call each field (AirTable's default names).
LABELS = {
    "status": "Status",
    "paid_date": "Paid Date",
    "void_reason": "Void Reason",
    "due_date": "Due Date",
    "number": "Invoice Number",
    "contract_ids": "Contract",
    "period_start": "Period Start",
    "period_end": "Period End",
    "issue_date": "Issue Date",
    "amount": "Amount",
    "currency": "Currency",
    "type": "Type",
}

Plain = str | list[str] | None
State = dict[str, Plain]


def plain(value: Any) -> Plain:
    """A field's value in one comparable form, whichever side it came from.

    AirTable sends dates as ISO text, amounts as numbers and drops empty values; the store has
    dates, Decimals and NULLs. Both become the same text (or list of text), empty as None.
    """
    if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
        return None
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (Decimal, int, float)):
        return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value)


def local_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Every tracked field of a `generated_invoices` row, by product attribute name."""
    return {
        "status": row["status"],
        "paid_date": row["paid_date"],
        "void_reason": row.get("void_reason"),
        "due_date": row["due_date"],
        "number": row["number"],
        "contract_ids": [row["contract_id"]],
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        "issue_date": row["issue_date"],
        "amount": row["amount"],
        "currency": row["currency"],
        "type": InvoiceType.RECEIVABLE.value,
    }


def seen_state(row: dict[str, Any]) -> State | None:
    raw = row.get("airtable_seen")
    return None if raw is None else dict(json.loads(raw))


def _plain_state(fields: dict[str, Any]) -> State:
    return {name: plain(fields.get(name)) for name in TRACKED}


def agreed(row: dict[str, Any], there: State | None = None) -> State:
    """The last state both sides agreed on.

    An invoice pushed before this was recorded has none: its document is taken as agreed, and
    its state as agreed if it was pushed as it is (else, if AirTable's is known, that one: the
    change here is then the newer one).
    """
    seen = seen_state(row)
    if seen is not None:
        return seen
    here = _plain_state(local_fields(row))
    if row["push_state"] != PushState.PUSHED and there is not None:
        return here | {name: there[name] for name in STATE}
    return here


def to_send(row: dict[str, Any]) -> dict[str, Any]:
    """The fields a push sends for one invoice: all of them to create it, then only the key and
    the fields changed here since the last agreed state."""
    fields = local_fields(row)
    if row.get("airtable_id") is None and row.get("airtable_seen") is None:
        # Creating the record: every field that has a value (an optional field left empty is
        # not named, so a base without it still takes the invoice).
        present = {n: v for n, v in fields.items() if plain(v) is not None}
        return {"invoice_key": row["invoice_key"], **present}
    if row.get("airtable_seen") is None:  # pushed before the agreed state was recorded
        changed = dict.fromkeys(STATE)
    else:
        base = agreed(row)
        changed = {n: None for n in TRACKED if plain(fields[n]) != base.get(n)}
    return {"invoice_key": row["invoice_key"]} | {n: fields[n] for n in changed}


@dataclass(frozen=True)
class Conflict:
    """One field of one invoice that a person must settle."""

    invoice_key: str
    number: str
    airtable_id: str | None
    field: str
    here: Plain
    there: Plain
    problem: str


def _shown(value: Plain) -> str:
    if value is None:
        return "(empty)"
    return ", ".join(value) if isinstance(value, list) else value


def _why_both(number: str, field: str, here: Plain, there: Plain) -> str:
    return (
        f"{number}: {LABELS[field]} was changed on both sides since the last sync: "
        f"{_shown(here)} here, {_shown(there)} in AirTable. Neither is overwritten; "
        f"choose which one stands."
    )


def _why_document(number: str, field: str, here: Plain, there: Plain) -> str:
    return (
        f"{number}: {LABELS[field]} was changed in AirTable ({_shown(there)}; "
        f"{_shown(here)} here). It is part of the invoice as billed and is not taken: put it "
        f"back in AirTable, write this app's value back, or void the invoice and bill again."
    )


@dataclass(frozen=True)
class Decision:
    """What a sync does with one invoice made here."""

    take: dict[str, Plain]  # fields to take from AirTable
    conflicts: list[Conflict]
    seen: State  # the agreed state afterwards
    dropped: str | None = None  # a change here that AirTable's later state replaces


def decide(row: dict[str, Any], there: State, airtable_id: str | None) -> Decision:
    """Compare one invoice made here with its AirTable row, as of the last agreed state."""
    here = _plain_state(local_fields(row))
    base = agreed(row, there)
    number, key = row["number"], row["invoice_key"]
    take: dict[str, Plain] = {}
    conflicts: list[Conflict] = []

    def conflict(field: str, why: str) -> None:
        conflicts.append(Conflict(key, number, airtable_id, field, here[field], there[field], why))

    for field in TAKEN:
        if there[field] != base.get(field) and there[field] != here[field]:
            take[field] = there[field]
    for field in DOCUMENT:
        if there[field] != base.get(field) and there[field] != here[field]:
            conflict(field, _why_document(number, field, here[field], there[field]))

    dropped = None
    moved_there = any(there[f] != base.get(f) for f in STATE)
    moved_here = any(here[f] != base.get(f) for f in STATE)
    differs = [f for f in STATE if there[f] != here[f]]
    if moved_there and differs:
        h, t = str(here["status"]), str(there["status"])
        if not moved_here and (h == t or reachable(h, t)):
            take.update({f: there[f] for f in STATE})
        elif moved_here and h != t and reachable(h, t):
            # Both moved, and AirTable went further along the same path: its state stands.
            take.update({f: there[f] for f in STATE})
            dropped = f"the change here to {h}, not yet in AirTable, is dropped"
        elif not moved_here:
            why = (
                f"{number} is {h} here and {t} in AirTable: a step back is not taken; "
                f"put AirTable's Status back, or void and bill again."
            )
            conflict("status", why)
        else:
            for field in differs:
                conflict(field, _why_both(number, field, here[field], there[field]))

    held = {c.field for c in conflicts}
    seen = {f: (base.get(f) if f in held else there[f]) for f in TRACKED}
    return Decision(take, conflicts, seen, dropped)


# Invoices made here and the AirTable row with the same key, as the sync just stored it.
_PAIRS_SQL = """
SELECT g.*, i.id AS there_id, i.number AS there_number, i.contract_ids AS there_contract_ids,
       i.period_start AS there_period_start, i.period_end AS there_period_end,
       i.issue_date AS there_issue_date, i.due_date AS there_due_date,
       i.amount AS there_amount, i.currency AS there_currency, i.status AS there_status,
       i.paid_date AS there_paid_date, i.void_reason AS there_void_reason, i.type AS there_type
FROM generated_invoices AS g
JOIN invoices AS i ON i.invoice_key = g.invoice_key
ORDER BY g.number
"""

_CONFLICT_INSERT = (
    "INSERT OR REPLACE INTO invoice_conflicts (invoice_key, number, airtable_id, field, here, "
    "there, problem, found_by, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _insert_conflicts(con: store.Connection, conflicts: list[Conflict], found_by: str) -> None:
    now = store.utcnow()
    for c in conflicts:
        con.execute(
            _CONFLICT_INSERT,
            [
                c.invoice_key,
                c.number,
                c.airtable_id,
                c.field,
                json.dumps(c.here),
                json.dumps(c.there),
                c.problem,
                found_by,
                now,
            ],
        )


@dataclass(frozen=True)
class Adoption:
    """What a sync took from AirTable for the invoices made here, and what it left to people."""

    adopted: list[str]
    conflicts: list[Conflict]


def adopt_airtable_changes(con: store.Connection) -> Adoption:
    """After a sync, inside its transaction: take what AirTable changed for the invoices made
    here, record the agreed state, and list the conflicts afresh."""
    from sales_core.ledger import audit

    adopted: list[str] = []
    found: list[Conflict] = []
    con.execute("DELETE FROM invoice_conflicts")
    for row in store.query(con, _PAIRS_SQL):
        there = {f: plain(row[f"there_{f}"]) for f in TRACKED}
        decision = decide(row, there, row["there_id"])
        found.extend(decision.conflicts)
        changes: dict[str, Any] = {f: _stored(f, v) for f, v in decision.take.items()}
        after = row | changes
        nothing_to_send = len(to_send(after | {"airtable_seen": json.dumps(decision.seen)})) == 1
        state = PushState.PUSHED if nothing_to_send else PushState.PENDING
        unchanged = (
            not changes
            and decision.seen == seen_state(row)
            and row["airtable_id"] == row["there_id"]
            and row["push_state"] in (state, PushState.SENDING)
        )
        if unchanged:  # most invoices, most syncs: nothing to write
            continue
        assignments = ", ".join(f"{f} = ${f}" for f in changes)
        bump = ", revision = revision + 1, updated_at = $now" if changes else ""
        store.execute(
            con,
            f"UPDATE generated_invoices SET airtable_seen = $seen, airtable_id = $id, "
            f"push_state = CASE WHEN push_state = $sending THEN push_state ELSE $state END, "
            f"push_error = CASE WHEN $state = $pushed THEN NULL ELSE push_error END"
            f"{', ' + assignments if assignments else ''}{bump} WHERE invoice_key = $key",
            {
                "seen": json.dumps(decision.seen),
                "id": row["there_id"],
                "state": state,
                "key": row["invoice_key"],
                "now": store.utcnow(),
                **changes,
            },
        )
        if changes:
            detail = "; ".join(
                f"{LABELS[f]} {_shown(v)} from AirTable" for f, v in decision.take.items()
            )
            if decision.dropped:
                detail += f"; {decision.dropped}"
            audit(con, "AirTable (sync)", "adopt", [row["number"]], detail=detail)
            adopted.append(row["number"])
    _insert_conflicts(con, found, "sync")
    return Adoption(adopted, found)


def _stored(field: str, value: Plain) -> Any:
    """A plain value back in the store's type."""
    if value is None:
        return None
    if field in ("due_date", "paid_date", "period_start", "period_end", "issue_date"):
        return date.fromisoformat(str(value))
    return value


def held_keys(con: store.Connection) -> dict[str, str]:
    """Invoice key -> why its push waits for a person (an open conflict)."""
    rows = con.execute(
        "SELECT invoice_key, string_agg(problem, ' ' ORDER BY field) FROM invoice_conflicts "
        "GROUP BY invoice_key"
    ).fetchall()
    return {key: f"Waits for a person: {why}" for key, why in rows}


def check_before_push(
    settings: Settings, source: AirtableSource, rows: list[dict[str, Any]]
) -> dict[str, str]:
    """The invoices not to send now, with why: an open conflict, or a field about to be sent
    that AirTable changed since the last agreed state (recorded as a conflict)."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        held = held_keys(con)
    updates = {
        r["invoice_key"]: r
        for r in rows
        if r["invoice_key"] not in held and r.get("airtable_seen") is not None
    }
    sending = {k: [f for f in to_send(r) if f in TRACKED] for k, r in updates.items()}
    names = sorted({f for fields in sending.values() for f in fields})
    if not names:
        return held
    current = source.fields_by_key("invoices", "invoice_key", names)
    found: list[Conflict] = []
    for key, fields in sending.items():
        if key not in current:
            continue  # deleted in AirTable: the upsert creates it again
        record_id, values = current[key]
        base = agreed(updates[key])
        here = _plain_state(local_fields(updates[key]))
        for field in fields:
            there = plain(values.get(field))
            if there != base.get(field) and there != here[field]:
                why = _why_both(updates[key]["number"], field, here[field], there)
                found.append(
                    Conflict(key, updates[key]["number"], record_id, field, here[field], there, why)
                )
    if found:
        with store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con:
            _insert_conflicts(con, found, "push")
        for c in found:
            held[c.invoice_key] = f"Waits for a person: {c.problem}"
    return held


def confirmed(con: store.Connection, sent: dict[str, dict[str, Any]]) -> None:
    """After AirTable confirmed a chunk: what was sent is now agreed (inside the caller's
    transaction)."""
    for key, fields in sent.items():
        rows = store.query(con, "SELECT * FROM generated_invoices WHERE invoice_key = ?", [key])
        if not rows:
            continue
        base = agreed(rows[0]) if rows[0]["airtable_seen"] is not None else {}
        seen = {f: base.get(f) for f in TRACKED} | {
            f: plain(v) for f, v in fields.items() if f in TRACKED
        }
        con.execute(
            "UPDATE generated_invoices SET airtable_seen = ? WHERE invoice_key = ?",
            [json.dumps(seen), key],
        )


def conflicts(settings: Settings) -> pd.DataFrame:
    """The open conflicts, oldest invoice first: what a person must settle."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        frame = con.execute(
            "SELECT number, field, here, there, problem, found_by, found_at, airtable_id, "
            "invoice_key FROM invoice_conflicts ORDER BY number, field"
        ).df()
    for column in ("here", "there"):
        frame[column] = [_shown(json.loads(v)) for v in frame[column]]
    frame["field"] = [LABELS.get(f, f) for f in frame["field"]]
    return frame


def resolve(settings: Settings, number: str, keep: str, *, actor: Actor) -> None:
    """Settle every conflict of one invoice: keep AirTable's values (`airtable`) or this app's
    (`here`, written to AirTable by the next push).

    Raises BillingError in words when there is nothing to settle, or AirTable's value cannot be
    taken (a document field: the invoice as billed), and AccessDenied unless a biller.
    """
    from sales_core.access import require
    from sales_core.ledger import audit, write_lock

    require(actor, "biller", f"settle the conflicts of invoice {number}")
    if keep not in ("airtable", "here"):
        raise BillingError("Choose whose values stand: 'airtable' or 'here'.")
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        found = store.query(
            con, "SELECT * FROM invoice_conflicts WHERE number = ? ORDER BY field", [number]
        )
        if not found:
            raise BillingError(f"Invoice {number} has no conflict with AirTable.")
        [row] = store.query(con, "SELECT * FROM generated_invoices WHERE number = ?", [number])
        seen = agreed(row)
        fields = [c["field"] for c in found]
        if keep == "airtable":
            fixed = [LABELS[f] for f in fields if f in DOCUMENT]
            if fixed:
                raise BillingError(
                    f"{number}: {', '.join(fixed)} cannot be taken from AirTable, it is the "
                    f"invoice as billed. Put it back in AirTable, keep this app's value, or void "
                    f"the invoice and bill again."
                )
            values = {c["field"]: json.loads(c["there"]) for c in found}
            if set(values) & set(STATE):  # a state is taken whole, as AirTable last showed it
                synced = store.query(
                    con, "SELECT * FROM invoices WHERE invoice_key = ?", [row["invoice_key"]]
                )
                whole = {f: plain(synced[0][f]) for f in STATE} if synced else {}
                values = whole | values
            changes = {f: _stored(f, v) for f, v in values.items()}
            seen |= values
            assignments = ", ".join(f"{f} = ${f}" for f in changes)
            store.execute(
                con,
                f"UPDATE generated_invoices SET {assignments}, airtable_seen = $seen, "
                f"updated_at = $now, revision = revision + 1 WHERE number = $number",
                {"seen": json.dumps(seen), "now": store.utcnow(), "number": number, **changes},
            )
        else:
            # AirTable's current value becomes the agreed one, so the push sends ours over it.
            seen |= {c["field"]: json.loads(c["there"]) for c in found}
            store.execute(
                con,
                "UPDATE generated_invoices SET airtable_seen = $seen, updated_at = $now, "
                "push_state = $pending, revision = revision + 1 WHERE number = $number",
                {"seen": json.dumps(seen), "now": store.utcnow(), "number": number},
            )
        [after] = store.query(con, "SELECT * FROM generated_invoices WHERE number = ?", [number])
        state = PushState.PUSHED if len(to_send(after)) == 1 else PushState.PENDING
        store.execute(
            con,
            "UPDATE generated_invoices SET push_state = $state, push_error = NULL "
            "WHERE number = $number",
            {"state": state, "number": number},
        )
        con.execute("DELETE FROM invoice_conflicts WHERE number = ?", [number])
        shown = ", ".join(LABELS[f] for f in fields)
        whose = "AirTable's" if keep == "airtable" else "this app's"
        audit(con, actor.label, "resolve", [number], detail=f"{shown}: {whose} value kept")
        store.bump_data_version(con)
